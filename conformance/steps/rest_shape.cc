// The REST family's YAML shape: `rest` steps, one data-plane operation of PROTOCOL.md §11.2 each
// (plus `request`, sent verbatim), with their inline HTTP checks.
#include "conformance/shape/steps.h"
#include "conformance/yaml_json.h"

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
    {"health", RestOp::kHealth, {}, {}},
    {"send_to_all",
     RestOp::kSendToAll,
     {"body"},
     {"content_type", "message_ttl_seconds", "excluded", "excluded_ids", "filter"}},
    {"close_all_connections",
     RestOp::kCloseAllConnections,
     {},
     {"excluded", "excluded_ids", "reason"}},
    {"generate_token",
     RestOp::kGenerateToken,
     {},
     {"user", "roles", "minutes_to_expire", "groups", "client_type"}},
    {"add_to_groups", RestOp::kAddToGroups, {"groups"}, {"filter"}},
    {"remove_from_groups", RestOp::kRemoveFromGroups, {"groups"}, {"filter"}},
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
    {"request", RestOp::kRequest, {"method", "path"}, {"query", "body", "content_type"}},
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

// The keys every operation takes.
const Table<S>& CommonTable() {
  static const Table<S> t = {
      Declared<S>("op", "operation name", {{"type", "string"}},
                  "the operation (see the table of operations)"),
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

void ReadConnectionAndBody(Context& c, const Map& m, S& s) {
  if (m.Has("connection") && m.Has("connection_id")) {
    c.Error(*m.Key("connection_id"), "give either 'connection' or 'connection_id', not both");
  } else if (auto v = m.Get("connection")) {
    if (auto ref = c.Ref(*v, RefOptions{.single = true}))
      s.connection = ConnectionTarget{*ref, std::nullopt};
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
  if (!m.Has("expect_status") && !m.Has("expect_body") && !m.Has("expect_error_code")) return;
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
  std::optional<Node> at = m.Key("expect_status");
  if (!at) at = m.Key("expect_body");
  if (!at) at = m.Key("expect_error_code");
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
  ReadConnectionAndBody(c, m, s);
  ReadFields(c, m, CommonTable(), s);
  ReadApiVersion(c, m, client, s);
  ReadInlineChecks(in, m, s.op);
  if (!client) return false;
  in.step.args = std::move(s);
  return true;
}

}  // namespace

std::vector<StepShape> RestSteps() {
  return {
      {"rest",
       StepKind::kRest,
       ReadRest,
       "one REST data-plane operation (`op` + its parameters; shorthand `- rest: health`); "
       "completes on the response",
       DocsOf(Join(CommonTable(), ParamTable())),
       {"sendToAll", "sendToConnection", "sendToUser", "addToGroups"}},
  };
}

}  // namespace wpsim::conformance::shape
