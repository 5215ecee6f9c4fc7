#include "clients/mqtt_client.h"

#include <algorithm>

#include "protocol/http/url.h"
#include "protocol/mqtt/encoder.h"
#include "protocol/websocket/handshake.h"

namespace wpsim::clients {

namespace ws = protocol::websocket;
namespace wps = protocol::webpubsub;
namespace http = protocol::http;
namespace mqtt = protocol::mqtt;

namespace {
constexpr std::string_view kServerMessagesTopic = "$webpubsub/server/messages";

std::string_view AsText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

bool AllSucceeded(const std::vector<mqtt::ReasonCode>& codes) {
  return std::none_of(codes.begin(), codes.end(), [](mqtt::ReasonCode c) { return mqtt::IsError(c); });
}
}  // namespace

MqttClient::MqttClient(sim::Runtime& runtime, std::string name, MqttClientOptions options)
    : runtime_(runtime),
      name_(std::move(name)),
      options_(std::move(options)),
      rng_(runtime.ForkRng("mqtt-client/" + name_)) {
  if (options_.host_header.empty()) options_.host_header = options_.service.ToString();
  client_id_ = options_.connect.client_id;
}

MqttClient::~MqttClient() {
  *alive_ = false;
  if (ping_timer_ != 0) runtime_.CancelTimer(ping_timer_);
}

std::string MqttClient::Target() const {
  std::string target = options_.path.empty() ? "/clients/mqtt/hubs/" + options_.hub : options_.path;
  if (!options_.token_in_header && !options_.access_token.empty()) {
    target += target.find('?') == std::string::npos ? "?" : "&";
    target += "access_token=" + http::PercentEncode(options_.access_token);
  }
  return target;
}

void MqttClient::Connect() {
  const uint64_t generation = ++dial_generation_;
  connected_ = false;
  closing_ = false;
  sim::DialFn on_done = [this, generation, alive = alive_](
                            Result<std::unique_ptr<sim::Stream>> stream) {
    if (!*alive || generation != dial_generation_) return;
    if (!stream.ok()) {
      Observation o;
      o.kind = Observation::Kind::kHandshakeFailed;
      o.text = stream.error().message;
      Record(std::move(o));
      return;
    }
    http::Headers extra;
    if (options_.token_in_header && !options_.access_token.empty()) {
      extra.Add("Authorization", "Bearer " + options_.access_token);
    }
    for (const auto& [name, value] : options_.extra_headers) extra.Add(name, value);
    ws::ClientHandshake handshake = ws::ClientHandshake::WithRng(
        options_.host_header, Target(), options_.subprotocols, rng_);
    if (connection_) dead_.push_back(std::move(connection_));
    connection_ = std::make_unique<ws::Connection>(runtime_, std::move(stream.value()), this,
                                                   options_.session, std::move(handshake), extra,
                                                   sim::Rng(rng_.Next()));
  };
  if (options_.dial) {
    options_.dial(options_.service, std::move(on_done));
  } else {
    runtime_.Dial(options_.service, std::move(on_done));
  }
}

void MqttClient::OnOpen(ws::Connection&) {
  Observation o;
  o.kind = Observation::Kind::kOpened;
  o.subprotocol = connection_ ? connection_->subprotocol() : std::string();
  Record(std::move(o));
  decoder_ = std::make_unique<mqtt::Decoder>(
      mqtt::DecoderOptions{mqtt::Role::kClient, options_.version, mqtt::kMaxPacketSizeLimit, false});
  mqtt::Connect connect = options_.connect;
  connect.client_id = options_.connect.client_id.empty() && !client_id_.empty() &&
                              !connect.clean_start
                          ? client_id_
                          : options_.connect.client_id;
  (void)SendPacket(connect);
}

Status MqttClient::SendPacket(const mqtt::Packet& packet) {
  if (!connection_ || !connection_->open()) return MakeError("closed", "not connected");
  scratch_.clear();
  Status s = mqtt::Encode(packet, options_.version, &scratch_);
  if (!s.ok()) return s;
  last_sent_ = runtime_.Now();
  return connection_->SendBinary(scratch_);
}

Status MqttClient::SendRaw(std::span<const uint8_t> bytes, bool text) {
  if (!connection_ || !connection_->open()) return MakeError("closed", "not connected");
  return text ? connection_->SendText(AsText(bytes)) : connection_->SendBinary(bytes);
}

uint16_t MqttClient::NextPacketId() {
  for (;;) {
    const uint16_t id = next_packet_id_;
    next_packet_id_ = next_packet_id_ == 65535 ? 1 : static_cast<uint16_t>(next_packet_id_ + 1);
    if (outgoing_.count(id) == 0) return id;
  }
}

Result<uint16_t> MqttClient::Subscribe(std::string_view topic_filter, uint8_t qos,
                                       std::optional<uint32_t> subscription_identifier) {
  mqtt::Subscription s;
  s.topic_filter = std::string(topic_filter);
  s.options.qos = qos;
  mqtt::Properties properties;
  if (subscription_identifier) properties.subscription_identifiers.push_back(*subscription_identifier);
  return Subscribe({s}, std::move(properties));
}

Result<uint16_t> MqttClient::Subscribe(std::vector<mqtt::Subscription> subscriptions,
                                       mqtt::Properties properties) {
  mqtt::Subscribe packet;
  packet.packet_id = NextPacketId();
  packet.subscriptions = std::move(subscriptions);
  packet.properties = std::move(properties);
  Status s = SendPacket(packet);
  if (!s.ok()) return s.error();
  return packet.packet_id;
}

Result<uint16_t> MqttClient::Unsubscribe(std::vector<std::string> topic_filters) {
  mqtt::Unsubscribe packet;
  packet.packet_id = NextPacketId();
  packet.topic_filters = std::move(topic_filters);
  Status s = SendPacket(packet);
  if (!s.ok()) return s.error();
  return packet.packet_id;
}

Result<uint16_t> MqttClient::Publish(const MqttPublishOptions& publish) {
  mqtt::Publish packet;
  packet.topic = publish.topic;
  packet.payload = publish.payload;
  packet.qos = publish.qos;
  packet.retain = publish.retain;
  packet.properties = publish.properties;
  if (packet.qos > 0) packet.packet_id = NextPacketId();
  Status s = SendPacket(packet);
  if (!s.ok()) return s.error();
  if (packet.qos > 0) {
    outgoing_order_.push_back(packet.packet_id);
    outgoing_[packet.packet_id] = Outgoing{std::move(packet), false};
    return outgoing_order_.back();
  }
  return uint16_t{0};
}

Status MqttClient::Ping() { return SendPacket(mqtt::Pingreq{}); }

Status MqttClient::Disconnect(mqtt::ReasonCode code, mqtt::Properties properties) {
  mqtt::Disconnect packet;
  packet.reason_code = code;
  packet.properties = std::move(properties);
  Status s = SendPacket(packet);
  connected_ = false;
  closing_ = true;
  if (connection_) connection_->Close(ws::close_code::kNormal, "");  // "" not {}: a null reason.data() reaches memcpy
  return s;
}

void MqttClient::Kill() {
  connected_ = false;
  if (ping_timer_ != 0) {
    runtime_.CancelTimer(ping_timer_);
    ping_timer_ = 0;
  }
  if (!connection_) return;
  connection_->Abort();
  dead_.push_back(std::move(connection_));
  Observation o;
  o.kind = Observation::Kind::kClosed;
  o.close_code = ws::close_code::kAbnormal;
  o.text = "killed";
  Record(std::move(o));
}

void MqttClient::ArmPing() {
  if (ping_timer_ != 0) runtime_.CancelTimer(ping_timer_);
  ping_timer_ = 0;
  const uint16_t keep_alive = options_.connect.keep_alive;
  if (!options_.auto_ping || keep_alive == 0 || !connected_) return;
  ping_timer_ = runtime_.SetTimer(last_sent_ + keep_alive * sim::kSecond, [this] {
    ping_timer_ = 0;
    if (!connected_) return;
    if (runtime_.Now() - last_sent_ >= options_.connect.keep_alive * sim::kSecond) (void)Ping();
    ArmPing();
  });
}

void MqttClient::OnMessage(ws::Connection&, ws::Opcode, std::span<const uint8_t> payload) {
  if (!decoder_) return;
  std::span<const uint8_t> input = payload;
  for (;;) {
    const mqtt::DecodeStatus status = decoder_->Decode(&input, &packet_);
    if (status == mqtt::DecodeStatus::kNeedMore) return;
    if (status == mqtt::DecodeStatus::kError) {
      Observation o;
      o.kind = Observation::Kind::kClosed;
      o.text = "decode error: " + decoder_->error().ToError().message;
      Record(std::move(o));
      Kill();
      return;
    }
    HandlePacket(packet_);
  }
}

Observation MqttClient::MqttRecord(Observation::Kind kind, std::string packet) {
  Observation o;
  o.kind = kind;
  o.label = packet;
  o.mqtt.emplace();
  o.mqtt->packet = std::move(packet);
  return o;
}

void MqttClient::HandlePacket(mqtt::Packet& packet) {
  switch (mqtt::TypeOf(packet)) {
    case mqtt::PacketType::kConnack: {
      auto& ack = std::get<mqtt::Connack>(packet);
      const bool accepted = !mqtt::IsError(ack.reason_code);
      Observation o = MqttRecord(
          accepted ? Observation::Kind::kConnected : Observation::Kind::kHandshakeFailed, "connack");
      o.mqtt->session_present = ack.session_present;
      o.mqtt->reason_codes = {ack.reason_code};
      o.mqtt->properties = ack.properties;
      o.success = accepted;
      o.error_name = std::string(mqtt::ReasonCodeName(ack.reason_code, mqtt::PacketType::kConnack));
      if (accepted) {
        connected_ = true;
        if (ack.properties.assigned_client_identifier) {
          client_id_ = *ack.properties.assigned_client_identifier;
        } else if (!options_.connect.client_id.empty()) {
          client_id_ = options_.connect.client_id;
        }
        o.connection_id = client_id_;
        if (options_.connect.clean_start && !ack.session_present) {
          outgoing_.clear();
          outgoing_order_.clear();
          incoming_qos2_.clear();
        }
      }
      Record(std::move(o));
      if (!accepted) return;
      // [MQTT-4.4.0-1]: resend unacknowledged PUBLISH (DUP) and PUBREL in the original order.
      std::vector<uint16_t> order;
      for (uint16_t id : outgoing_order_) {
        auto it = outgoing_.find(id);
        if (it == outgoing_.end()) continue;
        order.push_back(id);
        if (it->second.released) {
          mqtt::Pubrel rel;
          rel.packet_id = id;
          (void)SendPacket(rel);
        } else {
          it->second.publish.dup = true;
          (void)SendPacket(it->second.publish);
        }
      }
      outgoing_order_ = std::move(order);
      ArmPing();
      return;
    }
    case mqtt::PacketType::kPublish: {
      auto& p = std::get<mqtt::Publish>(packet);
      const bool server = p.topic == kServerMessagesTopic;
      Observation o = MqttRecord(
          server ? Observation::Kind::kServerMessage : Observation::Kind::kGroupMessage, "publish");
      if (!server) o.group = p.topic;
      std::optional<std::string_view> content_type;
      if (p.properties.content_type) content_type = *p.properties.content_type;
      switch (wps::DataTypeFromMqttContentType(content_type)) {
        case wps::DataType::kJson: o.payload = wps::Payload::Json(AsText(p.payload)); break;
        case wps::DataType::kText: o.payload = wps::Payload::Text(AsText(p.payload)); break;
        case wps::DataType::kProtobuf: o.payload = wps::Payload::Protobuf(p.payload); break;
        case wps::DataType::kBinary: o.payload = wps::Payload::Binary(p.payload); break;
      }
      o.mqtt->topic = p.topic;
      o.mqtt->qos = p.qos;
      o.mqtt->dup = p.dup;
      o.mqtt->retain = p.retain;
      o.mqtt->packet_id = p.packet_id;
      o.mqtt->properties = p.properties;
      const uint8_t qos = p.qos;
      const uint16_t id = p.packet_id;
      const bool duplicate_qos2 = qos == 2 && incoming_qos2_.count(id) != 0;
      if (!duplicate_qos2) Record(std::move(o));
      if (!options_.auto_ack) return;
      if (qos == 1) {
        mqtt::Puback ack;
        ack.packet_id = id;
        (void)SendPacket(ack);
      } else if (qos == 2) {
        incoming_qos2_.insert(id);
        mqtt::Pubrec rec;
        rec.packet_id = id;
        (void)SendPacket(rec);
      }
      return;
    }
    case mqtt::PacketType::kPuback:
    case mqtt::PacketType::kPubcomp: {
      const bool puback = mqtt::TypeOf(packet) == mqtt::PacketType::kPuback;
      uint16_t id;
      mqtt::ReasonCode code;
      mqtt::Properties properties;
      if (puback) {
        auto& a = std::get<mqtt::Puback>(packet);
        id = a.packet_id, code = a.reason_code, properties = a.properties;
      } else {
        auto& a = std::get<mqtt::Pubcomp>(packet);
        id = a.packet_id, code = a.reason_code, properties = a.properties;
      }
      outgoing_.erase(id);
      Observation o = MqttRecord(Observation::Kind::kAck, puback ? "puback" : "pubcomp");
      o.ack_id = id;
      o.mqtt->packet_id = id;
      o.mqtt->reason_codes = {code};
      o.mqtt->properties = std::move(properties);
      o.success = !mqtt::IsError(code);
      o.error_name = std::string(mqtt::ReasonCodeName(code, mqtt::TypeOf(packet)));
      Record(std::move(o));
      return;
    }
    case mqtt::PacketType::kPubrec: {
      auto& rec = std::get<mqtt::Pubrec>(packet);
      auto it = outgoing_.find(rec.packet_id);
      if (mqtt::IsError(rec.reason_code)) {
        if (it != outgoing_.end()) outgoing_.erase(it);
        Observation o = MqttRecord(Observation::Kind::kAck, "pubrec");
        o.ack_id = rec.packet_id;
        o.mqtt->packet_id = rec.packet_id;
        o.mqtt->reason_codes = {rec.reason_code};
        o.mqtt->properties = rec.properties;
        o.error_name = std::string(mqtt::ReasonCodeName(rec.reason_code, mqtt::PacketType::kPubrec));
        Record(std::move(o));
        return;
      }
      if (it != outgoing_.end()) it->second.released = true;
      mqtt::Pubrel rel;
      rel.packet_id = rec.packet_id;
      (void)SendPacket(rel);
      return;
    }
    case mqtt::PacketType::kPubrel: {
      const uint16_t id = std::get<mqtt::Pubrel>(packet).packet_id;
      incoming_qos2_.erase(id);
      if (!options_.auto_ack) return;
      mqtt::Pubcomp comp;
      comp.packet_id = id;
      (void)SendPacket(comp);
      return;
    }
    case mqtt::PacketType::kSuback:
    case mqtt::PacketType::kUnsuback: {
      const bool sub = mqtt::TypeOf(packet) == mqtt::PacketType::kSuback;
      Observation o = MqttRecord(Observation::Kind::kAck, sub ? "suback" : "unsuback");
      if (sub) {
        auto& a = std::get<mqtt::Suback>(packet);
        o.ack_id = a.packet_id;
        o.mqtt->reason_codes = a.reason_codes;
        o.mqtt->properties = a.properties;
      } else {
        auto& a = std::get<mqtt::Unsuback>(packet);
        o.ack_id = a.packet_id;
        o.mqtt->reason_codes = a.reason_codes;
        o.mqtt->properties = a.properties;
      }
      o.mqtt->packet_id = static_cast<uint16_t>(o.ack_id);
      o.success = AllSucceeded(o.mqtt->reason_codes);
      Record(std::move(o));
      return;
    }
    case mqtt::PacketType::kPingresp: {
      Record(MqttRecord(Observation::Kind::kPong, "pingresp"));
      return;
    }
    case mqtt::PacketType::kDisconnect: {
      auto& d = std::get<mqtt::Disconnect>(packet);
      Observation o = MqttRecord(Observation::Kind::kDisconnected, "disconnect");
      o.mqtt->reason_codes = {d.reason_code};
      o.mqtt->properties = d.properties;
      o.text = d.properties.reason_string.value_or("");
      o.error_name = std::string(mqtt::ReasonCodeName(d.reason_code, mqtt::PacketType::kDisconnect));
      connected_ = false;
      Record(std::move(o));
      return;
    }
    default:
      return;
  }
}

void MqttClient::OnClosed(ws::Connection& connection, const ws::CloseInfo& info) {
  if (&connection == connection_.get()) connected_ = false;
  Record(CloseObservation(info, closing_));
  if (&connection == connection_.get()) {
    if (ping_timer_ != 0) runtime_.CancelTimer(ping_timer_);
    ping_timer_ = 0;
    dead_.push_back(std::move(connection_));
  }
  // The Connection may be destroyed only here or outside callbacks; dead_ is cleared later.
  runtime_.Post([this, alive = alive_] {
    if (!*alive) return;
    dead_.clear();
  });
}

void MqttClient::Record(Observation o) {
  o.time = runtime_.Now();
  if (!options_.record_observations) {
    if (on_observation) on_observation(o);
    return;
  }
  observations_.push_back(std::move(o));
  if (on_observation) on_observation(observations_.back());
}

}  // namespace wpsim::clients
