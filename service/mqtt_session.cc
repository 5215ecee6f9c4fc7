// MQTT connections and sessions of the reference service; see mqtt_session.h for the theory
// of operation and docs/mqtt-conformance.md for every reason code chosen here.
#include "service/mqtt_session.h"

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

namespace mqtt = protocol::mqtt;
namespace ws = protocol::websocket;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;

using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

namespace {

// Time allowed between the upgrade and CONNECT ([MQTT-3.1.4] "reasonable amount of time").
constexpr sim::Nanos kConnectTimeout = 30 * sim::kSecond;

std::string_view AsText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The Web PubSub payload of an MQTT application message (§10.5): the 5.0 content type gives
// the dataType, 3.1.1 is always binary; text and json must be UTF-8 (json also valid JSON).
std::optional<wps::Payload> PayloadOf(ProtocolVersion version, const mqtt::Properties& properties,
                                      std::span<const uint8_t> bytes) {
  wps::DataType type = wps::DataType::kBinary;
  if (version == ProtocolVersion::kV5) {
    if (properties.payload_format_indicator.value_or(0) == 1 && !IsValidUtf8(AsText(bytes))) {
      return std::nullopt;
    }
    std::optional<std::string_view> content_type;
    if (properties.content_type) content_type = *properties.content_type;
    type = wps::DataTypeFromMqttContentType(content_type);
  }
  switch (type) {
    case wps::DataType::kJson:
      if (!IsValidUtf8(AsText(bytes)) || !wps::IsValidJson(AsText(bytes))) return std::nullopt;
      return wps::Payload::Json(AsText(bytes));
    case wps::DataType::kText:
      if (!IsValidUtf8(AsText(bytes))) return std::nullopt;
      return wps::Payload::Text(AsText(bytes));
    case wps::DataType::kProtobuf:
      return wps::Payload::Protobuf(bytes);
    case wps::DataType::kBinary:
      break;
  }
  return wps::Payload::Binary(bytes);
}

// Properties of a received PUBLISH (or will) that the server forwards unaltered
// ([MQTT-3.3.2-4], -15, -16, -17, -20); topic alias and subscription ids are per hop.
mqtt::Properties ForwardedProperties(const mqtt::Properties& in) {
  mqtt::Properties out;
  out.payload_format_indicator = in.payload_format_indicator;
  out.message_expiry_interval = in.message_expiry_interval;
  out.content_type = in.content_type;
  out.response_topic = in.response_topic;
  out.correlation_data = in.correlation_data;
  out.user_properties = in.user_properties;
  return out;
}

// Sets QoS, DUP and the Packet Identifier of the PUBLISH at `packet` (fixed header, Remaining
// Length, Topic Name, Packet Identifier): works for every layout PublishTemplate produces.
void PatchPublish(uint8_t* packet, uint8_t qos, uint16_t packet_id, bool dup) {
  packet[0] = static_cast<uint8_t>(0x30 | (packet[0] & 0x01) | (qos << 1) | (dup ? 0x08 : 0));
  size_t i = 1;
  while ((packet[i] & 0x80) != 0) ++i;
  ++i;
  const size_t topic_length = (static_cast<size_t>(packet[i]) << 8) | packet[i + 1];
  const size_t at = i + 2 + topic_length;
  packet[at] = static_cast<uint8_t>(packet_id >> 8);
  packet[at + 1] = static_cast<uint8_t>(packet_id & 0xFF);
}

// The properties of a packet the server sends that may carry a Reason String and User
// Properties it can leave out (acknowledgements and DISCONNECT; not PUBLISH, whose user
// properties are the application's).
mqtt::Properties* AckProperties(mqtt::Packet& packet) {
  if (auto* p = std::get_if<mqtt::Connack>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Puback>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Pubrec>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Pubrel>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Pubcomp>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Suback>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Unsuback>(&packet)) return &p->properties;
  if (auto* p = std::get_if<mqtt::Disconnect>(&packet)) return &p->properties;
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MqttConnection

MqttConnection::MqttConnection(Service& service, Hub& hub, Front* front, const auth::Claims& claims)
    : ClientConnection(service, hub, ClientKind::kMqtt, std::string(kMqttSubprotocol)),
      service_(service),
      hub_(hub),
      front_(front),
      decoder_(mqtt::DecoderOptions{mqtt::Role::kServer, ProtocolVersion::kUnknown,
                                    kMqttLimits.max_packet_size, false}),
      token_user_id_(claims.subject && !claims.subject->empty() ? claims.subject : std::nullopt),
      token_roles_(claims.roles),
      token_groups_(claims.groups),
      physical_id_(service.NewConnectionId()) {
  last_packet_at_ = service_.runtime().Now();
  keep_alive_timer_ = service_.runtime().SetTimer(last_packet_at_ + kConnectTimeout,
                                                  [this] { OnKeepAliveTimer(); });
  hub_.Pin();  // this network connection is no hub member, but refers to the hub
}

MqttConnection::~MqttConnection() {
  *alive_ = false;
  if (keep_alive_timer_ != 0) service_.runtime().CancelTimer(keep_alive_timer_);
  if (!service_.stopping()) hub_.Unpin();
}

void MqttConnection::OnMessage(ws::Opcode opcode, std::span<const uint8_t> payload) {
  if (state_ == State::kClosed) return;
  if (opcode != ws::Opcode::kBinary) {
    // [MQTT-6.0.0-1]: MQTT travels in binary frames; anything else closes the connection.
    if (front_ != nullptr) {
      Front* f = front_;
      front_ = nullptr;
      f->CloseWebSocket(ws::close_code::kUnsupportedData, "MQTT needs binary frames.");
    }
    Finish(true, "text frame");
    return;
  }
  last_packet_at_ = service_.runtime().Now();
  std::span<const uint8_t> input = payload;
  while (state_ != State::kClosed) {
    if (state_ == State::kConnected && session_ != nullptr) {
      // One PUBACK per QoS 1 delivery: decoded in place, no Packet, no property parsing.
      mqtt::SimpleAck ack;
      if (decoder_.DecodeSimpleAck(&input, &ack)) {
        HandleAck(ack);
        continue;
      }
    }
    const mqtt::DecodeStatus status = decoder_.Decode(&input, &packet_);
    if (status == mqtt::DecodeStatus::kNeedMore) break;
    if (status == mqtt::DecodeStatus::kError) {
      const mqtt::DecodeError& error = decoder_.error();
      service_.Log("mqtt decode error: " + error.ToError().message);
      switch (error.reaction) {
        case mqtt::Reaction::kSendConnackAndClose:
          version_ = error.reply_version;
          RefuseConnect(error.reason_code, error.message);
          break;
        case mqtt::Reaction::kSendDisconnectAndClose:
          ProtocolViolation(error.reason_code, error.message);
          break;
        case mqtt::Reaction::kCloseConnection:
          Disconnect(ReasonCode::kMalformedPacket, error.message);
          break;
      }
      return;
    }
    HandlePacket(packet_);
  }
}

void MqttConnection::HandlePacket(mqtt::Packet& packet) {
  if (state_ == State::kAwaitConnectEvent) {
    // The client may send before CONNACK ([MQTT-3.1.4-?]: "MAY send ... immediately"): keep the
    // packets until the connect handler answered. A second CONNECT is a protocol error.
    // No DISCONNECT before a successful CONNACK ([MQTT-3.14.0-1]): just close.
    if (std::holds_alternative<mqtt::Connect>(packet)) {
      Finish(true, "a second CONNECT");
      return;
    }
    if (held_.size() >= kMqttLimits.server_receive_maximum) {
      Finish(true, "too many packets before the connect handler answered");
      return;
    }
    held_.push_back(std::move(packet));
    return;
  }
  if (auto* connect = std::get_if<mqtt::Connect>(&packet)) {
    HandleConnect(*connect);
    return;
  }
  if (state_ != State::kConnected || session_ == nullptr) return;
  switch (mqtt::TypeOf(packet)) {
    case mqtt::PacketType::kPublish:
      HandlePublish(std::get<mqtt::Publish>(packet));
      break;
    case mqtt::PacketType::kPuback: {
      const auto& a = std::get<mqtt::Puback>(packet);
      HandleAck({mqtt::PacketType::kPuback, a.packet_id, a.reason_code});
      break;
    }
    case mqtt::PacketType::kPubrec: {
      const auto& a = std::get<mqtt::Pubrec>(packet);
      HandleAck({mqtt::PacketType::kPubrec, a.packet_id, a.reason_code});
      break;
    }
    case mqtt::PacketType::kPubrel: {
      const auto& a = std::get<mqtt::Pubrel>(packet);
      HandleAck({mqtt::PacketType::kPubrel, a.packet_id, a.reason_code});
      break;
    }
    case mqtt::PacketType::kPubcomp: {
      const auto& a = std::get<mqtt::Pubcomp>(packet);
      HandleAck({mqtt::PacketType::kPubcomp, a.packet_id, a.reason_code});
      break;
    }
    case mqtt::PacketType::kSubscribe:
      HandleSubscribe(std::get<mqtt::Subscribe>(packet));
      break;
    case mqtt::PacketType::kUnsubscribe:
      HandleUnsubscribe(std::get<mqtt::Unsubscribe>(packet));
      break;
    case mqtt::PacketType::kPingreq:
      SendPacket(mqtt::Pingresp{});
      break;
    case mqtt::PacketType::kDisconnect:
      HandleDisconnect(std::get<mqtt::Disconnect>(packet));
      break;
    case mqtt::PacketType::kAuth:
      // No Authentication Method was accepted in CONNECT, so AUTH is a Protocol Error
      // ([MQTT-4.12.0-1]).
      ProtocolViolation(ReasonCode::kProtocolError, "AUTH without an authentication method.");
      break;
    default:
      break;  // the server-side decoder refuses the server-to-client types
  }
}

void MqttConnection::HandleAck(const mqtt::SimpleAck& ack) {
  switch (ack.type) {
    case mqtt::PacketType::kPuback:
      session_->OnPuback(ack.packet_id);
      break;
    case mqtt::PacketType::kPubrec:
      if (!session_->OnPubrec(ack.packet_id, ack.reason_code)) {
        mqtt::Pubrel rel;
        rel.packet_id = ack.packet_id;
        rel.reason_code = ReasonCode::kPacketIdentifierNotFound;
        SendPacket(rel);
      }
      break;
    case mqtt::PacketType::kPubrel: {
      mqtt::Pubcomp comp;
      comp.packet_id = ack.packet_id;
      if (session_->inbound_qos2().erase(ack.packet_id) == 0) {
        comp.reason_code = ReasonCode::kPacketIdentifierNotFound;
      }
      SendPacket(comp);
      break;
    }
    case mqtt::PacketType::kPubcomp:
      session_->OnPubcomp(ack.packet_id);
      break;
    default:
      WPSIM_ASSERT(false);
  }
}

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

void MqttConnection::AckPublish(const mqtt::Publish& publish, ReasonCode code) {
  if (publish.qos == 1) {
    mqtt::Puback ack;
    ack.packet_id = publish.packet_id;
    ack.reason_code = code;
    SendPacket(ack);
  } else if (publish.qos == 2) {
    mqtt::Pubrec rec;
    rec.packet_id = publish.packet_id;
    rec.reason_code = code;
    if (!mqtt::IsError(code)) session_->inbound_qos2().insert(publish.packet_id);
    SendPacket(rec);
  }
}

void MqttConnection::HandlePublish(mqtt::Publish& publish) {
  const bool v5 = version_ == ProtocolVersion::kV5;
  if (v5 && publish.properties.topic_alias) {
    // CONNACK announced Topic Alias Maximum 0 ([MQTT-3.3.2-9]).
    ProtocolViolation(ReasonCode::kTopicAliasInvalid, "Topic aliases are not supported.");
    return;
  }
  if (publish.retain && v5) {
    // Retain Available is 0 ([MQTT-3.3.1-?], 3.2.2.3.5): DISCONNECT 0x9A.
    ProtocolViolation(ReasonCode::kRetainNotSupported, "Retained messages are not supported.");
    return;
  }
  if (publish.qos == 2) {
    if (session_->inbound_qos2().count(publish.packet_id) != 0) {
      AckPublish(publish, ReasonCode::kSuccess);  // a DUP of a message already delivered
      return;
    }
    if (session_->inbound_qos2().size() >= kMqttLimits.server_receive_maximum) {
      ProtocolViolation(ReasonCode::kReceiveMaximumExceeded, "Receive Maximum exceeded.");
      return;
    }
  }
  if (publish.topic.starts_with(kMqttServerEventsPrefix)) {
    HandleUpstreamEvent(publish);
    return;
  }
  if (!IsValidGroupName(publish.topic)) {
    AckPublish(publish, ReasonCode::kTopicNameInvalid);
    return;
  }
  if (!session_->permissions().CanSendTo(publish.topic)) {
    AckPublish(publish, ReasonCode::kNotAuthorized);
    return;
  }
  std::optional<wps::Payload> payload = PayloadOf(version_, publish.properties, publish.payload);
  if (!payload) {
    AckPublish(publish, ReasonCode::kPayloadFormatInvalid);
    return;
  }
  OutboundMessage message =
      OutboundMessage::Group(publish.topic, session_->user_id, std::move(*payload));
  message.mqtt_qos = publish.qos;
  if (v5) {
    message.mqtt_properties = ForwardedProperties(publish.properties);
    message.message_expiry_seconds = publish.properties.message_expiry_interval;
  }
  message.sender_connection_id = session_->connection_id;
  Hub& hub = hub_;
  MqttSession* session = session_;
  hub.SendToGroup(publish.topic, message);
  // Delivering may have ended this connection (e.g. its own slow-consumer close).
  if (state_ != State::kConnected || session_ != session) return;
  AckPublish(publish, ReasonCode::kSuccess);
}

// UPSTREAM HOOK (PROTOCOL.md §12.8). A PUBLISH to $webpubsub/server/events/{event} is a user
// event: the PUBLISH is acknowledged (it was received), the payload goes upstream
// (service/upstream.h) with the 5.0 content type and user properties as mqtt-<name> headers,
// and the handler's answer comes back on .../{event}/succeeded (2xx) or .../failed: payload =
// response body, content type = response Content-Type, mqtt-<name> response headers → user
// properties, plus azure-status-code and the publisher's correlation data. Without a
// handler the service answers on .../failed with azure-status-code 500 at once. The system
// events (connect/connected/disconnected) are sent by SendConnectEvent, ContinueConnect and
// MqttSession::End.
void MqttConnection::HandleUpstreamEvent(const mqtt::Publish& publish) {
  const std::string_view event = std::string_view(publish.topic).substr(kMqttServerEventsPrefix.size());
  if (event.empty() || event.find('/') != std::string_view::npos) {
    AckPublish(publish, ReasonCode::kTopicNameInvalid);
    return;
  }
  if (!session_->permissions().CanSendTo(publish.topic)) {
    AckPublish(publish, ReasonCode::kNotAuthorized);
    return;
  }
  AckPublish(publish, ReasonCode::kSuccess);
  if (state_ != State::kConnected || session_ == nullptr) return;
  if (!service_.options().hubs.empty() &&
      service_.upstream().HasHandler(hub_.name(), EventKind::kUser, event)) {
    UpstreamContext context;
    context.hub = hub_.name();
    context.connection_id = session_->connection_id;
    context.user_id = session_->user_id;
    context.subprotocol = std::string(kMqttSubprotocol);
    for (const mqtt::UserProperty& p : publish.properties.user_properties) {
      context.extra_headers.emplace_back("mqtt-" + p.key, p.value);
    }
    std::string content_type = publish.properties.content_type.value_or(
        std::string(wps::HttpContentType(wps::DataType::kBinary)));
    service_.upstream().UserEvent(
        context, event, std::move(content_type), std::string(AsText(publish.payload)),
        [&service = service_, hub_name = hub_.name(), id = session_->connection_id,
         topic = publish.topic, qos = std::min<uint8_t>(publish.qos, 1),
         correlation = publish.properties.correlation_data](const UpstreamResult& r) {
          Hub* hub = service.FindHub(hub_name);
          auto* session = hub == nullptr ? nullptr : dynamic_cast<MqttSession*>(hub->Find(id));
          if (session == nullptr) return;  // the session ended while the handler worked
          const bool ok = r.ok();
          OutboundMessage reply = OutboundMessage::Group(
              topic + (ok ? "/succeeded" : "/failed"), std::nullopt,
              wps::Payload::Binary(AsBytes(std::string_view(ok || !r.body.empty() ? r.body : r.error))));
          reply.mqtt_qos = qos;
          mqtt::Properties properties;
          if (std::optional<std::string_view> ct = r.headers.Get("Content-Type")) {
            properties.content_type = std::string(*ct);
          }
          properties.correlation_data = correlation;
          for (const protocol::http::Header& h : r.headers) {
            if (h.name.size() > 5 && protocol::http::EqualsIgnoreCase(h.name.substr(0, 5), "mqtt-")) {
              properties.user_properties.push_back({h.name.substr(5), h.value});
            }
          }
          properties.user_properties.push_back(
              {"azure-status-code", std::to_string(r.outcome == UpstreamResult::Outcome::kResponse
                                                       ? r.status
                                                       : 500)});
          reply.mqtt_properties = std::move(properties);
          session->Deliver(reply);
        });
    return;
  }
  OutboundMessage reply = OutboundMessage::Group(
      publish.topic + "/failed", std::nullopt,
      wps::Payload::Text("No event handler is configured for event '" + std::string(event) + "'."));
  reply.mqtt_qos = std::min<uint8_t>(publish.qos, 1);
  mqtt::Properties properties;
  properties.content_type = "text/plain";
  properties.correlation_data = publish.properties.correlation_data;
  properties.user_properties.push_back({"azure-status-code", "500"});
  reply.mqtt_properties = std::move(properties);
  session_->Deliver(reply);
}

void MqttConnection::HandleSubscribe(const mqtt::Subscribe& subscribe) {
  const bool v5 = version_ == ProtocolVersion::kV5;
  std::optional<uint32_t> identifier;
  if (!subscribe.properties.subscription_identifiers.empty()) {
    identifier = subscribe.properties.subscription_identifiers.front();
  }
  mqtt::Suback ack;
  ack.packet_id = subscribe.packet_id;
  for (const mqtt::Subscription& s : subscribe.subscriptions) {
    const std::string& filter = s.topic_filter;
    ReasonCode code;
    if (v5 && filter.starts_with("$share/")) {
      code = ReasonCode::kSharedSubscriptionsNotSupported;
    } else if (mqtt::HasWildcard(filter)) {
      code = v5 ? ReasonCode::kWildcardSubscriptionsNotSupported : ReasonCode::kUnspecifiedError;
    } else if (!IsValidGroupName(filter)) {
      code = v5 ? ReasonCode::kTopicFilterInvalid : ReasonCode::kUnspecifiedError;
    } else if (!session_->permissions().CanJoinLeave(filter)) {
      code = v5 ? ReasonCode::kNotAuthorized : ReasonCode::kUnspecifiedError;
    } else if ((session_->subscription_count() >= kMqttLimits.subscriptions_max &&
                session_->FindSubscription(filter) == nullptr) ||
               hub_.state().AtGroupLimit(session_, filter)) {
      code = v5 ? ReasonCode::kQuotaExceeded : ReasonCode::kUnspecifiedError;
    } else {
      hub_.state().Join(session_, filter);
      MqttSession::SubscriptionState state;
      state.qos = s.options.qos;
      state.no_local = s.options.no_local;
      state.subscription_identifier = identifier;
      session_->SetSubscription(filter, state);
      code = static_cast<ReasonCode>(s.options.qos);
    }
    if (v5 && mqtt::IsError(code)) {
      ack.properties.reason_string = "Refused '" + filter + "': " +
          std::string(mqtt::ReasonCodeName(code, mqtt::PacketType::kSuback));
    }
    ack.reason_codes.push_back(code);
  }
  SendPacket(ack);
}

void MqttConnection::HandleUnsubscribe(const mqtt::Unsubscribe& unsubscribe) {
  mqtt::Unsuback ack;
  ack.packet_id = unsubscribe.packet_id;
  for (const std::string& filter : unsubscribe.topic_filters) {
    const bool had = session_->EraseSubscription(filter);
    const bool left = hub_.state().Leave(session_, filter);
    ack.reason_codes.push_back(had || left ? ReasonCode::kSuccess
                                           : ReasonCode::kNoSubscriptionExisted);
  }
  SendPacket(ack);
}

void MqttConnection::HandleDisconnect(const mqtt::Disconnect& disconnect) {
  bool publish_will = false;
  if (version_ == ProtocolVersion::kV5) {
    if (disconnect.properties.session_expiry_interval) {
      const uint32_t expiry = *disconnect.properties.session_expiry_interval;
      if (connect_session_expiry_ == 0 && expiry != 0) {
        ProtocolViolation(ReasonCode::kProtocolError,
                          "Session expiry cannot be set on DISCONNECT after 0 on CONNECT.");
        return;
      }
      session_->set_session_expiry_seconds(std::min(expiry, kMqttLimits.session_expiry_max_seconds));
    }
    publish_will = disconnect.reason_code == ReasonCode::kDisconnectWithWillMessage;
  }
  if (session_ != nullptr) session_->NoteDisconnect(true, disconnect);
  Finish(publish_will, "client DISCONNECT");
}

void MqttConnection::ProtocolViolation(ReasonCode code, std::string_view reason) {
  Disconnect(code, reason);
}

void MqttConnection::Disconnect(ReasonCode code, std::string_view reason) {
  if (state_ == State::kClosed) return;
  if (version_ == ProtocolVersion::kV5 && front_ != nullptr) {
    mqtt::Disconnect packet;
    packet.reason_code = code;
    if (!reason.empty()) packet.properties.reason_string = std::string(reason);
    SendPacket(packet);
  }
  Finish(true, reason);
}

void MqttConnection::CloseByService(std::string_view reason) {
  Disconnect(ReasonCode::kAdministrativeAction, reason);
}

void MqttConnection::OnTransportClosed(bool client_closed, std::string_view reason) {
  (void)client_closed;
  front_ = nullptr;  // the Front detached itself
  Finish(true, reason.empty() ? "transport closed" : reason);
}

bool MqttConnection::SendFrame(const SharedBytes& frame) {
  if (front_ == nullptr || state_ == State::kClosed) return false;
  if (front_->SendEncoded(frame).ok()) return true;
  Front* f = front_;
  front_ = nullptr;
  f->CloseWebSocket(ws::close_code::kPolicyViolation, "slow consumer");
  Finish(true, "slow consumer");
  return false;
}

bool MqttConnection::SendPublishCopy(std::span<const uint8_t> frame, size_t mqtt_offset,
                                     uint8_t qos, uint16_t packet_id, bool dup,
                                     std::optional<uint32_t> expiry_seconds) {
  if (front_ == nullptr || state_ == State::kClosed) return false;
  Result<std::span<uint8_t>> copy = front_->SendEncodedCopy(frame);
  if (!copy.ok()) {
    Front* f = front_;
    front_ = nullptr;
    f->CloseWebSocket(ws::close_code::kPolicyViolation, "slow consumer");
    Finish(true, "slow consumer");
    return false;
  }
  const std::span<uint8_t> packet = copy.value().subspan(mqtt_offset);
  PatchPublish(packet.data(), qos, packet_id, dup);
  if (expiry_seconds && version_ == ProtocolVersion::kV5) {
    if (const std::optional<size_t> at = mqtt::FindMessageExpiry(packet)) {
      for (int i = 0; i < 4; ++i) {
        packet[*at + i] = static_cast<uint8_t>(*expiry_seconds >> (24 - 8 * i));
      }
    }
  }
  if (service_.tracer() != nullptr) front_->TraceFrameOut(copy.value());
  return true;
}

bool MqttConnection::SendPacket(const mqtt::Packet& packet) {
  scratch_.clear();
  const ProtocolVersion version =
      version_ == ProtocolVersion::kUnknown ? ProtocolVersion::kV5 : version_;
  if (!mqtt::Encode(packet, version, &scratch_).ok()) return false;
  if (scratch_.size() > client_max_packet_size_) {
    // The Reason String and User Properties of an acknowledgement or DISCONNECT are left out
    // when they would make it larger than the client's Maximum Packet Size ([MQTT-3.2.2-19],
    // -20, [MQTT-3.4.2-2], -3, [MQTT-3.9.2-1], -2, [MQTT-3.11.2-1], -2, [MQTT-3.14.2-3], -4, ...);
    // only a packet still too large without them is not sent ([MQTT-3.1.2-24]).
    mqtt::Packet bare = packet;
    mqtt::Properties* properties = AckProperties(bare);
    if (properties == nullptr ||
        (!properties->reason_string && properties->user_properties.empty())) {
      return true;
    }
    properties->reason_string.reset();
    properties->user_properties.clear();
    scratch_.clear();
    if (!mqtt::Encode(bare, version, &scratch_).ok()) return false;
    if (scratch_.size() > client_max_packet_size_) return true;
  }
  return SendFrame(ws::EncodeServerFrame(ws::Opcode::kBinary, scratch_));
}

void MqttConnection::ArmKeepAlive() {
  if (keep_alive_timer_ != 0) {
    service_.runtime().CancelTimer(keep_alive_timer_);
    keep_alive_timer_ = 0;
  }
  if (keep_alive_seconds_ == 0 || state_ != State::kConnected) return;
  // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0): one and a half times the Keep Alive.
  const sim::Nanos deadline = last_packet_at_ + keep_alive_seconds_ * sim::kSecond * 3 / 2;
  keep_alive_timer_ = service_.runtime().SetTimer(deadline, [this] { OnKeepAliveTimer(); });
}

void MqttConnection::OnKeepAliveTimer() {
  keep_alive_timer_ = 0;
  if (state_ == State::kClosed) return;
  const sim::Nanos now = service_.runtime().Now();
  if (state_ == State::kAwaitConnect) {
    if (now - last_packet_at_ >= kConnectTimeout) {
      Finish(false, "no CONNECT in time");
    } else {
      keep_alive_timer_ = service_.runtime().SetTimer(last_packet_at_ + kConnectTimeout,
                                                      [this] { OnKeepAliveTimer(); });
    }
    return;
  }
  if (now - last_packet_at_ >= keep_alive_seconds_ * sim::kSecond * 3 / 2) {
    ProtocolViolation(ReasonCode::kKeepAliveTimeout, "Keep alive timeout.");
    return;
  }
  ArmKeepAlive();
}

void MqttConnection::Finish(bool abnormal, std::string_view reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (keep_alive_timer_ != 0) {
    service_.runtime().CancelTimer(keep_alive_timer_);
    keep_alive_timer_ = 0;
  }
  if (front_ != nullptr) {
    Front* f = front_;
    front_ = nullptr;
    f->CloseWebSocket(ws::close_code::kNormal, reason);
  }
  if (session_ != nullptr) {
    MqttSession* s = session_;
    session_ = nullptr;
    s->Detach(this, abnormal);
  }
  service_.Unkeep(keep_key_);  // buried: destroyed after this callback
}

// ---------------------------------------------------------------------------------------------
// MqttSession

MqttSession::MqttSession(Service& service, Hub& hub, ProtocolVersion version)
    : version_(version), service_(service), hub_(hub) {}

const MqttSession::SubscriptionState* MqttSession::FindSubscription(std::string_view filter) const {
  auto it = subscriptions_.find(filter);
  return it == subscriptions_.end() ? nullptr : &it->second;
}

void MqttSession::SetSubscription(const std::string& filter, const SubscriptionState& state) {
  subscriptions_[filter] = state;
  RefreshSoleSubscription();
}

bool MqttSession::EraseSubscription(std::string_view filter) {
  auto it = subscriptions_.find(filter);
  if (it == subscriptions_.end()) return false;
  subscriptions_.erase(it);
  RefreshSoleSubscription();
  return true;
}

void MqttSession::RefreshSoleSubscription() {
  has_sole_ = false;
  if (subscriptions_.size() != 1) return;
  const auto& [filter, state] = *subscriptions_.begin();
  if (filter.size() > kSoleFilterMax || state.subscription_identifier) return;
  std::copy(filter.begin(), filter.end(), sole_filter_);
  sole_filter_size_ = static_cast<uint8_t>(filter.size());
  sole_qos_ = state.qos;
  sole_no_local_ = state.no_local;
  has_sole_ = true;
}

MqttSession::~MqttSession() { CancelTimers(); }

void MqttSession::CancelTimers() {
  if (expiry_timer_ != 0) service_.runtime().CancelTimer(expiry_timer_);
  if (will_timer_ != 0) service_.runtime().CancelTimer(will_timer_);
  expiry_timer_ = 0;
  will_timer_ = 0;
}

void MqttSession::Attach(MqttConnection* connection, ProtocolVersion version) {
  if (connection_ != nullptr && connection_ != connection) {
    // Session takeover ([MQTT-3.1.4-3]): the older connection gets DISCONNECT 0x8E and is
    // closed; its will is published unless a will delay lets this resumption cancel it.
    MqttConnection* old = connection_;
    connection_ = nullptr;
    old->ForgetSession();
    old->Disconnect(ReasonCode::kSessionTakenOver, "Session taken over.");
    if (will_ && will_->properties.will_delay_interval.value_or(0) == 0) PublishWill();
  }
  // A new connection before the will delay elapsed cancels the will ([MQTT-3.1.3-9]).
  will_.reset();
  CancelTimers();
  version_ = version;
  connection_ = connection;
}

void MqttSession::Detach(MqttConnection* connection, bool abnormal) {
  if (connection != connection_) return;
  connection_ = nullptr;
  if (!abnormal) will_.reset();  // [MQTT-3.1.2-10]: a normal DISCONNECT discards the will
  if (session_expiry_seconds_ == 0) {
    End("The network connection closed and the session expiry is 0.");
    return;
  }
  if (will_) {
    const uint32_t delay = will_->properties.will_delay_interval.value_or(0);
    if (delay == 0) {
      PublishWill();
    } else {
      ArmWill(std::min<sim::Nanos>(delay, session_expiry_seconds_) * sim::kSecond);
    }
  }
  ArmExpiry();
}

void MqttSession::ArmExpiry() {
  if (expiry_timer_ != 0) service_.runtime().CancelTimer(expiry_timer_);
  expiry_timer_ = service_.runtime().SetTimer(
      service_.runtime().Now() + sim::Nanos{session_expiry_seconds_} * sim::kSecond, [this] {
        expiry_timer_ = 0;
        End("Session expired.");
      });
}

void MqttSession::ArmWill(sim::Nanos delay) {
  if (will_timer_ != 0) service_.runtime().CancelTimer(will_timer_);
  will_timer_ = service_.runtime().SetTimer(service_.runtime().Now() + delay, [this] {
    will_timer_ = 0;
    PublishWill();
  });
}

void MqttSession::PublishWill() {
  if (!will_) return;
  mqtt::Will will = std::move(*will_);
  will_.reset();
  if (will_timer_ != 0) {
    service_.runtime().CancelTimer(will_timer_);
    will_timer_ = 0;
  }
  // The will is a group message from this client and needs the same permission as PUBLISH.
  if (!IsValidGroupName(will.topic) || !permissions().CanSendTo(will.topic)) return;
  std::optional<wps::Payload> payload = PayloadOf(version_, will.properties, will.payload);
  if (!payload) payload = wps::Payload::Binary(will.payload);
  OutboundMessage message = OutboundMessage::Group(will.topic, user_id, std::move(*payload));
  message.mqtt_qos = will.qos;
  if (version_ == ProtocolVersion::kV5) {
    message.mqtt_properties = ForwardedProperties(will.properties);
    message.message_expiry_seconds = will.properties.message_expiry_interval;
  }
  message.sender_connection_id = connection_id;
  service_.Log("mqtt will of " + connection_id + " published to " + will.topic);
  hub_.SendToGroup(will.topic, message);
}

void MqttSession::End(std::string_view reason, ReasonCode code) {
  if (ended_) return;
  ended_ = true;
  service_.Log("mqtt session " + connection_id + " ended: " + std::string(reason));
  TraceClosed(service_, hub_.name(), connection_id, user_id, reason);
  if (!service_.options().hubs.empty() &&
      service_.upstream().HasHandler(hub_.name(), EventKind::kSystem, "disconnected")) {
    // `disconnected` when the session ends (§12.8): {"reason", "mqtt": {initiatedByClient,
    // disconnectPacket: {code, userProperties} | null}} (code 0 for 3.1.1).
    nlohmann::json packet = nullptr;
    if (disconnect_packet_) {
      nlohmann::json props = nlohmann::json::array();
      for (const mqtt::UserProperty& p : disconnect_packet_->properties.user_properties) {
        props.push_back({{"name", p.key}, {"value", p.value}});
      }
      packet = {{"code", version_ == ProtocolVersion::kV5
                             ? static_cast<int>(disconnect_packet_->reason_code)
                             : 0},
                {"userProperties", std::move(props)}};
    }
    nlohmann::json body = {{"reason", std::string(reason)},
                           {"mqtt", {{"initiatedByClient", disconnect_by_client_},
                                     {"disconnectPacket", std::move(packet)}}}};
    UpstreamEvent event;
    event.context.hub = hub_.name();
    event.context.connection_id = connection_id;
    event.context.user_id = user_id;
    event.context.subprotocol = std::string(kMqttSubprotocol);
    event.context.source = "/hubs/" + hub_.name() + "/client/" + connection_id + "/" + physical_id_;
    event.context.extra_headers = {{"ce-physicalConnectionId", physical_id_},
                                   {"ce-sessionId", session_id_}};
    event.kind = EventKind::kSystem;
    event.name = "disconnected";
    event.content_type = "application/json; charset=utf-8";
    event.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    event.last = true;
    service_.upstream().Send(std::move(event), nullptr);
  }
  if (connection_ != nullptr) {
    MqttConnection* c = connection_;
    connection_ = nullptr;
    c->ForgetSession();
    c->Disconnect(code, reason);
  }
  PublishWill();
  CancelTimers();
  inflight_.clear();
  queue_.clear();
  hub_.Remove(this);  // leaves every group; destroyed after this callback
}

void MqttSession::CloseByService(std::string_view reason) {
  End(reason.empty() ? "Closed by the service." : reason, ReasonCode::kAdministrativeAction);
}

void MqttSession::Deliver(OutboundMessage& message) {
  if (ended_) return;
  // Group-stream fragments arrive as ordinary messages; a bare end-of-stream (no payload) has
  // no MQTT form (PROTOCOL.md §9.1, docs/conformance.md STREAM-006).
  if (!message.has_payload()) return;
  uint8_t qos = 1;
  uint32_t identifier = 0;  // 5.0 Subscription Identifier, 0 = none (valid ones are >= 1)
  if (message.from() == OutboundMessage::From::kGroup) {
    const std::string& group = message.group();
    bool subscribed = false;
    bool no_local = false;
    uint8_t granted = 0;
    if (has_sole_) {
      if (std::string_view(sole_filter_, sole_filter_size_) == group) {
        subscribed = true;
        no_local = sole_no_local_;
        granted = sole_qos_;
      }
    } else if (auto it = subscriptions_.find(group); it != subscriptions_.end()) {
      subscribed = true;
      no_local = it->second.no_local;
      granted = it->second.qos;
      identifier = it->second.subscription_identifier.value_or(0);
    }
    if (subscribed) {
      if (no_local && message.sender_connection_id == connection_id) return;
      qos = std::min(message.mqtt_qos, granted);
    } else {
      qos = std::min<uint8_t>(message.mqtt_qos, 1);  // REST-added: default options, QoS 1
    }
  }
  const bool online = connection_ != nullptr && connection_->connected();
  const mqtt::PublishTemplate& t = message.MqttTemplate(version_);
  if (version_ != ProtocolVersion::kV5) identifier = 0;
  if (qos == 0) {
    // QoS 0 is not stored for offline sessions ([MQTT-3.1.2-?] "MAY"; the service does not).
    if (!online) return;
    if (identifier == 0) {
      if (t.size(0) > connection_->client_max_packet_size()) return;
      connection_->SendFrame(message.MqttQos0Frame(version_));
      return;
    }
    scratch_.clear();
    const uint32_t ids[1] = {identifier};
    t.AppendTo(&scratch_, 0, 0, false, ids);
    if (scratch_.size() > connection_->client_max_packet_size()) return;
    connection_->SendFrame(ws::EncodeServerFrame(ws::Opcode::kBinary, scratch_));
    return;
  }
  Outgoing outgoing;
  outgoing.qos = qos;
  if (message.message_expiry_seconds && *message.message_expiry_seconds > 0) {
    outgoing.expires_at =
        service_.runtime().Now() + sim::Nanos{*message.message_expiry_seconds} * sim::kSecond;
  }
  if (identifier == 0) {
    // Every QoS 1/2 receiver without a subscription identifier shares one frame; the packet
    // id, flags and remaining expiry are patched into the copy each send makes.
    outgoing.frame = message.MqttQos1Frame(version_);
    outgoing.mqtt_offset = static_cast<uint32_t>(outgoing.frame.size() - t.qos1_image().size());
  } else {
    scratch_.clear();
    const uint32_t ids[1] = {identifier};
    t.AppendTo(&scratch_, qos, 1, false, ids);  // the identifier is patched when sent
    outgoing.frame = ws::EncodeServerFrame(ws::Opcode::kBinary, scratch_);
    outgoing.mqtt_offset = static_cast<uint32_t>(outgoing.frame.size() - scratch_.size());
  }
  SendOrQueue(std::move(outgoing));
}

void MqttSession::SendOrQueue(Outgoing outgoing) {
  const bool online = connection_ != nullptr && connection_->connected();
  if (online && queue_.empty() && inflight_.size() < connection_->client_receive_maximum()) {
    outgoing.packet_id = NextPacketId();
    inflight_.push_back(std::move(outgoing));
    if (!SendInflight(inflight_.back(), false) && !inflight_.empty()) inflight_.pop_back();
    return;
  }
  if (queue_.size() >= kMqttLimits.queued_messages_max) {
    service_.Log("mqtt session " + connection_id + ": queue full, message dropped");
    return;
  }
  queue_.push_back(std::move(outgoing));
}

// Returns false when the message was not sent and must be forgotten (too large for the
// client: [MQTT-3.1.2-25] treats it as delivered).
bool MqttSession::SendInflight(Outgoing& outgoing, bool dup) {
  const size_t packet_size = outgoing.frame.size() - outgoing.mqtt_offset;
  if (connection_ == nullptr) return true;  // kept for the next connection
  if (packet_size > connection_->client_max_packet_size()) return false;
  std::optional<uint32_t> expiry_left;
  if (outgoing.expires_at != 0) {
    // [MQTT-3.3.2-6]: the interval sent is the received one minus the time the message
    // waited here (rounded up: a message that waited less than a second keeps its value).
    const sim::Nanos left = std::max<sim::Nanos>(outgoing.expires_at - service_.runtime().Now(), 1);
    expiry_left = static_cast<uint32_t>((left + sim::kSecond - 1) / sim::kSecond);
  }
  connection_->SendPublishCopy(outgoing.frame.span(), outgoing.mqtt_offset, outgoing.qos,
                               outgoing.packet_id, dup, expiry_left);
  return true;
}

void MqttSession::Resume() {
  // [MQTT-4.4.0-1]: resend unacknowledged PUBLISH (with DUP) and PUBREL, in order.
  for (size_t i = 0; i < inflight_.size() && connection_ != nullptr; ++i) {
    Outgoing& o = inflight_[i];
    if (o.released) {
      mqtt::Pubrel rel;
      rel.packet_id = o.packet_id;
      connection_->SendPacket(rel);
    } else {
      SendInflight(o, true);
    }
  }
  Pump();
}

void MqttSession::Pump() {
  if (queue_.empty()) return;
  const sim::Nanos now = service_.runtime().Now();
  while (connection_ != nullptr && connection_->connected() && !queue_.empty() &&
         inflight_.size() < connection_->client_receive_maximum()) {
    Outgoing o = queue_.pop_front();
    if (o.expires_at != 0 && now >= o.expires_at) continue;  // 5.0 message expiry
    o.packet_id = NextPacketId();
    inflight_.push_back(std::move(o));
    if (!SendInflight(inflight_.back(), false) && !inflight_.empty()) inflight_.pop_back();
  }
}

uint16_t MqttSession::NextPacketId() {
  for (;;) {
    const uint16_t id = next_packet_id_;
    next_packet_id_ = next_packet_id_ == 65535 ? 1 : static_cast<uint16_t>(next_packet_id_ + 1);
    bool used = false;
    for (size_t i = 0; i < inflight_.size(); ++i) {
      if (inflight_[i].packet_id == id) {
        used = true;
        break;
      }
    }
    if (!used) return id;
  }
}

void MqttSession::OnPuback(uint16_t packet_id) {
  for (size_t i = 0; i < inflight_.size(); ++i) {
    const Outgoing& o = inflight_[i];
    if (o.packet_id == packet_id && o.qos == 1) {
      inflight_.erase(i);
      Pump();
      return;
    }
  }
}

bool MqttSession::OnPubrec(uint16_t packet_id, ReasonCode code) {
  for (size_t i = 0; i < inflight_.size(); ++i) {
    Outgoing& o = inflight_[i];
    if (o.packet_id != packet_id || o.qos != 2) continue;
    if (mqtt::IsError(code)) {
      inflight_.erase(i);
      Pump();
      return true;
    }
    o.released = true;
    o.frame = SharedBytes();  // the PUBLISH is never sent again
    mqtt::Pubrel rel;
    rel.packet_id = packet_id;
    if (connection_ != nullptr) connection_->SendPacket(rel);
    return true;
  }
  return false;
}

void MqttSession::OnPubcomp(uint16_t packet_id) {
  for (size_t i = 0; i < inflight_.size(); ++i) {
    if (inflight_[i].packet_id == packet_id && inflight_[i].qos == 2) {
      inflight_.erase(i);
      Pump();
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------

void StartMqttConnection(Service& service, Front& front, uint64_t request_id,
                         const ws::UpgradeOffer& offer, Hub& hub, const auth::Claims& claims,
                         std::string connect_body) {
  front.StartWebSocket(request_id, ws::AcceptResponse(offer, kMqttSubprotocol),
                       std::string(kMqttSubprotocol));
  auto connection = std::make_unique<MqttConnection>(service, hub, &front, claims);
  MqttConnection* raw = connection.get();
  raw->set_connect_body(std::move(connect_body));
  raw->set_keep_key(service.Keep(std::move(connection)));
  front.AttachConnection(raw);
  service.Log("mqtt connection from " + front.peer().ToString() + " to hub " + hub.name());
}

}  // namespace wpsim::service
