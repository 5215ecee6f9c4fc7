// Round trips and stream splitting: every packet type, both versions, both directions.
#include <gtest/gtest.h>

#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"
#include "tests/protocol/mqtt/test_util.h"

namespace wpsim::protocol::mqtt {
namespace {

using testing::ClientToServerSamples;
using testing::DecodeAll;
using testing::Describe;
using testing::EncodeAll;
using testing::Sample;
using testing::ServerToClientSamples;

struct Direction {
  ProtocolVersion version;
  Role receiver;
};

std::vector<Sample> SamplesFor(Direction d) {
  return d.receiver == Role::kServer ? ClientToServerSamples(d.version)
                                     : ServerToClientSamples(d.version);
}

class MqttRoundTrip : public ::testing::TestWithParam<Direction> {};

TEST_P(MqttRoundTrip, DecodesEachEncodedPacketToAnEqualPacket) {
  Direction d = GetParam();
  std::vector<Sample> samples = SamplesFor(d);
  Decoder decoder({.role = d.receiver, .version = d.version});
  Packet decoded;
  for (const Sample& sample : samples) {
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(Encode(sample.packet, d.version, &bytes).ok()) << sample.name;
    Result<size_t> size = EncodedSize(sample.packet, d.version);
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(*size, bytes.size()) << sample.name;
    std::span<const uint8_t> in(bytes);
    ASSERT_EQ(decoder.Decode(&in, &decoded), DecodeStatus::kPacket)
        << sample.name << ": " << decoder.error().ToError().message;
    EXPECT_TRUE(in.empty()) << sample.name;
    EXPECT_TRUE(decoded == sample.packet) << sample.name << "\n got " << Describe(decoded)
                                          << "\nwant " << Describe(sample.packet);
    // Re-encoding the decoded packet gives the same bytes.
    std::vector<uint8_t> again;
    ASSERT_TRUE(Encode(decoded, d.version, &again).ok());
    EXPECT_EQ(again, bytes) << sample.name;
  }
}

TEST_P(MqttRoundTrip, DecodesTheSamePacketsWhateverTheStreamIsSplitInto) {
  // [MQTT-6.0.0-2]: packets are not aligned on frame boundaries. Feed 1, 2, 3, ... bytes at a
  // time (up to the whole stream) and require the same packets every time.
  Direction d = GetParam();
  std::vector<Sample> samples = SamplesFor(d);
  std::vector<uint8_t> stream = EncodeAll(samples, d.version);
  DecoderOptions options{.role = d.receiver, .version = d.version};
  std::vector<Packet> whole = DecodeAll(stream, options, 0);
  ASSERT_EQ(whole.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_TRUE(whole[i] == samples[i].packet) << samples[i].name;
  }
  // Every chunk size up to 64, then a spread of larger ones (the stream holds a 20 kB packet).
  std::vector<size_t> chunks;
  for (size_t c = 1; c <= 64; ++c) chunks.push_back(c);
  for (size_t c = 65; c < stream.size(); c = c * 3 / 2 + 7) chunks.push_back(c);
  for (size_t chunk : chunks) {
    DecodeError error;
    std::vector<Packet> got = DecodeAll(stream, options, chunk, &error);
    ASSERT_EQ(got.size(), samples.size()) << "chunk " << chunk << ": " << error.message;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(got[i] == whole[i]) << "chunk " << chunk << " packet " << samples[i].name;
    }
  }
}

TEST_P(MqttRoundTrip, DecodesAtEverySplitPointOfTheStream) {
  // Two chunks, cut at every byte position.
  Direction d = GetParam();
  std::vector<Sample> samples = SamplesFor(d);
  // Leave out the large PUBLISH packets to keep this quadratic test quick.
  std::vector<Sample> small;
  for (const Sample& s : samples) {
    std::vector<uint8_t> b;
    ASSERT_TRUE(Encode(s.packet, d.version, &b).ok());
    if (b.size() < 256) small.push_back(s);
  }
  std::vector<uint8_t> stream = EncodeAll(small, d.version);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Decoder decoder({.role = d.receiver, .version = d.version});
    std::vector<Packet> got;
    Packet packet;
    std::span<const uint8_t> parts[2] = {std::span<const uint8_t>(stream).first(cut),
                                         std::span<const uint8_t>(stream).subspan(cut)};
    for (std::span<const uint8_t> part : parts) {
      while (true) {
        DecodeStatus status = decoder.Decode(&part, &packet);
        ASSERT_NE(status, DecodeStatus::kError) << decoder.error().message;
        if (status == DecodeStatus::kNeedMore) break;
        got.push_back(packet);
      }
    }
    ASSERT_EQ(got.size(), small.size()) << "cut at " << cut;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(got[i] == small[i].packet) << "cut at " << cut << " " << small[i].name;
    }
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
    EXPECT_EQ(decoder.stream_offset(), stream.size());
  }
}

std::string DirectionName(const ::testing::TestParamInfo<Direction>& info) {
  return std::string(info.param.version == ProtocolVersion::kV5 ? "V5" : "V311") +
         (info.param.receiver == Role::kServer ? "ClientToServer" : "ServerToClient");
}

INSTANTIATE_TEST_SUITE_P(AllDirections, MqttRoundTrip,
                         ::testing::Values(Direction{ProtocolVersion::kV311, Role::kServer},
                                           Direction{ProtocolVersion::kV311, Role::kClient},
                                           Direction{ProtocolVersion::kV5, Role::kServer},
                                           Direction{ProtocolVersion::kV5, Role::kClient}),
                         DirectionName);

TEST(MqttDecoder, LearnsTheProtocolVersionFromConnect) {
  for (ProtocolVersion v : {ProtocolVersion::kV311, ProtocolVersion::kV5}) {
    std::vector<uint8_t> stream = EncodeAll(ClientToServerSamples(v), v);
    Decoder decoder({.role = Role::kServer});  // version unknown
    EXPECT_EQ(decoder.version(), ProtocolVersion::kUnknown);
    std::span<const uint8_t> in(stream);
    Packet packet;
    ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
    EXPECT_TRUE(std::holds_alternative<Connect>(packet));
    EXPECT_EQ(decoder.version(), v);
    size_t count = 1;
    while (decoder.Decode(&in, &packet) == DecodeStatus::kPacket) ++count;
    EXPECT_FALSE(decoder.failed()) << decoder.error().message;
    EXPECT_EQ(count, ClientToServerSamples(v).size());
  }
}

TEST(MqttDecoder, ReusesThePublishItWasGivenWithoutReallocatingItsPayload) {
  Publish p;
  p.topic = "t";
  p.payload.assign(64, 1);
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &bytes).ok());
  Decoder decoder({.role = Role::kServer, .version = ProtocolVersion::kV5,
                   .handshake_done = true});
  Packet packet;
  std::span<const uint8_t> in(bytes);
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
  const uint8_t* payload_storage = std::get<Publish>(packet).payload.data();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
    EXPECT_EQ(std::get<Publish>(packet).payload.data(), payload_storage);
    EXPECT_TRUE(std::get<Publish>(packet) == p);
  }
}

TEST(MqttEncoder, AppendsToTheBufferItIsGiven) {
  std::vector<uint8_t> out = {0xEE};
  ASSERT_TRUE(Encode(Pingreq{}, ProtocolVersion::kV311, &out).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{0xEE, 0xC0, 0x00}));
}

TEST(MqttEncoder, RefusesWhatTheWireCannotCarry) {
  std::vector<uint8_t> out;
  Publish p;
  p.topic.assign(65536, 'a');
  EXPECT_FALSE(Encode(p, ProtocolVersion::kV5, &out).ok());
  Connack refused;
  refused.reason_code = ReasonCode::kQuotaExceeded;  // no 3.1.1 return code
  EXPECT_FALSE(Encode(refused, ProtocolVersion::kV311, &out).ok());
  EXPECT_FALSE(Encode(Auth{}, ProtocolVersion::kV311, &out).ok());
  Publish sub_id;
  sub_id.topic = "t";
  sub_id.properties.subscription_identifiers = {268'435'456};
  EXPECT_FALSE(Encode(sub_id, ProtocolVersion::kV5, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(MqttEncoder, UsesTheShortFormsOfAcknowledgementsIn5) {
  std::vector<uint8_t> out;
  ASSERT_TRUE(Encode(Puback{.packet_id = 1}, ProtocolVersion::kV5, &out).ok());
  EXPECT_EQ(testing::ToHex(out), "40020001");
  out.clear();
  ASSERT_TRUE(Encode(Puback{.packet_id = 1, .reason_code = ReasonCode::kNoMatchingSubscribers},
                     ProtocolVersion::kV5, &out)
                  .ok());
  EXPECT_EQ(testing::ToHex(out), "4003000110");
  out.clear();
  ASSERT_TRUE(Encode(Disconnect{}, ProtocolVersion::kV5, &out).ok());
  EXPECT_EQ(testing::ToHex(out), "e000");
  out.clear();
  ASSERT_TRUE(Encode(Auth{}, ProtocolVersion::kV5, &out).ok());
  EXPECT_EQ(testing::ToHex(out), "f000");
}

TEST(MqttEncoder, MapsConnackReasonCodesToV311ReturnCodes) {
  std::vector<uint8_t> out;
  ASSERT_TRUE(Encode(Connack{.reason_code = ReasonCode::kBadUserNameOrPassword},
                     ProtocolVersion::kV311, &out)
                  .ok());
  EXPECT_EQ(testing::ToHex(out), "20020004");
  for (uint8_t rc = 0; rc <= 5; ++rc) {
    std::optional<ReasonCode> reason = ReasonCodeForV311ConnectReturnCode(rc);
    ASSERT_TRUE(reason);
    EXPECT_EQ(static_cast<uint8_t>(*V311ConnectReturnCodeFor(*reason)), rc);
  }
  EXPECT_FALSE(ReasonCodeForV311ConnectReturnCode(6));
}

}  // namespace
}  // namespace wpsim::protocol::mqtt

namespace wpsim::protocol::mqtt {
namespace {

TEST(MqttEncoder, WritesNoPacketIdentifierForQos0AndAnEmptyPropertyLengthIn5) {
  // [MQTT-2.2.1-2] / 3.1.1 [MQTT-2.3.1-5]: no Packet Identifier at QoS 0, whatever the
  // struct holds; [MQTT-2.2.2-1]: no properties is a Property Length of 0.
  Publish p{.qos = 0, .topic = "t", .packet_id = 77};
  std::vector<uint8_t> out;
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV311, &out).ok());
  EXPECT_EQ(testing::ToHex(out), "30030001" "74");
  out.clear();
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &out).ok());
  EXPECT_EQ(testing::ToHex(out), "3004000174" "00");
  out.clear();
  p.qos = 1;
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &out).ok());
  EXPECT_EQ(testing::ToHex(out), "3206000174004d" "00");
}

}  // namespace
}  // namespace wpsim::protocol::mqtt
