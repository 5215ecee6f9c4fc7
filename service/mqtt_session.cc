// MQTT sessions of the reference service (the state that outlives a connection: subscriptions,
// in-flight QoS 1/2 messages, the will), the payload helpers the connections share, and where an
// MQTT connection starts; see mqtt_session.h for the theory of operation.
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

