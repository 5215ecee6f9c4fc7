// The client endpoints (PROTOCOL.md §1.1, §2, §4): /client/hubs/{hub}, the legacy
// /client/?hub={hub}, and recovery of reliable connections.
//
// Order of checks for a new connection (each failure answers the upgrade with an HTTP error,
// as the Microsoft emulator does): WebSocket handshake (400/426) → token present and valid
// (401) → initial groups valid (400) → subprotocol negotiation → 101.
// A recovery request (awps_connection_id + awps_reconnection_token) needs no access token; it
// is always upgraded, then closed with 1008 when the connection cannot be recovered (§2.4, §6.4)
// because the JS SDK retries HTTP errors but gives up on 1008.
#include <algorithm>

#include "protocol/auth/jwt.h"
#include "protocol/http/url.h"
#include "protocol/protobuf/messages.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/websocket/frame.h"
#include "protocol/websocket/handshake.h"
#include "service/front.h"
#include "service/mqtt_session.h"
#include "service/names.h"
#include "service/client_connection.h"
#include "service/service.h"
#include "service/trace.h"
#include "service/upstream.h"

namespace wpsim::service {

namespace http = protocol::http;
namespace ws = protocol::websocket;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;
namespace pb = protocol::protobuf;

namespace {

http::Response TextResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.Add("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

}  // namespace

// The Host header with and without a default port (80/443): URL serialisers drop a default
// port from the audience (new URL("http://h:80") is "http://h/") while Host keeps it.
std::vector<std::string> HostVariants(std::string_view host) {
  std::vector<std::string> out{std::string(host)};
  for (std::string_view port : {":80", ":443"}) {
    if (host.size() > port.size() && host.substr(host.size() - port.size()) == port) {
      out.emplace_back(host.substr(0, host.size() - port.size()));
    }
  }
  if (host.find(':') == std::string_view::npos || (host.front() == '[' && host.back() == ']')) {
    out.push_back(std::string(host) + ":80");
    out.push_back(std::string(host) + ":443");
  }
  return out;
}

namespace {

// Audiences a client token may carry for `hub` reached at `host`: the http(s) form the SDKs
// mint and the ws(s) form some tools use (the MQTT quickstart's jwtgen command), for the Host
// header and for the configured public endpoint. Compared case-insensitively (emulator rule).
std::vector<std::string> ClientAudiences(const ServiceOptions& options, std::string_view host,
                                         std::string_view relative) {
  std::vector<std::string> out;
  for (const std::string& h : HostVariants(host)) {
    for (const char* scheme : {"http://", "https://", "ws://", "wss://"}) {
      out.push_back(std::string(scheme) + h + std::string(relative));
    }
  }
  if (!options.public_endpoint.empty()) {
    std::string e = options.public_endpoint;
    while (!e.empty() && e.back() == '/') e.pop_back();
    out.push_back(e + std::string(relative));
  }
  return out;
}

std::optional<std::string> BearerToken(const http::Request& request) {
  std::optional<std::string_view> h = request.headers.Get("Authorization");
  if (!h) return std::nullopt;
  constexpr std::string_view kBearer = "Bearer ";
  if (h->size() <= kBearer.size() ||
      !http::EqualsIgnoreCase(h->substr(0, kBearer.size()), kBearer)) {
    return std::nullopt;
  }
  return std::string(h->substr(kBearer.size()));
}

// What the upgrade decided: who the new connection is.
struct Admission {
  std::string hub_name;
  ClientKind kind = ClientKind::kRaw;
  std::string subprotocol;
  std::string connection_id;
  std::optional<std::string> user_id;
  std::vector<std::string> roles;
  std::vector<std::string> groups;
};

// The client kind a subprotocol selects; a custom one (chosen by a connect handler) is raw.
ClientKind KindOf(std::string_view subprotocol) {
  if (subprotocol == wps::kJsonSubprotocol) return ClientKind::kJson;
  if (subprotocol == wps::kReliableJsonSubprotocol) return ClientKind::kReliable;
  if (subprotocol == pb::kProtobufSubprotocol) return ClientKind::kProtobuf;
  if (subprotocol == pb::kReliableProtobufSubprotocol) return ClientKind::kReliableProtobuf;
  return ClientKind::kRaw;
}

// Creates the logical connection and completes the upgrade (101), then the non-blocking
// `connected` event goes upstream (§4.3).
void Admit(Service& service, Front& front, uint64_t request_id, const ws::UpgradeOffer& offer,
           Admission a) {
  Hub& hub = service.GetHub(a.hub_name);
  auto connection = std::make_unique<ClientConnection>(service, hub, a.kind, a.subprotocol);
  connection->connection_id = std::move(a.connection_id);
  connection->user_id = std::move(a.user_id);
  connection->permissions() = ConnectionPermissions::FromRoles(a.roles);
  auto* c = static_cast<ClientConnection*>(hub.Add(std::move(connection)));
  WPSIM_ASSERT(c != nullptr);
  TraceConnected(service, front.id(), hub.name(), c->connection_id, c->user_id, a.subprotocol);
  for (const std::string& group : a.groups) hub.state().Join(c, group);
  service.Log("client " + c->connection_id + " connected to hub " + hub.name() + " as " +
              std::string(ClientKindName(a.kind)) + " user=" + c->user_id.value_or("(none)") +
              " from " + front.peer().ToString());
  front.StartWebSocket(request_id, ws::AcceptResponse(offer, a.subprotocol), a.subprotocol);
  front.AttachConnection(c);
  c->Attach(&front);
  c->OnConnected();
  if (!service.options().hubs.empty()) service.upstream().Connected(c->MakeUpstreamContext());
}

// Answers the waiting upgrade request from an upstream callback: outside Front::PumpHttp, so
// the response is flushed explicitly.
void RejectLater(Front& front, uint64_t request_id, int status, std::string body) {
  front.RespondHttp(request_id, TextResponse(status, std::move(body)));
  front.FlushHttp();
}

// The blocking `connect` event (§12.4) decided; applies its answer and admits or rejects.
void OnConnectAnswered(Service& service, Front& front, uint64_t request_id,
                       const ws::UpgradeOffer& offer, Admission a, const UpstreamResult& r) {
  if (!r.ok()) {
    service.Log("connect of " + a.connection_id +
                " rejected by the event handler: " + r.Describe());
    if (r.outcome == UpstreamResult::Outcome::kResponse) {
      RejectLater(front, request_id, r.status, r.body);
    } else {
      RejectLater(front, request_id, 500, "The connect event handler failed: " + r.Describe());
    }
    return;
  }
  Result<ConnectResponse> answer = ParseConnectResponse(r.status == 204 ? "" : r.body);
  if (!answer.ok()) {
    RejectLater(front, request_id, 500, "Invalid connect response: " + answer.error().message);
    return;
  }
  if (answer->user_id) a.user_id = *answer->user_id;
  if (answer->roles) a.roles = *answer->roles;
  if (answer->groups && !answer->groups->empty()) a.groups = *answer->groups;
  for (const std::string& group : a.groups) {
    if (!IsValidGroupName(group)) {
      RejectLater(front, request_id, 500, "The connect response contains an invalid group name.");
      return;
    }
  }
  if (answer->subprotocol) {
    const bool offered = std::find(offer.subprotocols.begin(), offer.subprotocols.end(),
                                   *answer->subprotocol) != offer.subprotocols.end();
    if (!offered) {
      RejectLater(front, request_id, 500,
                  "The connect response selected a subprotocol the client did not offer.");
      return;
    }
    a.subprotocol = *answer->subprotocol;
    a.kind = KindOf(a.subprotocol);
  }
  Admit(service, front, request_id, offer, std::move(a));
}

}  // namespace

bool HandleClientEndpoint(Service& service, Front& front, const http::Request& request) {
  const http::TargetParts target = http::SplitTarget(request.target);
  const std::vector<std::string_view> segments = http::SplitPath(target.path);
  const http::QueryPairs query = http::ParseQuery(target.query);
  std::string hub_name;
  bool mqtt = false;  // /clients/mqtt/hubs/{hub} (PROTOCOL.md §10.1, service/mqtt_session.h)
  if (segments.size() == 3 && segments[0] == "client" && segments[1] == "hubs") {
    hub_name = http::DecodePathSegment(segments[2]);
  } else if (!segments.empty() && segments[0] == "client" &&
             (segments.size() == 1 || (segments.size() == 2 && segments[1].empty()))) {
    // The legacy form is documented as /client/?hub={hub}; /client?hub={hub} works too.
    const std::string* hub = http::FindQuery(query, "hub");
    if (hub == nullptr) {
      front.RespondHttp(request.id, TextResponse(400, "The hub query parameter is required."));
      return true;
    }
    hub_name = *hub;
  } else if (segments.size() == 4 && segments[0] == "clients" && segments[1] == "mqtt" &&
             segments[2] == "hubs") {
    hub_name = http::DecodePathSegment(segments[3]);
    mqtt = true;
  } else {
    return false;
  }
  if (!IsValidHubName(hub_name)) {
    front.RespondHttp(request.id, TextResponse(400, "Invalid hub name '" + hub_name + "'."));
    return true;
  }
  ws::UpgradeOffer offer = ws::ValidateUpgradeRequest(request);
  if (!offer.ok) {
    service.Log("upgrade refused from " + front.peer().ToString() + ": " + offer.reject_reason);
    front.RespondHttp(request.id, ws::RejectResponse(offer));
    return true;
  }

  // Subprotocol: the first supported one the client offers (emulator rule, §4.2): the JSON
  // and protobuf subprotocols and their reliable variants.
  ClientKind kind = ClientKind::kRaw;
  std::string subprotocol;
  for (const std::string& offered : offer.subprotocols) {
    kind = KindOf(offered);
    if (kind != ClientKind::kRaw) {
      subprotocol = offered;
      break;
    }
  }

  if (mqtt && std::find(offer.subprotocols.begin(), offer.subprotocols.end(), kMqttSubprotocol) ==
                  offer.subprotocols.end()) {
    front.RespondHttp(request.id, TextResponse(400, "The WebSocket subprotocol must be mqtt."));
    return true;
  }

  Hub& hub = service.GetHub(hub_name);

  // Recovery of a reliable connection.
  const std::string* recover_id = mqtt ? nullptr : http::FindQuery(query, "awps_connection_id");
  if (recover_id != nullptr) {
    const std::string* token = http::FindQuery(query, "awps_reconnection_token");
    auto* c = dynamic_cast<ClientConnection*>(hub.Find(*recover_id));
    front.StartWebSocket(request.id, ws::AcceptResponse(offer, subprotocol), subprotocol);
    if (c == nullptr || token == nullptr || c->kind() != kind || !c->Recover(&front, *token)) {
      service.Log("recovery of " + *recover_id + " refused");
      front.CloseWebSocket(ws::close_code::kPolicyViolation, "The connection cannot be recovered.");
      return true;
    }
    front.AttachConnection(c);
    return true;
  }

  // Authentication.
  std::optional<std::string> token;
  if (const std::string* q = http::FindQuery(query, "access_token")) token = *q;
  if (!token) token = BearerToken(request);
  // anonymousConnectPolicy (PROTOCOL.md §2.2): a hub that allows anonymous clients admits a
  // request without any token as an anonymous user (no userId, no roles, no groups; a connect
  // handler may supply them). A token that is present is always verified.
  Result<auth::Claims> claims = auth::Claims{};
  if (!token && !AllowsAnonymous(service.options().hubs, hub.name())) {
    front.RespondHttp(request.id, TextResponse(401, "The access token is missing."));
    return true;
  }
  if (token) {
    const std::string host(request.headers.Get("Host").value_or(""));
    auth::VerifyOptions verify;
    verify.now_unix_seconds = service.runtime().UnixNow() / sim::kSecond;
    verify.clock_skew_seconds = service.options().HasBug(Bug::kIgnoreTokenExpiry)
                                    ? (int64_t{1} << 40) - 1
                                    : service.options().token_clock_skew_seconds;
    verify.audiences = ClientAudiences(service.options(), host,
                                       (mqtt ? "/clients/mqtt/hubs/" : "/client/hubs/") + hub_name);
    verify.audience_match = auth::AudienceMatch::kCaseInsensitive;
    verify.accept_group_claim = true;
    claims = auth::Verify(*token, service.options().access_keys, verify);
    if (!claims.ok()) {
      service.Log("client token refused from " + front.peer().ToString() + ": " +
                  claims.error().code + ": " + claims.error().message);
      front.RespondHttp(request.id, TextResponse(401, "Unauthorized: " + claims.error().message));
      return true;
    }
  }  // if (token)
  for (const std::string& group : claims->groups) {
    if (!IsValidGroupName(group)) {
      front.RespondHttp(request.id, TextResponse(400, "The token contains an invalid group name."));
      return true;
    }
  }
  if (mqtt) {
    std::string connect_body;
    if (!service.options().hubs.empty() &&
        service.upstream().HasHandler(hub.name(), EventKind::kSystem, "connect")) {
      connect_body = Upstream::ConnectBody(*claims, query, request.headers, offer.subprotocols);
    }
    StartMqttConnection(service, front, request.id, offer, hub, *claims, std::move(connect_body));
    return true;
  }

  Admission a;
  a.hub_name = hub.name();
  a.kind = kind;
  a.subprotocol = subprotocol;
  a.connection_id = service.NewConnectionId();
  if (claims->subject && !claims->subject->empty()) a.user_id = *claims->subject;
  a.roles = claims->roles;
  a.groups = claims->groups;
  const bool blocking_connect =
      !service.options().hubs.empty() &&
      service.upstream().HasHandler(hub.name(), EventKind::kSystem, "connect");
  if (!blocking_connect) {
    Admit(service, front, request.id, offer, std::move(a));
    return true;
  }
  // Without a subprotocol in the answer the first supported one offered stays selected
  // (docs/conformance.md "Event handlers").
  UpstreamContext context;
  context.hub = hub.name();
  context.connection_id = a.connection_id;
  context.user_id = a.user_id;
  std::string body = Upstream::ConnectBody(*claims, query, request.headers, offer.subprotocols);
  service.upstream().Connect(
      context, std::move(body),
      [&service, front_id = front.id(), request_id = request.id, offer,
       a = std::move(a)](const UpstreamResult& r) mutable {
        Front* f = service.FindFront(front_id);
        if (f == nullptr) {
          // The client went away while the handler decided; nothing was admitted.
          service.Log("connect of " + a.connection_id + " answered after the client left");
          service.upstream().Forget(a.connection_id);
          return;
        }
        OnConnectAnswered(service, *f, request_id, offer, std::move(a), r);
      });
  return true;
}

}  // namespace wpsim::service
