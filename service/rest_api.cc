// The REST data-plane API (PROTOCOL.md §11) of the reference service.
//
// Order of checks: routing and parameter validation (protocol/rest router: 404, 405, 400) →
// bearer token (401, empty body, like the emulator) → the operation. Sends are
// fire-and-forget: 202 whether or not the target exists (§11.2). Every error body is an
// ErrorDetail with the x-ms-error-code header.
#include <nlohmann/json.hpp>

#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/rest/router.h"
#include "protocol/webpubsub/json_text.h"
#include "service/front.h"
#include "service/names.h"
#include "service/service.h"

namespace wpsim::service {

namespace http = protocol::http;
namespace rest = protocol::rest;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;

namespace {

constexpr std::string_view kDefaultCloseReason = "Closed by REST API.";

http::Response ErrorResponse(int status, std::string_view code, std::string message,
                             std::string target = "Request") {
  http::Response r;
  r.status = status;
  rest::ErrorDetail detail;
  detail.code = std::string(code);
  detail.message = std::move(message);
  detail.target = std::move(target);
  r.headers.Add("Content-Type", "application/json; charset=utf-8");
  r.headers.Add("x-ms-error-code", std::string(code));
  r.body = rest::ErrorDetailJson(detail);
  return r;
}

http::Response Status(int status) {
  http::Response r;
  r.status = status;
  return r;
}

std::optional<std::string> BearerToken(const http::Request& request) {
  std::optional<std::string_view> h = request.headers.Get("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!h || h->size() <= kBearer.size() ||
      !http::EqualsIgnoreCase(h->substr(0, kBearer.size()), kBearer)) {
    return std::nullopt;
  }
  return std::string(h->substr(kBearer.size()));
}

// The REST audience is the request URL; SDKs include the query (JS request.url, .NET
// AbsoluteUri), the docs say without it; the emulator also accepts a once-decoded form (§2.3).
std::vector<std::string> RestAudiences(const Service& service, const http::Request& request) {
  const std::string host(request.headers.Get("Host").value_or(""));
  std::string target = request.target;
  const http::TargetParts parts = http::SplitTarget(target);
  std::vector<std::string> bases;
  for (const std::string& h : HostVariants(host)) {
    bases.push_back((service.options().tls ? "https://" : "http://") + h);
  }
  if (!service.options().public_endpoint.empty()) {
    std::string e = service.options().public_endpoint;
    while (!e.empty() && e.back() == '/') e.pop_back();
    bases.push_back(e);
  }
  std::vector<std::string> out;
  for (const std::string& base : bases) {
    out.push_back(base + target);
    out.push_back(base + std::string(parts.path));
    out.push_back(base + http::DecodeQueryComponent(target));
  }
  return out;
}

// The message payload of a send operation, from the body and its Content-Type (§11.3).
Result<wps::Payload> ReadPayload(const http::Request& request) {
  std::string_view content_type = request.headers.Get("Content-Type").value_or("");
  std::optional<wps::DataType> type = wps::DataTypeFromHttpContentType(content_type);
  if (!type || *type == wps::DataType::kProtobuf) {
    return MakeError("415", "Content-Type '" + std::string(content_type) +
                                "' is not supported. Use application/json, text/plain or "
                                "application/octet-stream.");
  }
  // X-WebPubSub-Metadata-* headers (PROTOCOL.md §9.4; docs/conformance.md META-004).
  wps::Metadata metadata = wps::MetadataFromHeaders(request.headers);
  if (auto why = wps::ValidateMetadata(metadata)) return MakeError("400", *why);
  wps::Payload payload;
  switch (*type) {
    case wps::DataType::kJson:
      if (!wps::IsValidJson(request.body)) return MakeError("400", "The body is not valid JSON.");
      payload = wps::Payload::Json(request.body);
      break;
    case wps::DataType::kText:
      payload = wps::Payload::Text(request.body);
      break;
    default:
      payload = wps::Payload::Binary(AsBytes(request.body));
      break;
  }
  payload.metadata = std::move(metadata);
  return payload;
}

class RestCall {
 public:
  RestCall(Service& service, const http::Request& request, rest::Route& route)
      : service_(service), request_(request), route_(route) {}

  http::Response Run() {
    using Op = rest::Operation;
    if (route_.op == Op::kGetServiceStatus) return Status(200);
    Hub& hub = service_.GetHub(route_.hub);
    HubState& state = hub.state();
    switch (route_.op) {
      case Op::kGetServiceStatus:
        return Status(200);
      case Op::kSendToAll:
      case Op::kSendToGroup:
      case Op::kSendToUser:
      case Op::kSendToConnection:
        return Send(hub);
      case Op::kCloseAllConnections:
        return CloseMany(hub, &state.connections());
      case Op::kCloseGroupConnections:
        return CloseMany(hub, state.GroupMembers(route_.group));
      case Op::kCloseUserConnections:
        return CloseMany(hub, state.UserConnections(route_.user_id));
      case Op::kCloseConnection: {
        if (Subscriber* c = hub.Find(route_.connection_id)) {
          c->CloseByService(route_.reason.value_or(std::string(kDefaultCloseReason)));
        }
        return Status(204);
      }
      case Op::kGenerateClientToken:
        return GenerateToken();
      case Op::kAddConnectionsToGroups:
      case Op::kRemoveConnectionsFromGroups:
        return GroupsBatch(hub);
      case Op::kConnectionExists:
        return Status(hub.Find(route_.connection_id) ? 200 : 404);
      case Op::kGroupExists:
        return Status(state.GroupExists(route_.group) ? 200 : 404);
      case Op::kUserExists:
        return Status(state.UserExists(route_.user_id) ? 200 : 404);
      case Op::kRemoveConnectionFromAllGroups:
        if (Subscriber* c = hub.Find(route_.connection_id)) state.LeaveAll(c);
        return Status(204);
      case Op::kListConnectionsInGroup:
        return ListConnections(state);
      case Op::kAddConnectionToGroup: {
        Subscriber* c = hub.Find(route_.connection_id);
        if (c == nullptr) {
          return ErrorResponse(404, rest::kErrorConnectionNotExisted,
                               "Connection '" + route_.connection_id + "' does not exist.",
                               "connectionId");
        }
        if (state.AtGroupLimit(c, route_.group)) {
          return ErrorResponse(400, rest::kErrorBadRequest,
                               "Connection '" + route_.connection_id + "' is already in " +
                                   std::to_string(c->groups.size()) +
                                   " groups, the most one connection may join.",
                               "groupName");
        }
        state.Join(c, route_.group);
        return Status(200);
      }
      case Op::kRemoveConnectionFromGroup:
        if (Subscriber* c = hub.Find(route_.connection_id)) state.Leave(c, route_.group);
        return Status(204);
      case Op::kRemoveUserFromAllGroups:
        ForEachUserConnection(state, [&](Subscriber* c) { state.LeaveAll(c); });
        return Status(204);
      case Op::kAddUserToGroup: {
        // Current connections only; 404 when the user has none (the emulator's behaviour,
        // PROTOCOL.md §11.2 [UNCERTAIN]).
        if (!state.UserExists(route_.user_id)) {
          return ErrorResponse(404, rest::kErrorNotFound,
                               "User '" + route_.user_id + "' has no connection.", "userId");
        }
        ForEachUserConnection(state, [&](Subscriber* c) { state.Join(c, route_.group); });
        return Status(200);
      }
      case Op::kRemoveUserFromGroup:
        ForEachUserConnection(state, [&](Subscriber* c) { state.Leave(c, route_.group); });
        return Status(204);
      case Op::kGrantPermission:
      case Op::kRevokePermission:
      case Op::kCheckPermission:
        return PermissionOp(hub);
    }
    return Status(500);
  }

 private:
  template <typename Fn>
  void ForEachUserConnection(HubState& state, Fn&& fn) {
    const HubState::MemberMap* members = state.UserConnections(route_.user_id);
    if (members == nullptr) return;
    std::vector<Subscriber*> list;
    for (const auto& [seq, m] : *members) list.push_back(static_cast<Subscriber*>(m));
    for (Subscriber* c : list) fn(c);
  }

  // Compiles route_.filter into filter_; returns an error response for an invalid filter.
  std::optional<http::Response> CompileFilter(const std::optional<std::string>& text) {
    if (!text || text->empty()) return std::nullopt;
    protocol::rest::FilterCompileResult compiled = protocol::rest::ODataFilter::Compile(*text);
    if (!compiled.ok()) {
      const rest::RouteError e = rest::InvalidFilterError(compiled.error());
      http::Response r;
      r.status = e.status;
      r.headers.Add("Content-Type", "application/json; charset=utf-8");
      r.headers.Add("x-ms-error-code", e.error_code);
      r.body = e.Body();
      return r;
    }
    filter_.emplace(std::move(compiled.value()));
    return std::nullopt;
  }

  http::Response Send(Hub& hub) {
    if (auto error = CompileFilter(route_.filter)) return *error;
    Result<wps::Payload> payload = ReadPayload(request_);
    if (!payload.ok()) {
      return ErrorResponse(payload.error().code == "415" ? 415 : 400, rest::kErrorBadRequest,
                           payload.error().message);
    }
    FanoutOptions options;
    options.excluded = &route_.excluded;
    if (filter_) options.filter = &*filter_;
    using Op = rest::Operation;
    if (route_.op == Op::kSendToGroup) {
      // REST sendToGroup is delivered as a group message with no sender user (§5.3).
      OutboundMessage m = OutboundMessage::Group(route_.group, std::nullopt, std::move(payload.value()));
      ApplyTtl(m);
      hub.SendToGroup(route_.group, m, options);
    } else {
      OutboundMessage m = OutboundMessage::Server(std::move(payload.value()));
      ApplyTtl(m);
      if (route_.op == Op::kSendToAll) hub.SendToAll(m, options);
      if (route_.op == Op::kSendToUser) hub.SendToUser(route_.user_id, m, options);
      if (route_.op == Op::kSendToConnection) hub.SendToConnection(route_.connection_id, m);
    }
    return Status(202);
  }

  // messageTtlSeconds (0 = never): see OutboundMessage::ttl_expires_at. MQTT receivers get it
  // as the message expiry interval (the smaller one when the message already had one).
  void ApplyTtl(OutboundMessage& m) {
    if (route_.message_ttl_seconds <= 0) return;
    const auto ttl = static_cast<uint32_t>(route_.message_ttl_seconds);
    m.ttl_expires_at = service_.runtime().Now() + sim::Nanos{ttl} * sim::kSecond;
    if (!m.message_expiry_seconds || *m.message_expiry_seconds > ttl) m.message_expiry_seconds = ttl;
  }

  http::Response CloseMany(Hub& hub, const HubState::MemberMap* members) {
    if (members == nullptr) return Status(204);
    std::vector<Subscriber*> list;
    for (const auto& [seq, m] : *members) {
      auto* c = static_cast<Subscriber*>(m);
      if (std::find(route_.excluded.begin(), route_.excluded.end(), c->connection_id) !=
          route_.excluded.end()) {
        continue;
      }
      list.push_back(c);
    }
    const std::string reason = route_.reason.value_or(std::string(kDefaultCloseReason));
    for (Subscriber* c : list) c->CloseByService(reason);
    (void)hub;
    return Status(204);
  }

  http::Response GenerateToken() {
    const std::string host(request_.headers.Get("Host").value_or(""));
    const bool mqtt = route_.client_type == rest::ClientType::kMqtt;
    std::string audience = (service_.options().tls ? "https://" : "http://") + host +
                           (mqtt ? "/clients/mqtt/hubs/" : "/client/hubs/") + route_.hub;
    auth::ClientTokenOptions options;
    options.user_id = route_.token_user_id;
    if (!route_.roles.empty()) options.roles = route_.roles;
    if (!route_.groups.empty()) options.groups = route_.groups;
    options.issued_at = service_.runtime().UnixNow() / sim::kSecond;
    options.expires_at = options.issued_at + int64_t{route_.minutes_to_expire} * 60;
    const std::string token = auth::BuildClientTokenForAudience(
        audience, options, service_.options().access_keys.front());
    http::Response r;
    r.status = 200;
    r.headers.Add("Content-Type", "application/json; charset=utf-8");
    r.body = nlohmann::json{{"token", token}}.dump();
    return r;
  }

  http::Response GroupsBatch(Hub& hub) {
    // The body is JSON: any other or a missing Content-Type is 415, as on sends (the
    // emulator's REST tests; RESTSVC-011).
    const std::string_view content_type = request_.headers.Get("Content-Type").value_or("");
    if (wps::DataTypeFromHttpContentType(content_type) != wps::DataType::kJson) {
      return ErrorResponse(415, rest::kErrorBadRequest,
                           "Content-Type '" + std::string(content_type) +
                               "' is not supported. Use application/json.");
    }
    nlohmann::json body = nlohmann::json::parse(request_.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("groups") ||
        !body["groups"].is_array() || body["groups"].empty()) {
      return ErrorResponse(400, rest::kErrorBadRequest,
                           "The body must be a JSON object with a non-empty 'groups' array.");
    }
    std::vector<std::string> groups;
    for (const auto& g : body["groups"]) {
      if (!g.is_string() || !IsValidGroupName(g.get<std::string>())) {
        return ErrorResponse(400, rest::kErrorBadRequest, "Invalid group name in 'groups'.");
      }
      groups.push_back(g.get<std::string>());
    }
    std::optional<std::string> filter_text;
    if (body.contains("filter") && !body["filter"].is_null()) {
      if (!body["filter"].is_string()) {
        return ErrorResponse(400, rest::kErrorBadRequest, "'filter' must be a string.");
      }
      filter_text = body["filter"].get<std::string>();
    }
    if (auto error = CompileFilter(filter_text)) return *error;
    std::vector<Subscriber*> list;
    for (const auto& [seq, m] : hub.state().connections()) {
      auto* c = static_cast<Subscriber*>(m);
      if (filter_ && !FilterMatches(*filter_, *c)) continue;
      list.push_back(c);
    }
    const bool add = route_.op == rest::Operation::kAddConnectionsToGroups;
    for (Subscriber* c : list) {
      for (const std::string& g : groups) {
        if (add) {
          hub.state().Join(c, g);
        } else {
          hub.state().Leave(c, g);
        }
      }
    }
    return Status(200);
  }

  http::Response ListConnections(HubState& state) {
    const HubState::MemberMap* members = state.GroupMembers(route_.group);
    size_t start = 0;
    if (route_.continuation_token) {
      try {
        start = std::stoul(*route_.continuation_token);
      } catch (...) {
        return ErrorResponse(400, rest::kErrorBadRequest, "Invalid continuationToken.",
                             "continuationToken");
      }
    }
    size_t limit = static_cast<size_t>(route_.max_page_size);
    size_t total = members ? members->size() : 0;
    if (route_.top) total = std::min(total, static_cast<size_t>(*route_.top));
    nlohmann::json value = nlohmann::json::array();
    size_t index = 0;
    if (members != nullptr) {
      for (const auto& [seq, m] : *members) {
        if (index >= total || value.size() >= limit) break;
        if (index++ < start) continue;
        nlohmann::json item{{"connectionId", m->connection_id}};
        item["userId"] = m->user_id ? nlohmann::json(*m->user_id) : nlohmann::json(nullptr);
        value.push_back(std::move(item));
      }
    }
    nlohmann::json out{{"value", value}};
    const size_t next = start + value.size();
    if (next < total) {
      const std::string host(request_.headers.Get("Host").value_or(""));
      std::string link = (service_.options().tls ? "https://" : "http://") + host + "/api/hubs/" +
                         http::PercentEncode(route_.hub) + "/groups/" +
                         http::PercentEncode(route_.group) + "/connections?api-version=" +
                         std::string(rest::ApiVersionName(route_.api_version)) +
                         "&maxpagesize=" + std::to_string(route_.max_page_size) +
                         "&continuationToken=" + std::to_string(next);
      if (route_.top) link += "&top=" + std::to_string(*route_.top);
      out["nextLink"] = link;
    }
    http::Response r;
    r.status = 200;
    r.headers.Add("Content-Type", "application/json; charset=utf-8");
    r.body = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  }

  http::Response PermissionOp(Hub& hub) {
    const GroupAction action = route_.permission == rest::Permission::kSendToGroup
                                   ? GroupAction::kSendTo
                                   : GroupAction::kJoinLeave;
    std::optional<std::string_view> target;
    if (route_.target_name) target = *route_.target_name;
    Subscriber* c = hub.Find(route_.connection_id);
    switch (route_.op) {
      case rest::Operation::kGrantPermission: {
        if (c == nullptr) {
          return ErrorResponse(404, rest::kErrorConnectionNotExisted,
                               "Connection '" + route_.connection_id + "' does not exist.",
                               "connectionId");
        }
        wpsim::Status s = c->permissions().Grant(action, target);
        if (!s.ok()) return ErrorResponse(400, rest::kErrorBadRequest, s.error().message);
        return Status(200);
      }
      case rest::Operation::kRevokePermission:
        if (c != nullptr) (void)c->permissions().Revoke(action, target);
        return Status(204);
      default:
        return Status(c != nullptr && c->permissions().Check(action, target) ? 200 : 404);
    }
  }

  Service& service_;
  const http::Request& request_;
  rest::Route& route_;
  std::optional<protocol::rest::ODataFilter> filter_;
};

}  // namespace

void HandleRestRequest(Service& service, Front& front, const http::Request& request) {
  rest::RouteResult routed = rest::RouteRequest(request.method, request.target);
  http::Response response;
  if (!routed.ok()) {
    const rest::RouteError& e = routed.error();
    response.status = e.status;
    response.headers.Add("Content-Type", "application/json; charset=utf-8");
    response.headers.Add("x-ms-error-code", e.error_code);
    if (!e.allow.empty()) response.headers.Add("Allow", e.allow);
    response.body = e.Body();
  } else if (routed.route().op != rest::Operation::kGetServiceStatus) {
    std::optional<std::string> token = BearerToken(request);
    Result<auth::Claims> claims =
        token ? auth::Verify(*token, service.options().access_keys,
                             auth::VerifyOptions{
                                 .now_unix_seconds = service.runtime().UnixNow() / sim::kSecond,
                                 .clock_skew_seconds = service.options().token_clock_skew_seconds,
                                 .audiences = RestAudiences(service, request),
                                 .audience_match = auth::AudienceMatch::kCaseInsensitive,
                             })
              : Result<auth::Claims>(MakeError("missing", "no bearer token"));
    if (!claims.ok()) {
      service.Log("REST " + request.method + " " + request.target + " -> 401 (" +
                  claims.error().code + ")");
      response.status = 401;
    } else {
      response = RestCall(service, request, routed.route()).Run();
    }
  } else {
    response.status = 200;
  }
  if (routed.ok()) response.headers.Add("api-supported-versions", std::string(rest::kSupportedApiVersions));
  service.Log("REST " + request.method + " " + request.target + " -> " +
              std::to_string(response.status));
  front.RespondHttp(request.id, std::move(response));
}

}  // namespace wpsim::service
