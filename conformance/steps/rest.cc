// The REST family: how `rest` steps are read (one data-plane operation of PROTOCOL.md §11.2 each,
// plus `request`, sent verbatim, with their inline HTTP checks) and run (paging included), and
// how the http_status expectation is judged.
#include "conformance/steps/rest.h"

#include <algorithm>
#include <cctype>

#include "base/encoding.h"
#include "conformance/driver.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/auth.h"
#include "conformance/yaml_json.h"
#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/rest/router.h"

namespace wpsim::conformance::shape {
namespace {

// The REST operations: name, op, keys that must be present, keys that may be present.
// "body" is satisfied by body or body_raw; "connection" by connection or connection_id.
struct RestOpInfo {
  std::string_view name;
  RestOp op;
  Keys required;
  Keys optional;
};
const std::vector<RestOpInfo> kRestOps = {
    {"health", RestOp::kGetServiceStatus, {}, {}},
    {"send_to_all",
     RestOp::kSendToAll,
     {"body"},
     {"content_type", "message_ttl_seconds", "excluded", "excluded_ids", "filter"}},
    {"close_all_connections",
     RestOp::kCloseAllConnections,
     {},
     {"excluded", "excluded_ids", "reason"}},
    {"generate_token",
     RestOp::kGenerateClientToken,
     {},
     {"user", "roles", "minutes_to_expire", "groups", "client_type"}},
    {"add_to_groups", RestOp::kAddConnectionsToGroups, {"groups"}, {"filter"}},
    {"remove_from_groups", RestOp::kRemoveConnectionsFromGroups, {"groups"}, {"filter"}},
    {"close_connection", RestOp::kCloseConnection, {"connection"}, {"reason"}},
    {"connection_exists", RestOp::kConnectionExists, {"connection"}, {}},
    {"send_to_connection",
     RestOp::kSendToConnection,
     {"connection", "body"},
     {"content_type", "message_ttl_seconds"}},
    {"remove_connection_from_all_groups",
     RestOp::kRemoveConnectionFromAllGroups,
     {"connection"},
     {}},
    {"group_exists", RestOp::kGroupExists, {"group"}, {}},
    {"send_to_group",
     RestOp::kSendToGroup,
     {"group", "body"},
     {"content_type", "message_ttl_seconds", "excluded", "excluded_ids", "filter"}},
    {"close_group_connections",
     RestOp::kCloseGroupConnections,
     {"group"},
     {"excluded", "excluded_ids", "reason"}},
    {"list_connections_in_group",
     RestOp::kListConnectionsInGroup,
     {"group"},
     {"max_page_size", "top", "continuation_token", "all_pages"}},
    {"add_connection_to_group", RestOp::kAddConnectionToGroup, {"group", "connection"}, {}},
    {"remove_connection_from_group",
     RestOp::kRemoveConnectionFromGroup,
     {"group", "connection"},
     {}},
    {"grant_permission", RestOp::kGrantPermission, {"permission", "connection"}, {"target_name"}},
    {"revoke_permission", RestOp::kRevokePermission, {"permission", "connection"}, {"target_name"}},
    {"check_permission", RestOp::kCheckPermission, {"permission", "connection"}, {"target_name"}},
    {"user_exists", RestOp::kUserExists, {"user"}, {}},
    {"send_to_user",
     RestOp::kSendToUser,
     {"user", "body"},
     {"content_type", "message_ttl_seconds", "filter"}},
    {"close_user_connections",
     RestOp::kCloseUserConnections,
     {"user"},
     {"excluded", "excluded_ids", "reason"}},
    {"remove_user_from_all_groups", RestOp::kRemoveUserFromAllGroups, {"user"}, {}},
    {"add_user_to_group", RestOp::kAddUserToGroup, {"user", "group"}, {}},
    {"remove_user_from_group", RestOp::kRemoveUserFromGroup, {"user", "group"}, {}},
    {"request", kRestRequest, {"method", "path"}, {"query", "body", "content_type"}},
};

const std::vector<EnumName<Permission>> kPermissions = {
    {"send_to_group", Permission::kSendToGroup},
    {"join_leave_group", Permission::kJoinLeaveGroup},
    {"sendToGroup", Permission::kSendToGroup},
    {"joinLeaveGroup", Permission::kJoinLeaveGroup}};

const Keys kMethods = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

using S = RestStep;

// The operations' parameters; each operation takes the subset kRestOps names.
const Table<S>& ParamTable() {
  static const Table<S> t = {
      Opt("group", &S::group, TemplateString(), "the group"),
      Opt("groups", &S::groups, StringList(),
          "groups (add_to_groups, remove_from_groups, generate_token)"),
      Opt("user", &S::user, TemplateString(), "the user id"),
      Declared<S>("connection", "client reference", SchemaRef("clientRef"),
                  "one connection, by reference (its id is substituted at run time)"),
      Declared<S>("connection_id", "string", {{"type", "string"}},
                  "a literal connection id (unknown-connection cases)"),
      Opt("excluded", &S::excluded, ClientRefValue(RefOptions{}),
          "connections excluded, by reference"),
      Opt("excluded_ids", &S::excluded_ids, StringList(), "connection ids excluded, literally"),
      Opt("filter", &S::filter, TemplateString(), "OData filter"),
      Opt("message_ttl_seconds", &S::message_ttl_seconds, Integer(0, 1000000), "messageTtlSeconds"),
      Opt("reason", &S::reason, TemplateString(), "close reason"),
      Opt("permission", &S::permission, EnumValue(&kPermissions, "permission"),
          "send_to_group or join_leave_group"),
      Opt("target_name", &S::target_name, TemplateString(), "the permission's target (a group)"),
      Opt("max_page_size", &S::max_page_size, Integer(0, 1000000), "maxPageSize"),
      Opt("top", &S::top, Integer(0, 0xFFFFFFFFull), "top"),
      Opt("continuation_token", &S::continuation_token, String(), "continuationToken"),
      Opt("all_pages", &S::all_pages, Boolean(), "follow nextLink until the end"),
      Opt("roles", &S::roles, StringList(), "generate_token: roles"),
      Opt("minutes_to_expire", &S::minutes_to_expire, Integer(0, 1000000000),
          "generate_token: minutesToExpire"),
      Opt("client_type", &S::client_type, String(), "generate_token: clientType (e.g. mqtt)"),
      Declared<S>("body", "any value", nlohmann::json::object(),
                  "the body; the content type decides its encoding"),
      Declared<S>("body_raw", "string", {{"type", "string"}},
                  "the body verbatim (invalid-JSON cases)"),
      Declared<S>("content_type", "string", {{"type", "string"}},
                  "Content-Type (default application/json)"),
      Custom<S>("method", "HTTP method",
                {{"enum", {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}}},
                "request: the method",
                [](Context& c, const Node& v, S& s) {
                  auto meth = c.Str(v, "method");
                  if (!meth) return;
                  if (Contains(kMethods, *meth)) {
                    s.method = *meth;
                  } else {
                    c.Error(v, "unknown HTTP method " + Q(*meth) + c.Suggest(*meth, kMethods));
                  }
                }),
      Custom<S>("path", "string", {{"type", "string"}, {"pattern", "^/"}},
                "request: the path ({hub} substituted)",
                [](Context& c, const Node& v, S& s) {
                  auto p = c.TemplStr(v, "path");
                  if (!p) return;
                  if (p->empty() || (*p)[0] != '/') {
                    c.Error(v, "path must start with '/', got " + Q(*p));
                  } else {
                    s.path = *p;
                  }
                }),
      Custom<S>("query", "mapping", {{"type", "object"}},
                "request: query parameters (a value may be a list)",
                [](Context& c, const Node& v, S& s) {
                  if (!v.IsMap()) {
                    c.Error(v, "expected a mapping of query names to values, got " + Describe(v));
                    return;
                  }
                  for (auto it = v.begin(); it != v.end(); ++it) {
                    auto k = c.Str(it->first, "query name");
                    if (!k) continue;
                    if (auto vals = c.StrList(it->second, "query value")) {
                      for (const std::string& val : *vals) s.query_params.emplace_back(*k, val);
                    }
                  }
                }),
  };
  return t;
}

// The operation names as a JSON schema enum; `shorthand`: only those written alone
// (`- rest: health`, no required keys).
nlohmann::json OpNames(bool shorthand) {
  nlohmann::json names = nlohmann::json::array();
  for (const RestOpInfo& o : kRestOps) {
    if (!shorthand || o.required.empty()) names.push_back(o.name);
  }
  return {{"enum", names}};
}

using TE = GeneratedTokenExpect;
const Table<TE>& TokenCheckTable() {
  static const Table<TE> t = {
      Opt("user", &TE::user, NullableStringValue(), "`sub` (null: no `sub`)"),
      Opt("roles", &TE::roles, StringList(), "`role`, in order ([]: none)"),
      Opt("groups", &TE::groups, StringList(), "`webpubsub.group`, in order ([]: none)"),
      Opt("lifetime", &TE::lifetime_ns, PositiveDurationValue(), "`exp - iat`, e.g. 60m",
          "token lifetime"),
  };
  return t;
}

// The keys every operation takes.
const Table<S>& CommonTable() {
  static const Table<S> t = {
      Declared<S>("op", "operation name", OpNames(false),
                  "the operation (see the table of operations)", true),
      Declared<S>("client", "client reference", SchemaRef("clientRef"),
                  "the rest client (default: the first one)"),
      Declared<S>("api_version", "string or none", {{"type", "string"}},
                  "api-version (default: the client's; none omits it)"),
      Opt("auth", &S::auth, TokenValue(true), "token options overriding the rest client's"),
      Opt("headers", &S::request_headers, StringMap(), "extra request headers"),
      Declared<S>("expect_status", "status or list", SchemaRef("statusList"),
                  "check: the response status (any of a list)"),
      Declared<S>("expect_body", "any value", nlohmann::json::object(),
                  "check: a JSON subset of the response body"),
      Declared<S>("expect_error_code", "string", {{"type", "string"}}, "check: x-ms-error-code"),
      Declared<S>("expect_token", "mapping", ObjectSchema(DocsOf(TokenCheckTable())),
                  "generate_token check: the returned token verifies with the connection "
                  "string's key for the hub's client audience and carries these claims"),
  };
  return t;
}

const RestOpInfo* FindOp(Context& c, const Node& n) {
  auto name = c.Str(n, "rest operation");
  if (!name) return nullptr;
  for (const RestOpInfo& o : kRestOps) {
    if (o.name == *name) return &o;
  }
  Keys names;
  for (const RestOpInfo& o : kRestOps) names.push_back(o.name);
  std::string hint = c.Suggest(*name, names);
  if (hint.empty()) hint = " (operations: " + JoinKeys(names) + ")";
  c.Error(n, "unknown rest operation " + Q(*name) + hint);
  return nullptr;
}

// The rest client a REST step uses: `client:` or the first declared one, or an implied
// client "server" appended after all declared clients (so no other index moves).
std::optional<uint32_t> RestClient(Context& c, const Map& m) {
  Scenario& sc = c.scenario();
  if (auto v = m.Get("client")) {
    auto ref = c.Ref(*v, RefOptions{.allow_all = false, .single = true, .allow_rest = true});
    if (!ref) return std::nullopt;
    if (!c.CheckKinds(*ref, *v, {ClientKind::kRest}, "a rest step")) return std::nullopt;
    return ref->members[0];
  }
  for (const Client& client : sc.clients) {
    if (client.kind == ClientKind::kRest) return client.first_member;
  }
  if (sc.FindClient("server")) {
    c.Error(
        m.node(),
        "no rest client is declared and the name 'server' is taken; declare one (e.g. api: rest)");
    return std::nullopt;
  }
  Client server;
  server.name = "server";
  server.kind = ClientKind::kRest;
  server.pos = SourcePos{c.file(), 0, 0};
  c.AddClient(std::move(server), static_cast<uint32_t>(sc.clients.size()), false);
  return sc.clients.back().first_member;
}

// Parameters must belong to the operation; required ones must be present.
void CheckParams(Context& c, const Map& m, const RestOpInfo& info) {
  for (const std::string& key : m.PresentKeys()) {
    if (!Contains(KeysOf(ParamTable()), key)) continue;
    std::string canonical = key;
    if (key == "connection_id") canonical = "connection";
    if (key == "body_raw") canonical = "body";
    if (!Contains(info.required, canonical) && !Contains(info.optional, canonical)) {
      c.Error(*m.Key(key), "key " + Q(key) + " does not apply to rest operation " + Q(info.name));
    }
  }
  for (std::string_view req : info.required) {
    bool present = m.Has(req) || (req == "connection" && m.Has("connection_id")) ||
                   (req == "body" && m.Has("body_raw"));
    if (!present) c.Error(m.node(), "rest operation " + Q(info.name) + " needs " + Q(req));
  }
}

// A raw `websocket` client is never told its connection id (no system/connected message), so
// a reference to it cannot name its connection in a REST path or `excluded` (it built
// ".../connections/" before, a 405 that said nothing about the scenario).
bool KnowsItsConnectionId(Context& c, const ClientRef& ref, const Node& at, std::string_view key) {
  for (uint32_t m : ref.members) {
    if (c.scenario().ClientOf(m).kind == ClientKind::kWebSocket) {
      c.Error(at, Q(key) + ": " + Q(c.scenario().members[m].name) +
                      " is a raw websocket client, which never learns its connection id; use a "
                      "json client, or a literal connection_id");
      return false;
    }
  }
  return true;
}

void ReadConnectionAndBody(Context& c, const Map& m, S& s) {
  if (m.Has("connection") && m.Has("connection_id")) {
    c.Error(*m.Key("connection_id"), "give either 'connection' or 'connection_id', not both");
  } else if (auto v = m.Get("connection")) {
    if (auto ref = c.Ref(*v, RefOptions{.single = true})) {
      if (KnowsItsConnectionId(c, *ref, *v, "connection"))
        s.connection = ConnectionTarget{*ref, std::nullopt};
    }
  } else if (auto v2 = m.Get("connection_id")) {
    if (auto id = c.Str(*v2, "connection_id")) s.connection = ConnectionTarget{std::nullopt, *id};
  }
  if (m.Has("body") || m.Has("body_raw")) {
    s.has_body = c.Body(m, s.body, s.content_type, "application/json");
  } else if (auto v = m.Get("content_type")) {
    if (auto ct = c.Str(*v, "content_type")) s.content_type = *ct;
  }
}

void ReadApiVersion(Context& c, const Map& m, std::optional<uint32_t> client, S& s) {
  if (auto v = m.Get("api_version")) {
    if (v->IsScalar() && v->Scalar() == "none") {
      s.omit_api_version = true;
    } else {
      s.api_version = c.NonEmptyStr(*v, "api_version");
    }
  } else if (client) {
    auto it = c.rest_api_versions.find(c.scenario().members[*client].client);
    if (it != c.rest_api_versions.end()) s.api_version = it->second;
  }
}

void ReadInlineChecks(StepInput& in, const Map& m, RestOp op) {
  if (!m.Has("expect_status") && !m.Has("expect_body") && !m.Has("expect_error_code") &&
      !m.Has("expect_token"))
    return;
  Context& c = in.c;
  HttpStatusExpect e;
  e.step = in.step.id;
  if (auto v = m.Get("expect_status")) {
    if (auto st = c.Statuses(*v)) e.statuses = *st;
  } else {
    e.statuses = {RestOpSuccessStatus(op)};
  }
  if (auto v = m.Get("expect_body")) e.body = YamlToJson(*v);
  if (auto v = m.Get("expect_error_code")) e.error_code = c.Str(*v, "expect_error_code");
  if (auto v = m.Get("expect_token")) {
    if (op != RestOp::kGenerateClientToken) {
      c.Error(*m.Key("expect_token"),
              "'expect_token' applies only to rest operation 'generate_token'");
    } else {
      Map tm(c, *v, "expect_token", KeysOf(TokenCheckTable()));
      if (tm.ok()) {
        GeneratedTokenExpect te;
        ReadFields(c, tm, TokenCheckTable(), te);
        e.token = te;
      }
    }
  }
  std::optional<Node> at = m.Key("expect_status");
  if (!at) at = m.Key("expect_body");
  if (!at) at = m.Key("expect_error_code");
  if (!at) at = m.Key("expect_token");
  in.Inline(*at, e);
}

bool ReadRest(StepInput& in) {
  Context& c = in.c;
  const Keys common = KeysOf(CommonTable());
  const Keys params = KeysOf(ParamTable());
  const Keys all = Concat({&common, &params, &kStepModifiers});
  RestStep s;
  if (in.value.IsScalar()) {
    // "- rest: health": an operation without parameters.
    const RestOpInfo* info = FindOp(c, in.value);
    if (!info) return false;
    if (!info->required.empty()) {
      c.Error(in.value, "rest operation " + Q(info->name) + " needs: " + JoinKeys(info->required));
      return false;
    }
    s.op = info->op;
    Map empty(c, YAML::Node(YAML::NodeType::Map), "rest", all);
    auto client = RestClient(c, empty);
    if (!client) return false;
    s.client = *client;
    in.step.args = std::move(s);
    return true;
  }
  if (!in.value.IsMap()) {
    c.Error(in.value.IsDefined() && !in.value.IsNull() ? in.value : in.kind_node,
            "step 'rest' needs a mapping with 'op' and the operation's parameters");
    return false;
  }
  in.map.emplace(c, in.value, "step 'rest'", all);
  const Map& m = *in.map;
  if (!m.ok()) return false;
  c.TakeModifiers(m, in.mods);
  auto op_node = m.Required(c, "op");
  if (!op_node) return false;
  const RestOpInfo* info = FindOp(c, *op_node);
  if (!info) return false;
  s.op = info->op;
  CheckParams(c, m, *info);
  auto client = RestClient(c, m);
  if (client) s.client = *client;
  ReadFields(c, m, ParamTable(), s);
  if (s.excluded && !KnowsItsConnectionId(c, *s.excluded, *m.Get("excluded"), "excluded"))
    s.excluded.reset();
  ReadConnectionAndBody(c, m, s);
  ReadFields(c, m, CommonTable(), s);
  ReadApiVersion(c, m, client, s);
  ReadInlineChecks(in, m, s.op);
  if (!client) return false;
  in.step.args = std::move(s);
  return true;
}

}  // namespace

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {

std::string_view RestOpName(RestOp op) {
  for (const shape::RestOpInfo& i : shape::kRestOps) {
    if (i.op == op) return i.name;
  }
  return "?";
}

std::optional<protocol::rest::Operation> RestOperationOf(RestOp op) {
  if (op == kRestRequest) return std::nullopt;
  return op;
}

int RestOpSuccessStatus(RestOp op) {
  const std::optional<protocol::rest::Operation> o = RestOperationOf(op);
  return o ? protocol::rest::SuccessStatus(*o) : 200;
}

std::string_view PermissionWireName(Permission p) {
  return p == Permission::kSendToGroup ? "sendToGroup" : "joinLeaveGroup";
}
namespace {

std::string ConnectionIdOf(RunContext& cx, const ConnectionTarget& t) {
  if (t.literal_id) return *t.literal_id;
  if (t.client && !t.client->members.empty()) return cx.members[t.client->members[0]].connection_id;
  return "";
}

clients::RestClient& RestClientFor(RunContext& cx, uint32_t m) {
  MemberState& ms = cx.members[m];
  if (!ms.rest) {
    clients::RestClientOptions o;
    o.service = cx.env.ServiceAddress();
    o.connection_string = cx.env.connection_string();
    o.dial = cx.env.Dialer(m);
    o.record_observations = false;  // answers go to the step's RestRecord
    ms.rest =
        std::make_unique<clients::RestClient>(cx.env.ClientRuntime(m), cx.sc.members[m].name, o);
  }
  return *ms.rest;
}

// What a REST step changes in the SDK's request: headers, api-version, and the bearer token
// when the step or its client asks for a fault, another audience form or lifetime.
clients::RestCallOptions RestCallOptionsFor(RunContext& cx, const RestStep& r,
                                            const IterContext& ctx) {
  clients::RestCallOptions call;
  for (const auto& [k, v] : r.request_headers) call.headers.emplace_back(k, cx.Template(v, ctx));
  call.omit_api_version = r.omit_api_version;
  call.api_version = r.api_version;
  const TokenOptions& tok = r.auth ? *r.auth : cx.sc.ClientOf(r.client).token;
  if (r.auth || tok.fault != TokenFault::kNone || tok.audience || tok.lifetime_ns ||
      tok.rest_audience != RestAudienceForm::kFullUrl || !tok.claims.empty()) {
    call.token = [&cx, m = r.client, tok](const std::string& url) {
      TokenOptions t = tok;
      if (!t.audience) {
        t.audience =
            t.rest_audience == RestAudienceForm::kWithoutQuery ? url.substr(0, url.find('?')) : url;
      }
      return Token(cx, m, t);
    };
  }
  return call;
}

std::function<bool()> Rest(RunContext& cx, uint32_t step, const RestStep& r,
                           const IterContext& ctx) {
  namespace http = protocol::http;
  namespace rest = protocol::rest;
  std::string method, path, content_type, body;
  std::vector<std::pair<std::string, std::string>> query;
  auto enc = [](const std::string& s) { return http::PercentEncode(s); };
  if (r.op == kRestRequest) {
    method = r.method;
    path = Replace(cx.Template(r.path, ctx), "{hub}", enc(cx.sc.hub));
    for (const auto& [k, v] : r.query_params) query.emplace_back(k, cx.Template(v, ctx));
  } else {
    const rest::Operation op = *RestOperationOf(r.op);
    method = std::string(rest::OperationMethod(op));
    path = std::string(rest::OperationPath(op));
    path = Replace(path, "{hub}", enc(cx.sc.hub));
    if (r.group) path = Replace(path, "{group}", enc(cx.Template(*r.group, ctx)));
    if (r.connection)
      path = Replace(path, "{connectionId}", enc(ConnectionIdOf(cx, *r.connection)));
    if (r.user) path = Replace(path, "{userId}", enc(cx.Template(*r.user, ctx)));
    if (r.permission)
      path = Replace(path, "{permission}", std::string(PermissionWireName(*r.permission)));
    if (r.excluded) {
      for (uint32_t m : r.excluded->members)
        query.emplace_back("excluded", cx.members[m].connection_id);
    }
    for (const std::string& id : r.excluded_ids)
      query.emplace_back("excluded", cx.Template(id, ctx));
    const bool groups_op =
        r.op == RestOp::kAddConnectionsToGroups || r.op == RestOp::kRemoveConnectionsFromGroups;
    if (r.filter && !groups_op) query.emplace_back("filter", cx.Template(*r.filter, ctx));
    if (r.message_ttl_seconds)
      query.emplace_back("messageTtlSeconds", std::to_string(*r.message_ttl_seconds));
    if (r.reason) query.emplace_back("reason", cx.Template(*r.reason, ctx));
    if (r.target_name) query.emplace_back("targetName", cx.Template(*r.target_name, ctx));
    if (r.max_page_size) query.emplace_back("maxpagesize", std::to_string(*r.max_page_size));
    if (r.top) query.emplace_back("top", std::to_string(*r.top));
    if (r.continuation_token) query.emplace_back("continuationToken", *r.continuation_token);
    if (r.op == RestOp::kGenerateClientToken) {
      if (r.user) query.emplace_back("userId", cx.Template(*r.user, ctx));
      for (const std::string& role : r.roles) query.emplace_back("role", role);
      for (const std::string& g : r.groups) query.emplace_back("group", g);
      if (r.minutes_to_expire)
        query.emplace_back("minutesToExpire", std::to_string(*r.minutes_to_expire));
      if (r.client_type) query.emplace_back("clientType", *r.client_type);
    }
    if (groups_op && !r.has_body) {
      nlohmann::json b = {{"groups", r.groups}};
      if (r.filter) b["filter"] = cx.Template(*r.filter, ctx);
      body = b.dump();
      content_type = "application/json";
    }
  }
  if (r.has_body) {
    body = cx.Template(r.body, ctx);
    content_type = r.content_type.empty() ? "application/json" : r.content_type;
  }
  std::string target = path;
  for (size_t i = 0; i < query.size(); ++i) {
    target += i == 0 ? "?" : "&";
    target += enc(query[i].first) + "=" + enc(query[i].second);
  }
  const int64_t now = cx.env.Now();
  const std::string label =
      "s" + std::to_string(step) + "#" + std::to_string(cx.rest_records.size());
  const size_t index = cx.rest_records.size();
  cx.rest_records.push_back(RestRecord{r.client, label, now});
  cx.step_rest[step].push_back(index);
  const bool is_send = r.op == RestOp::kSendToAll || r.op == RestOp::kSendToGroup ||
                       r.op == RestOp::kSendToUser || r.op == RestOp::kSendToConnection;
  if (is_send) {
    std::string key = body;
    if (content_type.rfind("application/octet-stream", 0) == 0) {
      key = Base64Encode(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
    }
    std::string p(r.op == RestOp::kSendToAll     ? reports::kPathServerToAll
                  : r.op == RestOp::kSendToGroup ? reports::kPathServerToGroup
                  : r.op == RestOp::kSendToUser  ? reports::kPathServerToUser
                                                 : reports::kPathServerToConnection);
    cx.RecordPublish(r.client, key, ctx.intended_ns.value_or(now), p);
    PublishRecord& published = cx.publishes[key].back();
    if (r.op == RestOp::kSendToGroup && r.group) published.group = cx.Template(*r.group, ctx);
    published.rest_record = static_cast<int64_t>(index);
    if (key == body) {
      // MQTT 3.1.1 receivers (and MQTT 5 ones without a content type) see the body as binary,
      // which PayloadText keys by its base64 (as RecordMqttPublish does the other way round).
      const std::string b64 = Base64Encode(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
      if (b64 != key) {
        cx.publishes[b64].push_back(PublishRecord{r.client, ctx.intended_ns.value_or(now), p,
                                                  cx.publish_counter[r.client] - 1,
                                                  cx.issuing_intended});
      }
    }
  }
  cx.Arrow(now, cx.sc.members[r.client].name, "service", method + " " + path);
  cx.result.Count(reports::kCounterOperations);
  cx.result.Count(reports::kCounterRestCalls);
  clients::RestCallOptions call = RestCallOptionsFor(cx, r, ctx);
  // all_pages: follow nextLink and record one response whose `value` holds every page's.
  auto pages = std::make_shared<nlohmann::json>(nlohmann::json::array());
  auto on_response = std::make_shared<clients::RestClient::ResponseFn>();
  *on_response = [&cx, index, intended = ctx.intended_ns.value_or(now), all = r.all_pages, call,
                  pages, weak = std::weak_ptr<clients::RestClient::ResponseFn>(on_response),
                  member = r.client](const protocol::http::Response& resp) {
    RestRecord& rec = cx.rest_records[index];
    rec.time_ns = cx.env.Now();
    if (cx.options.record_latency) {
      cx.result.Latency(reports::Metric::kRestCall, reports::ClientKind::kRest)
          .histogram.Record(std::max<int64_t>(1, rec.time_ns - intended));
    }
    // Status 0: no answer (connect, TLS or read failed): a failed call as much as a 5xx.
    if (resp.status == 0 || resp.status >= 400) cx.result.Count(reports::kCounterErrors);
    cx.Arrow(rec.time_ns, "service", cx.sc.members[rec.member].name, std::to_string(resp.status));
    if (all && resp.status == 200) {
      nlohmann::json page = nlohmann::json::parse(resp.body, nullptr, false);
      if (page.is_object() && page.contains("value") && page["value"].is_array()) {
        for (const nlohmann::json& v : page["value"]) pages->push_back(v);
        if (page.contains("nextLink") && page["nextLink"].is_string()) {
          // nextLink is absolute and carries api-version: call its path and query as is.
          std::string link = page["nextLink"].get<std::string>();
          const size_t scheme = link.find("://");
          const size_t slash = link.find('/', scheme == std::string::npos ? 0 : scheme + 3);
          link = slash == std::string::npos ? "/" : link.substr(slash);
          clients::RestCallOptions next = call;
          next.omit_api_version = true;
          if (auto self = weak.lock()) {
            RestClientFor(cx, member).Call("GET", link, "", "", rec.label, *self, next);
            return;
          }
        }
        rec.body = nlohmann::json{{"value", *pages}}.dump();
      } else {
        rec.body = resp.body;
      }
    } else {
      rec.body = resp.body;
    }
    rec.done = true;
    rec.status = resp.status;
    if (auto v = resp.headers.Get("x-ms-error-code")) rec.error_code = std::string(*v);
  };
  cx.rest_callbacks.push_back(on_response);
  RestClientFor(cx, r.client).Call(method, target, content_type, body, label, *on_response, call);
  return [&cx, index] { return cx.rest_records[index].done; };
}

void IssueRest(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  out.push_back(cx.Awaiting(s, Rest(cx, s.id, s.As<RestStep>(), ctx)));
}

// http_status: the answers to the step's REST calls (a connect step: its upgrade's status).
class HttpStatusEvaluator : public Evaluator {
 public:
  HttpStatusEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e) {}

  void Finish() override {
    const Expectation& e = e_;
    const auto& h = e.As<HttpStatusExpect>();
    auto it = cx_.step_rest.find(h.step);
    if (it == cx_.step_rest.end()) {
      // A connect step's expect_status: the upgrade's status.
      const Step& s = cx_.sc.steps[h.step];
      if (s.Is<ConnectStep>()) {
        for (uint32_t m : s.As<ConnectStep>().clients.members) {
          const int status = cx_.members[m].first_upgrade_status;
          if (std::find(h.statuses.begin(), h.statuses.end(), status) == h.statuses.end()) {
            cx_.Fail(cx_.Where(e) + ": " + cx_.sc.members[m].name + " upgrade answered " +
                         std::to_string(status),
                     "HTTP " + JoinStatuses(h.statuses), "HTTP " + std::to_string(status),
                     e.case_id);
          }
        }
        return;
      }
      cx_.Fail(cx_.Where(e) + ": the step made no HTTP call", "HTTP " + JoinStatuses(h.statuses),
               "none", e.case_id);
      return;
    }
    for (size_t index : it->second) {
      const RestRecord& r = cx_.rest_records[index];
      if (!r.done) {
        cx_.Fail(cx_.Where(e) + ": no response", "HTTP " + JoinStatuses(h.statuses), "no response",
                 e.case_id);
        continue;
      }
      if (std::find(h.statuses.begin(), h.statuses.end(), r.status) == h.statuses.end()) {
        cx_.Fail(cx_.Where(e) + ": " + cx_.sc.steps[h.step].label + " answered " +
                     std::to_string(r.status),
                 "HTTP " + JoinStatuses(h.statuses),
                 "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200), e.case_id);
        continue;
      }
      if (h.error_code && r.error_code != *h.error_code) {
        cx_.Fail(cx_.Where(e) + ": wrong x-ms-error-code", *h.error_code,
                 r.error_code.empty() ? "(none)" : r.error_code, e.case_id);
      }
      if (h.body) {
        // String values may name run-time ids: "${alice.connection_id}".
        const nlohmann::json want = cx_.Templated(*h.body);
        nlohmann::json got = nlohmann::json::parse(r.body, nullptr, false);
        if (got.is_discarded() || !JsonSubset(want, got)) {
          cx_.Fail(cx_.Where(e) + ": response body differs", want.dump(), r.body.substr(0, 300),
                   e.case_id);
        }
      }
      if (h.token) CheckToken(e, *h.token, r);
    }
  }

 private:
  // expect_token: the token of a generate_token answer verifies (key, audience, clock within
  // the 5 minutes of skew PROTOCOL.md §2.1 allows) and carries the expected claims.
  void CheckToken(const Expectation& e, const GeneratedTokenExpect& want, const RestRecord& r) {
    namespace auth = protocol::auth;
    auto fail = [&](const std::string& what, const std::string& expected, const std::string& got) {
      cx_.Fail(cx_.Where(e) + ": generated token: " + what, expected, got, e.case_id);
    };
    const nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
      fail("no string 'token' in the body", "{\"token\": \"<jwt>\"}", r.body.substr(0, 300));
      return;
    }
    const RestStep& step = cx_.sc.steps[e.As<HttpStatusExpect>().step].As<RestStep>();
    std::string client_type = step.client_type.value_or("");
    for (char& ch : client_type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const bool mqtt = client_type == "mqtt";
    const auth::ConnectionString& cs = cx_.env.connection_string();
    auth::VerifyOptions verify;
    verify.now_unix_seconds = cx_.env.ClientRuntime(r.member).UnixNow() / sim::kSecond;
    verify.clock_skew_seconds = 300;
    const std::string audience = auth::ClientAudience(
        cs, cx_.sc.hub, mqtt ? auth::ClientType::kMqtt : auth::ClientType::kDefault);
    const Result<auth::Claims> claims =
        auth::Verify(body["token"].get<std::string>(), cs.access_key, verify);
    if (!claims.ok()) {
      fail("does not verify", "a token signed with the access key, valid now",
           claims.error().code + ": " + claims.error().message);
      return;
    }
    auto list = [](const std::vector<std::string>& v) { return nlohmann::json(v).dump(); };
    // The audience: the hub's client endpoint, compared ignoring case and with or without the
    // scheme's default port, the forms the client endpoint accepts (AUTH-017).
    auto normal = [](std::string url) {
      for (char& ch : url) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const size_t host = url.find("://");
      if (host == std::string::npos) return url;
      const size_t path = url.find('/', host + 3);
      const std::string port = url.rfind("https", 0) == 0 ? ":443" : ":80";
      const size_t end = path == std::string::npos ? url.size() : path;
      if (end >= port.size() && url.compare(end - port.size(), port.size(), port) == 0)
        url.erase(end - port.size(), port.size());
      return url;
    };
    if (claims->audiences.size() != 1 || normal(claims->audiences[0]) != normal(audience)) {
      fail("aud differs", audience, list(claims->audiences));
    }
    if (want.user) {
      const std::string expected = want.user->is_null ? "(no sub)" : want.user->value;
      const std::string got = claims->subject ? *claims->subject : "(no sub)";
      if (expected != got) fail("sub differs", expected, got);
    }
    if (want.roles && *want.roles != claims->roles) {
      fail("role differs", list(*want.roles), list(claims->roles));
    }
    if (want.groups && *want.groups != claims->groups) {
      fail("webpubsub.group differs", list(*want.groups), list(claims->groups));
    }
    if (want.lifetime_ns) {
      const int64_t expected = *want.lifetime_ns / sim::kSecond;
      if (!claims->issued_at || !claims->expires_at) {
        fail("no iat or exp", "exp - iat = " + std::to_string(expected) + " s", "(missing)");
      } else if (*claims->expires_at - *claims->issued_at != expected) {
        fail("lifetime differs", "exp - iat = " + std::to_string(expected) + " s",
             std::to_string(*claims->expires_at - *claims->issued_at) + " s");
      }
    }
  }

  RunContext& cx_;
  const Expectation& e_;
};

}  // namespace

void RegisterRestFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  r.AddStep<RestStep>(
      {"rest",
       ReadRest,
       "one REST data-plane operation (`op` + its parameters; shorthand `- rest: health`); "
       "completes on the response",
       DocsOf(Join(CommonTable(), ParamTable())),
       {"sendToAll", "sendToConnection", "sendToUser", "addToGroups"},
       {OpNames(true)}},
      IssueRest);
  r.AddExpectation<HttpStatusEvaluator>(ExpectKind::kHttpStatus);
}

}  // namespace wpsim::conformance
