// MQTT connections of the reference service: packets in and out, keep-alive, PUBLISH/SUBSCRIBE
// handling (the CONNECT handshake is in mqtt_connect.cc, the session state in mqtt_session.cc);
// see mqtt_session.h for the theory of operation and docs/mqtt-conformance.md for every reason
// code chosen here.
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

namespace {

// Time allowed between the upgrade and CONNECT ([MQTT-3.1.4] "reasonable amount of time").
constexpr sim::Nanos kConnectTimeout = 30 * sim::kSecond;

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

}  // namespace wpsim::service
