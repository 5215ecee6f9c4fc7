#include "protocol/mqtt/publish_template.h"

#include <gtest/gtest.h>

#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"

namespace wpsim::protocol::mqtt {
namespace {

Publish Sample(ProtocolVersion v) {
  Publish p;
  p.topic = "group/topic1";
  p.retain = false;
  p.payload.assign(64, 'x');
  if (v == ProtocolVersion::kV5) {
    p.properties.content_type = "text/plain";
    p.properties.message_expiry_interval = 30;
    p.properties.user_properties = {{"a", "b"}};
  }
  return p;
}

Publish ForReceiver(Publish p, uint8_t qos, uint16_t id, bool dup) {
  p.qos = qos;
  p.packet_id = qos > 0 ? id : 0;
  p.dup = dup;
  return p;
}

TEST(MqttPublishTemplate, WritesTheSameBytesAsTheEncoderForEveryQos) {
  for (ProtocolVersion v : {ProtocolVersion::kV311, ProtocolVersion::kV5}) {
    Publish p = Sample(v);
    Result<PublishTemplate> t = PublishTemplate::Make(p, v);
    ASSERT_TRUE(t.ok());
    for (uint8_t qos = 0; qos <= 2; ++qos) {
      for (bool dup : {false, true}) {
        if (qos == 0 && dup) continue;
        std::vector<uint8_t> got;
        t->AppendTo(&got, qos, 0x1234, dup);
        std::vector<uint8_t> want;
        ASSERT_TRUE(Encode(ForReceiver(p, qos, 0x1234, dup), v, &want).ok());
        EXPECT_EQ(got, want) << "qos " << int{qos} << " dup " << dup;
        EXPECT_EQ(t->size(qos), want.size());
      }
    }
    std::vector<uint8_t> q0;
    ASSERT_TRUE(Encode(ForReceiver(p, 0, 0, false), v, &q0).ok());
    EXPECT_EQ(std::vector<uint8_t>(t->qos0_packet().data(),
                                   t->qos0_packet().data() + t->qos0_packet().size()),
              q0);
  }
}

TEST(MqttPublishTemplate, PatchesACopyOfTheQos1ImageForEachReceiver) {
  Publish p = Sample(ProtocolVersion::kV5);
  p.retain = true;
  Result<PublishTemplate> t = PublishTemplate::Make(p, ProtocolVersion::kV5);
  ASSERT_TRUE(t.ok());
  for (uint16_t id : {1, 255, 256, 65535}) {
    std::vector<uint8_t> copy(t->qos1_image().begin(), t->qos1_image().end());
    t->PatchForReceiver(copy, 2, id, true);
    std::vector<uint8_t> want;
    ASSERT_TRUE(Encode(ForReceiver(p, 2, id, true), ProtocolVersion::kV5, &want).ok());
    EXPECT_EQ(copy, want) << id;
  }
}

TEST(MqttPublishTemplate, AddsSubscriptionIdentifiersOnTheSlowPath) {
  Publish p = Sample(ProtocolVersion::kV5);
  p.payload.assign(120, 'y');  // Remaining Length crosses 127 once identifiers are added
  Result<PublishTemplate> t = PublishTemplate::Make(p, ProtocolVersion::kV5);
  ASSERT_TRUE(t.ok());
  std::vector<uint32_t> ids = {1, 200, 268'435'455};
  for (uint8_t qos = 0; qos <= 2; ++qos) {
    std::vector<uint8_t> got;
    t->AppendTo(&got, qos, 77, false, ids);
    Result<Packet> decoded = DecodePacket(
        got, {.role = Role::kClient, .version = ProtocolVersion::kV5, .handshake_done = true});
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    Publish want = ForReceiver(p, qos, 77, false);
    want.properties.subscription_identifiers = ids;
    EXPECT_TRUE(std::get<Publish>(*decoded) == want) << int{qos};
  }
}

TEST(MqttPublishTemplate, SharesOneQos0BufferAcrossReceivers) {
  Result<PublishTemplate> t =
      PublishTemplate::Make(Sample(ProtocolVersion::kV311), ProtocolVersion::kV311);
  ASSERT_TRUE(t.ok());
  SharedBytes a = t->qos0_packet();
  SharedBytes b = t->qos0_packet();
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a.use_count(), 3u);
}

TEST(MqttPublishTemplate, IgnoresThePerReceiverFieldsOfItsSource) {
  Publish p = Sample(ProtocolVersion::kV5);
  Publish noisy = p;
  noisy.qos = 2;
  noisy.dup = true;
  noisy.packet_id = 9;
  noisy.properties.subscription_identifiers = {5};
  Result<PublishTemplate> a = PublishTemplate::Make(p, ProtocolVersion::kV5);
  Result<PublishTemplate> b = PublishTemplate::Make(noisy, ProtocolVersion::kV5);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<uint8_t> x;
  std::vector<uint8_t> y;
  a->AppendTo(&x, 1, 3);
  b->AppendTo(&y, 1, 3);
  EXPECT_EQ(x, y);
}

TEST(MqttPublishTemplate, FindsTheMessageExpiryValueAmongOtherPropertiesAtEveryQos) {
  Publish p;
  p.topic = "room/1";
  p.payload = {'h', 'i'};
  p.properties.payload_format_indicator = 1;
  p.properties.content_type = "text/plain";
  p.properties.user_properties = {{"k", "v"}};
  p.properties.message_expiry_interval = 0x01020304;
  for (uint8_t qos : {0, 1, 2}) {
    p.qos = qos;
    p.packet_id = qos == 0 ? 0 : 7;
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &bytes).ok());
    const std::optional<size_t> at = FindMessageExpiry(bytes);
    ASSERT_TRUE(at.has_value()) << "qos " << int(qos);
    EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + *at, bytes.begin() + *at + 4),
              (std::vector<uint8_t>{1, 2, 3, 4}));
  }
  p.properties.message_expiry_interval.reset();
  std::vector<uint8_t> none;
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &none).ok());
  EXPECT_FALSE(FindMessageExpiry(none).has_value());
  none.pop_back();  // truncated: not a well-formed PUBLISH
  EXPECT_FALSE(FindMessageExpiry(none).has_value());
}

}  // namespace
}  // namespace wpsim::protocol::mqtt
