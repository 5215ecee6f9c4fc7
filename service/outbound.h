// OutboundMessage: one message on its way to many receivers, with every wire encoding made at
// most once and shared by all receivers of that format (DESIGN.md §8): a WebSocket frame for
// json.webpubsub.azure.v1 clients, a sequenced body for reliable clients (only the
// `{"sequenceId":N,` head is written per receiver), a frame for raw WebSocket clients, and for
// the protobuf subprotocols (PROTOCOL.md §7) a binary frame plus the DataMessage body the
// reliable variant completes per receiver with its sequence_id.
#pragma once

#include <optional>
#include <string>

#include "base/shared_bytes.h"
#include "protocol/mqtt/publish_template.h"
#include "protocol/webpubsub/payload.h"
#include "protocol/webpubsub/service_messages.h"

namespace wpsim::service {

class OutboundMessage {
 public:
  enum class From { kGroup, kServer };

  static OutboundMessage Group(std::string group, std::optional<std::string> from_user_id,
                               protocol::webpubsub::Payload payload) {
    OutboundMessage m;
    m.from_ = From::kGroup;
    m.group_ = std::move(group);
    m.from_user_id_ = std::move(from_user_id);
    m.payload_ = std::move(payload);
    return m;
  }
  // A group-stream fragment (PROTOCOL.md §9.1): JSON and protobuf receivers see the stream
  // info; a fragment without payload (a bare end-of-stream) reaches them only (has_payload()
  // is false: raw and MQTT receivers skip it).
  static OutboundMessage GroupStream(std::string group, std::optional<std::string> from_user_id,
                                     std::optional<protocol::webpubsub::Payload> payload,
                                     protocol::webpubsub::StreamInfo stream) {
    OutboundMessage m;
    m.from_ = From::kGroup;
    m.group_ = std::move(group);
    m.from_user_id_ = std::move(from_user_id);
    m.has_payload_ = payload.has_value();
    if (payload) m.payload_ = std::move(*payload);
    m.stream_ = std::move(stream);
    return m;
  }
  static OutboundMessage Server(protocol::webpubsub::Payload payload) {
    OutboundMessage m;
    m.from_ = From::kServer;
    m.payload_ = std::move(payload);
    return m;
  }

  From from() const { return from_; }
  const std::string& group() const { return group_; }
  const std::optional<std::string>& from_user_id() const { return from_user_id_; }
  const protocol::webpubsub::Payload& payload() const { return payload_; }
  // False only for a stream fragment without data (see GroupStream).
  bool has_payload() const { return has_payload_; }
  const std::optional<protocol::webpubsub::StreamInfo>& stream() const { return stream_; }

  // The complete WebSocket text frame for json.webpubsub.azure.v1 receivers.
  const SharedBytes& JsonFrame();
  // The message for json.reliable.webpubsub.azure.v1 receivers, minus its sequenceId head.
  const protocol::webpubsub::SequencedMessage& Sequenced();
  // The complete WebSocket frame for raw (no subprotocol) receivers.
  const SharedBytes& RawFrame();
  // The complete WebSocket binary frame (a DownstreamMessage) for protobuf.webpubsub.azure.v1.
  const SharedBytes& ProtobufFrame();
  // DataMessage fields without sequence_id for protobuf.reliable.webpubsub.azure.v1
  // receivers (protocol::protobuf::SequencedMessage's body).
  const SharedBytes& ProtobufSequencedBody();

  // --- MQTT receivers (service/mqtt_session.cc) ---
  // The sender's QoS: 1 for Web PubSub senders (min(1, granted) rule, PROTOCOL.md §10.5),
  // the PUBLISH QoS for MQTT senders.
  uint8_t mqtt_qos = 1;
  // 5.0 PUBLISH properties of an MQTT sender that travel to MQTT receivers unaltered
  // (payload format, content type, response topic, correlation data, user properties,
  // message expiry); nullopt for Web PubSub senders (content type from the dataType).
  std::optional<protocol::mqtt::Properties> mqtt_properties;
  // REST messageTtlSeconds (PROTOCOL.md §11.2): the absolute time after which a message the
  // service still holds for a receiver is dropped instead of delivered (0: never). It acts
  // where a message waits in the service: a detached reliable connection's replay buffer and
  // MQTT session queues (as the 5.0 message expiry). Bytes already handed to a connection's
  // transport count as consumed.
  int64_t ttl_expires_at = 0;
  // Message expiry interval in seconds that carries across protocols (§10.5).
  std::optional<uint32_t> message_expiry_seconds;
  // Connection id of an MQTT sender (5.0 No Local subscriptions skip it).
  std::string sender_connection_id;
  // The PUBLISH for `version` (topic = group, or $webpubsub/server/messages), encoded once.
  const protocol::mqtt::PublishTemplate& MqttTemplate(protocol::mqtt::ProtocolVersion version);
  // MqttTemplate(version)'s QoS 0 packet in one WebSocket binary frame, shared by receivers.
  const SharedBytes& MqttQos0Frame(protocol::mqtt::ProtocolVersion version);
  // MqttTemplate(version)'s QoS 1 image (Packet Identifier 0) in one WebSocket binary frame,
  // shared by every QoS 1/2 receiver: each sends a patched copy (packet id, flags, expiry).
  const SharedBytes& MqttQos1Frame(protocol::mqtt::ProtocolVersion version);

 private:
  std::optional<protocol::webpubsub::Payload> OptionalPayload() const {
    if (!has_payload_) return std::nullopt;
    return payload_;
  }

  From from_ = From::kServer;
  std::string group_;
  std::optional<std::string> from_user_id_;
  protocol::webpubsub::Payload payload_;
  bool has_payload_ = true;
  std::optional<protocol::webpubsub::StreamInfo> stream_;
  std::optional<SharedBytes> json_frame_;
  std::optional<protocol::webpubsub::SequencedMessage> sequenced_;
  std::optional<SharedBytes> raw_frame_;
  std::optional<SharedBytes> protobuf_frame_;
  std::optional<SharedBytes> protobuf_body_;
  std::optional<protocol::mqtt::PublishTemplate> mqtt_template_[2];  // [0] 3.1.1, [1] 5.0
  std::optional<SharedBytes> mqtt_qos0_frame_[2];
  std::optional<SharedBytes> mqtt_qos1_frame_[2];
};

}  // namespace wpsim::service
