// The CONNECT handshake of an MQTT connection of the reference service: validation, the connect
// event to the hub's handler (§12.8), taking over or creating the session, CONNACK or refusal;
// see mqtt_session.h and docs/mqtt-conformance.md for every reason code chosen here.
#include "service/mqtt_session.h"
#include "service/mqtt_internal.h"

#include <algorithm>
#include <variant>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "protocol/mqtt/encoder.h"
#include "protocol/mqtt/publish_template.h"
#include "protocol/mqtt/topic.h"
#include "protocol/webpubsub/json_text.h"
#include "protocol/websocket/frame.h"
#include "service/front.h"
#include "service/names.h"
#include "service/trace.h"
#include "protocol/http/message.h"
#include "service/upstream.h"

namespace wpsim::service {

void MqttConnection::HandleConnect(mqtt::Connect& connect) {
  version_ = decoder_.version();
  const bool v5 = version_ == ProtocolVersion::kV5;
  if (v5 && connect.properties.authentication_method) {
    RefuseConnect(ReasonCode::kBadAuthenticationMethod, "Enhanced authentication is not supported.");
    return;
  }
  // Client identifier: [0-9a-zA-Z]{1,128}; it is the connection id (PROTOCOL.md §10.1).
  bool assigned = false;
  if (connect.client_id.empty()) {
    if (!v5 && !connect.clean_start) {
      // [MQTT-3.1.3-8] of 3.1.1: an empty id needs Clean Session = 1.
      RefuseConnect(ReasonCode::kClientIdentifierNotValid,
                    "An empty client identifier needs clean session.");
      return;
    }
    connect.client_id = service_.NewConnectionId();  // 32 hex digits: a valid id
    assigned = true;
  } else if (!IsValidMqttClientId(connect.client_id)) {
    RefuseConnect(ReasonCode::kClientIdentifierNotValid,
                  "The client identifier must be 1-128 characters of 0-9a-zA-Z.");
    return;
  }
  // Keep-alive 1-180 s for 3.1.1 (PROTOCOL.md §10.1, seed 000's troubleshooting note). 3.1.1
  // has no return code for it; the service answers 0x02 (identifier rejected), the nearest
  // "this CONNECT's parameters are unacceptable" code.
  if (!v5 && (connect.keep_alive == 0 || connect.keep_alive > kMqttLimits.keep_alive_max_seconds_v311)) {
    RefuseConnect(ReasonCode::kClientIdentifierNotValid,
                  "The keep alive interval must be 1-180 seconds.");
    return;
  }
  if (connect.will) {
    mqtt::Will& will = *connect.will;
    // A group name: 1-1024 characters (UTF-16 code units, as every name length), not all
    // white space.
    if (!IsValidGroupName(will.topic)) {
      RefuseConnect(ReasonCode::kTopicNameInvalid,
                    "The will topic must be 1-1024 characters, not all whitespace.");
      return;
    }
    if (will.payload.size() > kMqttLimits.will_payload_bytes_max) {
      RefuseConnect(ReasonCode::kPacketTooLarge, "The will payload must be at most 2000 bytes.");
      return;
    }
    if (will.retain) {
      if (v5) {
        // [MQTT-3.2.2-?] Retain Available is 0: a will with retain is refused with 0x9A.
        RefuseConnect(ReasonCode::kRetainNotSupported, "Retained messages are not supported.");
        return;
      }
      will.retain = false;  // 3.1.1 cannot say so: the will is published without retain
    }
  }
  if (!connect_body_.empty()) {
    SendConnectEvent(std::move(connect), assigned);
    return;
  }
  ContinueConnect(connect, assigned, ConnectAnswer{});
}

namespace {

// The CONNACK code for a refused connect event (§12.8): the answer's {"mqtt":{"code"}} when it
// is a failure code of the client's version, else the status mapped as @azure/web-pubsub-express
// maps it the other way (400 → bad user name or password, 401 → not authorized, anything else
// → unspecified error in 5.0 / server unavailable in 3.1.1).
ReasonCode RefusalCode(const UpstreamResult& r, ProtocolVersion version, std::string* reason) {
  const bool v5 = version == ProtocolVersion::kV5;
  if (r.outcome == UpstreamResult::Outcome::kResponse) {
    nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_object() && body.contains("mqtt") && body["mqtt"].is_object()) {
      const nlohmann::json& m = body["mqtt"];
      if (m.contains("reason") && m["reason"].is_string()) *reason = m["reason"].get<std::string>();
      if (m.contains("code") && m["code"].is_number_unsigned()) {
        const uint64_t code = m["code"].get<uint64_t>();
        if (v5 && code >= 0x80 && code <= 0xFF &&
            mqtt::IsReasonCodeAllowed(mqtt::PacketType::kConnack, static_cast<uint8_t>(code))) {
          return static_cast<ReasonCode>(code);
        }
        if (!v5 && code >= 1 && code <= 5) {
          return *mqtt::ReasonCodeForV311ConnectReturnCode(static_cast<uint8_t>(code));
        }
      }
    }
    if (r.status == 400) return ReasonCode::kBadUserNameOrPassword;
    if (r.status == 401) return ReasonCode::kNotAuthorized;
  }
  return v5 ? ReasonCode::kUnspecifiedError : ReasonCode::kServerUnavailable;
}

std::vector<std::string> StringList(const nlohmann::json& v) {
  std::vector<std::string> out;
  for (const nlohmann::json& e : v) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

// Every CONNECT is sent to the connect handler (§12.8) when the hub has one: the body adds
// "mqtt": {protocolVersion, cleanStart, username, password (base64), userProperties}, the
// headers carry ce-subprotocol "mqtt" (the Express SDK detects MQTT requests by it) and
// ce-physicalConnectionId.
void MqttConnection::SendConnectEvent(mqtt::Connect connect, bool assigned) {
  state_ = State::kAwaitConnectEvent;
  if (keep_alive_timer_ != 0) {
    service_.runtime().CancelTimer(keep_alive_timer_);  // the handler has its own timeouts
    keep_alive_timer_ = 0;
  }
  nlohmann::json body = nlohmann::json::parse(connect_body_, nullptr, false);
  if (!body.is_object()) body = nlohmann::json::object();
  std::string().swap(connect_body_);
  nlohmann::json m;
  m["protocolVersion"] = version_ == ProtocolVersion::kV5 ? 5 : 4;
  m["cleanStart"] = connect.clean_start;
  m["username"] = connect.username ? nlohmann::json(*connect.username) : nlohmann::json(nullptr);
  m["password"] = connect.password ? nlohmann::json(Base64Encode(*connect.password))
                                   : nlohmann::json(nullptr);
  nlohmann::json props = nlohmann::json::array();
  for (const mqtt::UserProperty& p : connect.properties.user_properties) {
    props.push_back({{"name", p.key}, {"value", p.value}});
  }
  m["userProperties"] = std::move(props);
  body["mqtt"] = std::move(m);
  UpstreamEvent event;
  event.context.hub = hub_.name();
  event.context.connection_id = connect.client_id;
  event.context.user_id = token_user_id_;
  event.context.subprotocol = std::string(kMqttSubprotocol);
  event.context.source = "/hubs/" + hub_.name() + "/client/" + connect.client_id + "/" + physical_id_;
  event.context.extra_headers.emplace_back("ce-physicalConnectionId", physical_id_);
  event.kind = EventKind::kSystem;
  event.name = "connect";
  event.content_type = "application/json; charset=utf-8";
  // `replace`: never throw on a string that is not UTF-8 (dump() would).
  event.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  service_.upstream().Send(std::move(event), [this, alive = alive_, connect = std::move(connect),
                                              assigned](const UpstreamResult& r) mutable {
    if (*alive) OnConnectEventAnswered(std::move(connect), assigned, r);
  });
}

void MqttConnection::OnConnectEventAnswered(mqtt::Connect connect, bool assigned,
                                            const UpstreamResult& r) {
  if (state_ != State::kAwaitConnectEvent) return;  // closed meanwhile
  if (!r.ok()) {
    std::string reason = "The connect event handler refused the connection (" + r.Describe() + ").";
    const ReasonCode code = RefusalCode(r, version_, &reason);
    state_ = State::kAwaitConnect;
    RefuseConnect(code, reason);
    return;
  }
  ConnectAnswer answer;
  nlohmann::json body = nlohmann::json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
  if (body.is_discarded() || !(body.is_object() || body.is_null())) {
    state_ = State::kAwaitConnect;
    RefuseConnect(version_ == ProtocolVersion::kV5 ? ReasonCode::kUnspecifiedError
                                                   : ReasonCode::kServerUnavailable,
                  "The connect event handler answered with invalid JSON.");
    return;
  }
  if (body.is_object()) {
    if (body.contains("userId") && body["userId"].is_string()) answer.user_id = body["userId"].get<std::string>();
    if (body.contains("groups") && body["groups"].is_array() && !body["groups"].empty()) {
      answer.groups = StringList(body["groups"]);
    }
    if (body.contains("roles") && body["roles"].is_array()) answer.roles = StringList(body["roles"]);
    if (body.contains("mqtt") && body["mqtt"].is_object() && body["mqtt"].contains("userProperties") &&
        body["mqtt"]["userProperties"].is_array()) {
      for (const nlohmann::json& p : body["mqtt"]["userProperties"]) {
        if (p.is_object() && p.contains("name") && p["name"].is_string() && p.contains("value") &&
            p["value"].is_string()) {
          answer.user_properties.push_back({p["name"].get<std::string>(), p["value"].get<std::string>()});
        }
      }
    }
  }
  state_ = State::kAwaitConnect;
  ContinueConnect(connect, assigned, answer);
  if (state_ != State::kConnected) return;
  std::deque<mqtt::Packet> held;
  held.swap(held_);
  for (mqtt::Packet& p : held) {
    if (state_ != State::kConnected) break;
    HandlePacket(p);
  }
}

void MqttConnection::ContinueConnect(mqtt::Connect& connect, bool assigned,
                                     const ConnectAnswer& answer) {
  const bool v5 = version_ == ProtocolVersion::kV5;
  // Session expiry: 5.0 as requested, clamped to the 30 s the service keeps sessions; 3.1.1
  // Clean Session = 0 keeps the session for those 30 s.
  uint32_t requested_expiry = 0;
  if (v5) {
    requested_expiry = connect.properties.session_expiry_interval.value_or(0);
  } else if (!connect.clean_start) {
    requested_expiry = kMqttLimits.session_expiry_max_seconds;
  }
  const uint32_t granted_expiry = std::min(requested_expiry, kMqttLimits.session_expiry_max_seconds);
  connect_session_expiry_ = requested_expiry;

  Subscriber* existing = hub_.Find(connect.client_id);
  auto* session = dynamic_cast<MqttSession*>(existing);
  if (existing != nullptr && session == nullptr) {
    RefuseConnect(ReasonCode::kClientIdentifierNotValid,
                  "The client identifier is in use by a non-MQTT connection.");
    return;
  }
  bool session_present = false;
  if (session != nullptr) {
    if (connect.clean_start || session->version() != version_) {
      session->End("Session taken over by a clean start.", ReasonCode::kSessionTakenOver);
      session = nullptr;
    } else {
      session_present = true;
    }
  }
  if (session == nullptr) {
    auto fresh = std::make_unique<MqttSession>(service_, hub_, version_);
    fresh->connection_id = connect.client_id;
    fresh->user_id = answer.user_id ? answer.user_id : token_user_id_;
    fresh->permissions() = ConnectionPermissions::FromRoles(answer.roles ? *answer.roles : token_roles_);
    fresh->set_session_id(service_.NewConnectionId());
    session = static_cast<MqttSession*>(hub_.Add(std::move(fresh)));
    WPSIM_ASSERT(session != nullptr);
    for (const std::string& group : answer.groups ? *answer.groups : token_groups_) {
      hub_.state().Join(session, group);
      session->SetSubscription(group, MqttSession::SubscriptionState{});
    }
  }
  session->Attach(this, version_);
  session->set_physical_id(physical_id_);
  session->NoteDisconnect(false, std::nullopt);
  session_ = session;
  session->set_session_expiry_seconds(granted_expiry);
  if (connect.will) session->SetWill(std::move(connect.will));

  if (v5) {
    client_receive_maximum_ = connect.properties.receive_maximum.value_or(65535);
    client_max_packet_size_ =
        connect.properties.maximum_packet_size.value_or(mqtt::kMaxPacketSizeLimit);
  }
  keep_alive_seconds_ = connect.keep_alive;
  state_ = State::kConnected;
  ArmKeepAlive();

  mqtt::Connack ack;
  ack.session_present = session_present;
  if (v5) {
    if (assigned) ack.properties.assigned_client_identifier = connect.client_id;
    if (granted_expiry != requested_expiry) ack.properties.session_expiry_interval = granted_expiry;
    ack.properties.receive_maximum = kMqttLimits.server_receive_maximum;
    ack.properties.retain_available = 0;
    ack.properties.maximum_packet_size = kMqttLimits.max_packet_size;
    ack.properties.wildcard_subscription_available = 0;
    ack.properties.shared_subscription_available = 0;
    ack.properties.user_properties = answer.user_properties;
  }
  service_.Log("mqtt client " + connect.client_id + " connected to hub " + hub_.name() + " (" +
               std::string(mqtt::ProtocolVersionName(version_)) +
               (session_present ? ", session resumed)" : ", new session)"));
  TraceConnected(service_, front_ != nullptr ? front_->id() : 0, hub_.name(),
                 session->connection_id, session->user_id, kMqttSubprotocol);
  if (!SendPacket(ack)) return;
  if (!session_present && !service_.options().hubs.empty() &&
      service_.upstream().HasHandler(hub_.name(), EventKind::kSystem, "connected")) {
    // `connected` only when a new session was created (§12.8), with ce-sessionId.
    UpstreamEvent event;
    event.context.hub = hub_.name();
    event.context.connection_id = session->connection_id;
    event.context.user_id = session->user_id;
    event.context.subprotocol = std::string(kMqttSubprotocol);
    event.context.source =
        "/hubs/" + hub_.name() + "/client/" + session->connection_id + "/" + physical_id_;
    event.context.extra_headers = {{"ce-physicalConnectionId", physical_id_},
                                   {"ce-sessionId", session->session_id()}};
    event.kind = EventKind::kSystem;
    event.name = "connected";
    event.content_type = "application/json; charset=utf-8";
    event.body = "{}";
    service_.upstream().Send(std::move(event), nullptr);
  }
  session->Resume();
}

void MqttConnection::RefuseConnect(ReasonCode code, std::string_view reason) {
  service_.Log("mqtt CONNECT refused: " + std::string(reason));
  TraceRefused(service_, front_ != nullptr ? front_->id() : 0,
               "MQTT CONNECT refused: " + std::string(reason));
  if (front_ != nullptr) {
    mqtt::Connack ack;
    ack.reason_code = code;
    if (version_ == ProtocolVersion::kV5) {
      ack.properties.reason_string = std::string(reason);
      SendPacket(ack);
    } else if (version_ == ProtocolVersion::kV311 && mqtt::V311ConnectReturnCodeFor(code)) {
      SendPacket(ack);
    }
    // Otherwise [MQTT-3.2.2-6] (3.1.1): close without CONNACK.
  }
  Finish(false, reason);
}

}  // namespace wpsim::service
