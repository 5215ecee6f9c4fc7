#include "service/outbound.h"

#include "protocol/protobuf/messages.h"
#include "protocol/websocket/frame.h"

namespace wpsim::service {

namespace wps = protocol::webpubsub;
namespace ws = protocol::websocket;

const SharedBytes& OutboundMessage::JsonFrame() {
  if (!json_frame_) {
    SharedBytes json =
        stream_ ? wps::EncodeGroupStreamMessage(group_, from_user_id_, OptionalPayload(), *stream_)
        : from_ == From::kGroup ? wps::EncodeGroupMessage(group_, from_user_id_, payload_)
                                : wps::EncodeServerMessage(payload_);
    json_frame_ = ws::EncodeServerFrame(ws::Opcode::kText, json.span());
  }
  return *json_frame_;
}

const wps::SequencedMessage& OutboundMessage::Sequenced() {
  if (!sequenced_) {
    sequenced_ = stream_ ? wps::EncodeSequencedGroupStreamMessage(group_, from_user_id_,
                                                                  OptionalPayload(), *stream_)
                 : from_ == From::kGroup
                     ? wps::EncodeSequencedGroupMessage(group_, from_user_id_, payload_)
                     : wps::EncodeSequencedServerMessage(payload_);
  }
  return *sequenced_;
}

const SharedBytes& OutboundMessage::RawFrame() {
  if (!raw_frame_) {
    wps::RawFrame raw = wps::RenderRaw(payload_);
    raw_frame_ = ws::EncodeServerFrame(
        raw.type == wps::FrameType::kText ? ws::Opcode::kText : ws::Opcode::kBinary,
        raw.data.span());
  }
  return *raw_frame_;
}

const SharedBytes& OutboundMessage::ProtobufFrame() {
  if (!protobuf_frame_) {
    SharedBytes message =
        stream_ ? protocol::protobuf::EncodeGroupStreamMessage(group_, OptionalPayload(), *stream_)
        : from_ == From::kGroup ? protocol::protobuf::EncodeGroupMessage(group_, payload_)
                                : protocol::protobuf::EncodeServerMessage(payload_);
    protobuf_frame_ = ws::EncodeServerFrame(ws::Opcode::kBinary, message.span());
  }
  return *protobuf_frame_;
}

const SharedBytes& OutboundMessage::ProtobufSequencedBody() {
  if (!protobuf_body_) {
    protobuf_body_ = stream_ ? protocol::protobuf::EncodeSequencedGroupStreamMessage(
                                   group_, OptionalPayload(), *stream_)
                                   .body()
                     : from_ == From::kGroup
                         ? protocol::protobuf::EncodeSequencedGroupMessage(group_, payload_).body()
                         : protocol::protobuf::EncodeSequencedServerMessage(payload_).body();
  }
  return *protobuf_body_;
}

namespace {
constexpr std::string_view kMqttServerMessagesTopic = "$webpubsub/server/messages";
}  // namespace

const protocol::mqtt::PublishTemplate& OutboundMessage::MqttTemplate(
    protocol::mqtt::ProtocolVersion version) {
  namespace mqtt = protocol::mqtt;
  const size_t index = version == mqtt::ProtocolVersion::kV5 ? 1 : 0;
  if (!mqtt_template_[index]) {
    mqtt::Publish publish;
    publish.topic = from_ == From::kGroup ? group_ : std::string(kMqttServerMessagesTopic);
    publish.payload.assign(payload_.data.data(), payload_.data.data() + payload_.data.size());
    if (index == 1) {
      if (mqtt_properties) {
        publish.properties = *mqtt_properties;
      } else {
        publish.properties.content_type = std::string(wps::MqttContentType(payload_.type));
        // Message metadata (§9.4) reaches MQTT 5 receivers as user properties, in order
        // (docs/conformance.md META-006); 3.1.1 has no place for it.
        for (const auto& [key, value] : payload_.metadata) {
          publish.properties.user_properties.push_back(mqtt::UserProperty{key, value});
        }
      }
      if (message_expiry_seconds) publish.properties.message_expiry_interval = message_expiry_seconds;
      publish.properties.topic_alias.reset();
      publish.properties.subscription_identifiers.clear();
    }
    Result<mqtt::PublishTemplate> t = mqtt::PublishTemplate::Make(publish, version);
    WPSIM_ASSERT(t.ok());  // group names and payloads are bounded far below MQTT's limits
    mqtt_template_[index] = std::move(t.value());
  }
  return *mqtt_template_[index];
}

const SharedBytes& OutboundMessage::MqttQos0Frame(protocol::mqtt::ProtocolVersion version) {
  const size_t index = version == protocol::mqtt::ProtocolVersion::kV5 ? 1 : 0;
  if (!mqtt_qos0_frame_[index]) {
    mqtt_qos0_frame_[index] =
        ws::EncodeServerFrame(ws::Opcode::kBinary, MqttTemplate(version).qos0_packet().span());
  }
  return *mqtt_qos0_frame_[index];
}

const SharedBytes& OutboundMessage::MqttQos1Frame(protocol::mqtt::ProtocolVersion version) {
  const size_t index = version == protocol::mqtt::ProtocolVersion::kV5 ? 1 : 0;
  if (!mqtt_qos1_frame_[index]) {
    mqtt_qos1_frame_[index] =
        ws::EncodeServerFrame(ws::Opcode::kBinary, MqttTemplate(version).qos1_image());
  }
  return *mqtt_qos1_frame_[index];
}

}  // namespace wpsim::service
