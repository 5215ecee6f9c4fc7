// Decoder behaviour beyond single malformed packets: what it must accept, its limits, its
// bookkeeping, and the property table of 5.0 section 2.2.2.2 checked exhaustively.
#include <gtest/gtest.h>

#include <map>

#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"
#include "tests/protocol/mqtt/test_util.h"

namespace wpsim::protocol::mqtt {
namespace {

using testing::Hex;
using testing::ToHex;

DecoderOptions Server(ProtocolVersion v) {
  return {.role = Role::kServer, .version = v, .handshake_done = true};
}
DecoderOptions Client(ProtocolVersion v) {
  return {.role = Role::kClient, .version = v, .handshake_done = true};
}

TEST(MqttDecoderAccepts, ByteOrderMarkInsideAStringIsKeptNotStripped) {
  // [MQTT-1.5.4-3] (5.0), [MQTT-1.5.3-3] (3.1.1).
  for (ProtocolVersion v : {ProtocolVersion::kV311, ProtocolVersion::kV5}) {
    Publish p;
    p.topic = "\xEF\xBB\xBFtopic";
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(Encode(p, v, &bytes).ok());
    Result<Packet> back = DecodePacket(bytes, Server(v));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(std::get<Publish>(*back).topic, "\xEF\xBB\xBFtopic");
  }
}

TEST(MqttDecoderAccepts, V5PasswordWithoutUserName) {
  // 5.0 dropped the 3.1.1 rule [MQTT-3.1.2-22].
  Connect c;
  c.client_id = "c";
  c.password = std::vector<uint8_t>{'p'};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(Encode(c, ProtocolVersion::kV5, &bytes).ok());
  Result<Packet> back = DecodePacket(bytes, {.role = Role::kServer});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(std::get<Connect>(*back) == c);
}

TEST(MqttDecoderAccepts, EmptyClientIdentifierWithCleanStartIn5AndCleanSessionIn311) {
  // 5.0 lets the server assign an identifier whatever Clean Start is ([MQTT-3.1.3-6]);
  // 3.1.1 requires CleanSession 1 for a zero-byte ClientId ([MQTT-3.1.3-7]).
  Connect c;
  c.client_id = "";
  c.clean_start = false;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(Encode(c, ProtocolVersion::kV5, &bytes).ok());
  EXPECT_TRUE(DecodePacket(bytes, {.role = Role::kServer}).ok());
  c.clean_start = true;
  bytes.clear();
  ASSERT_TRUE(Encode(c, ProtocolVersion::kV311, &bytes).ok());
  EXPECT_TRUE(DecodePacket(bytes, {.role = Role::kServer}).ok());
}

TEST(MqttDecoderAccepts, NonMinimalRemainingLengthIn311WhichHasNoMinimalityRule) {
  Result<Packet> p = DecodePacket(Hex("c0 80 00"), Server(ProtocolVersion::kV311));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(std::holds_alternative<Pingreq>(*p));
}

TEST(MqttDecoderAccepts, AuthBeforeConnackOnTheClientSideIn5) {
  // [MQTT-3.2.0-1]: the server may send AUTH before CONNACK.
  std::vector<uint8_t> bytes;
  Auth auth{.reason_code = ReasonCode::kContinueAuthentication};
  auth.properties.authentication_method = "m";
  ASSERT_TRUE(Encode(auth, ProtocolVersion::kV5, &bytes).ok());
  ASSERT_TRUE(Encode(Connack{}, ProtocolVersion::kV5, &bytes).ok());
  std::vector<Packet> got = testing::DecodeAll(
      bytes, {.role = Role::kClient, .version = ProtocolVersion::kV5}, 0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<Auth>(got[0]));
  EXPECT_TRUE(std::holds_alternative<Connack>(got[1]));
}

TEST(MqttDecoderAccepts, EmptyTopicNameWithTopicAliasIn5) {
  Result<Packet> p = DecodePacket(Hex("30 06 0000 03 230001"), Server(ProtocolVersion::kV5));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(std::get<Publish>(*p).properties.topic_alias, 1);
}

TEST(MqttDecoderLimits, RefusesAnOversizedPacketFromItsHeaderWithoutBufferingTheBody) {
  Decoder decoder({.role = Role::kServer, .version = ProtocolVersion::kV5,
                   .max_packet_size = 1000, .handshake_done = true});
  std::vector<uint8_t> header = Hex("30 ff ff ff 7f");  // announces 268 MB
  std::span<const uint8_t> in(header);
  Packet packet;
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kError);
  EXPECT_EQ(decoder.error().reason_code, ReasonCode::kPacketTooLarge);
  EXPECT_EQ(decoder.error().reaction, Reaction::kSendDisconnectAndClose);
  EXPECT_EQ(decoder.buffered_bytes(), 5u);
}

TEST(MqttDecoderLimits, AcceptsAPacketOfExactlyTheMaximumSize) {
  Publish p;
  p.topic = "t";
  p.payload.assign(100, 0);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &bytes).ok());
  DecoderOptions options = Server(ProtocolVersion::kV5);
  options.max_packet_size = static_cast<uint32_t>(bytes.size());
  EXPECT_TRUE(DecodePacket(bytes, options).ok());
  options.max_packet_size -= 1;
  Result<Packet> refused = DecodePacket(bytes, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "mqtt.packet_too_large");
}

TEST(MqttDecoderLimits, NewMaximumPacketSizeAppliesFromTheNextPacket) {
  Publish p;
  p.topic = "t";
  p.payload.assign(100, 0);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &bytes).ok());
  ASSERT_TRUE(Encode(p, ProtocolVersion::kV5, &bytes).ok());
  Decoder decoder(Server(ProtocolVersion::kV5));
  std::span<const uint8_t> in(bytes);
  Packet packet;
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
  decoder.set_max_packet_size(50);
  EXPECT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kError);
  EXPECT_EQ(decoder.error().reason_code, ReasonCode::kPacketTooLarge);
}

TEST(MqttDecoderBookkeeping, ErrorPointsAtTheFirstByteOfTheOffendingPacket) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(Encode(Pingreq{}, ProtocolVersion::kV5, &bytes).ok());
  ASSERT_TRUE(Encode(Puback{.packet_id = 3}, ProtocolVersion::kV5, &bytes).ok());
  size_t bad_at = bytes.size();
  std::vector<uint8_t> bad = Hex("36 03 0001 61");  // QoS 3
  bytes.insert(bytes.end(), bad.begin(), bad.end());
  DecodeError error;
  std::vector<Packet> got = testing::DecodeAll(bytes, Server(ProtocolVersion::kV5), 1, &error);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(error.stream_offset, bad_at);
  EXPECT_EQ(error.packet_type, 3);
  EXPECT_EQ(error.statement, "MQTT-3.3.1-4");
}

TEST(MqttDecoderBookkeeping, ErrorsConvertToStableWpsimErrorCodes) {
  struct Row {
    const char* hex;
    DecoderOptions options;
    const char* code;
  };
  const Row rows[] = {
      {"36 03 0001 61", Server(ProtocolVersion::kV5), "mqtt.malformed_packet"},
      {"40 02 0000", Server(ProtocolVersion::kV5), "mqtt.protocol_error"},
      {"10 0e 0004 4d515454 06 02 003c 00 0001 63", {.role = Role::kServer},
       "mqtt.unsupported_protocol_version"},
      {"10 0c 0004 4d515454 04 00 003c 0000", {.role = Role::kServer},
       "mqtt.client_identifier_not_valid"},
  };
  for (const Row& row : rows) {
    Result<Packet> p = DecodePacket(Hex(row.hex), row.options);
    ASSERT_FALSE(p.ok()) << row.hex;
    EXPECT_EQ(p.error().code, row.code) << row.hex;
    EXPECT_EQ(p.error().message.front(), '[') << p.error().message;
  }
}

TEST(MqttDecoderBookkeeping, ServerSideDecoderTakesNothingButConnectFirst) {
  // [MQTT-3.1.0-1]; and the error comes before the body is read.
  Decoder decoder({.role = Role::kServer});
  std::vector<uint8_t> bytes = Hex("30 7f");
  std::span<const uint8_t> in(bytes);
  Packet packet;
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kError);
  EXPECT_EQ(decoder.error().statement, "MQTT-3.1.0-1");
  EXPECT_EQ(decoder.error().reaction, Reaction::kCloseConnection);
}

// The fast path must decode exactly what Decode decodes and decline everything else: every
// fixed-header byte of types 4-7, every short Remaining Length, zero and non-zero packet ids,
// every reason code, both versions and both roles.
TEST(MqttDecoderSimpleAck, AgreesWithTheGeneralDecoderOnEveryShortAckShape) {
  size_t taken = 0;
  for (ProtocolVersion v : {ProtocolVersion::kV311, ProtocolVersion::kV5}) {
    for (DecoderOptions options : {Server(v), Client(v)}) {
      for (int b0 = 0x40; b0 < 0x80; ++b0) {
        for (uint8_t remaining = 0; remaining <= 4; ++remaining) {
          for (uint16_t id : {0, 1, 0x1234}) {
            for (int code = 0; code < (remaining >= 3 ? 256 : 1); ++code) {
              std::vector<uint8_t> bytes = {static_cast<uint8_t>(b0), remaining,
                                            static_cast<uint8_t>(id >> 8),
                                            static_cast<uint8_t>(id & 0xFF),
                                            static_cast<uint8_t>(code), 0x00};
              bytes.resize(2 + remaining);
              bytes.push_back(0xC0);  // PINGREQ follows: the fast path must stop before it
              bytes.push_back(0x00);
              Decoder fast(options);
              Decoder general(options);
              std::span<const uint8_t> fast_in(bytes);
              std::span<const uint8_t> general_in(bytes);
              SimpleAck ack;
              Packet packet;
              const bool took = fast.DecodeSimpleAck(&fast_in, &ack);
              const DecodeStatus status = general.Decode(&general_in, &packet);
              const std::string what = ToHex(bytes);
              if (!took) {
                EXPECT_EQ(fast_in.size(), bytes.size()) << what;
                EXPECT_EQ(fast.stream_offset(), 0u) << what;
                continue;
              }
              ++taken;
              ASSERT_EQ(status, DecodeStatus::kPacket) << what;
              EXPECT_EQ(fast_in.size(), general_in.size()) << what;
              EXPECT_EQ(fast.stream_offset(), general.stream_offset()) << what;
              ASSERT_EQ(TypeOf(packet), ack.type) << what;
              std::visit(
                  [&](const auto& p) {
                    if constexpr (requires { p.reason_code; p.packet_id; p.properties; }) {
                      EXPECT_EQ(p.packet_id, ack.packet_id) << what;
                      EXPECT_EQ(p.reason_code, ack.reason_code) << what;
                      EXPECT_TRUE(p.properties.empty()) << what;
                    } else {
                      ADD_FAILURE() << "not an ack: " << what;
                    }
                  },
                  packet);
              // Both continue with the PINGREQ (server) or refuse it (client) alike.
              Packet next_fast;
              Packet next_general;
              EXPECT_EQ(fast.Decode(&fast_in, &next_fast), general.Decode(&general_in, &next_general))
                  << what;
            }
          }
        }
      }
    }
  }
  // 3.1.1: 4 types x 2 ids x 2 roles; 5.0: the same without a reason code plus every allowed code.
  EXPECT_GT(taken, 4u * 2 * 2 * 2);
}

TEST(MqttDecoderSimpleAck, DeclinesBeforeTheHandshakeAndForSplitOrPropertyCarryingPackets) {
  {
    Decoder decoder({.role = Role::kServer});  // no CONNECT yet: Decode must refuse it
    std::vector<uint8_t> bytes = Hex("40 02 0001");
    std::span<const uint8_t> in(bytes);
    SimpleAck ack;
    EXPECT_FALSE(decoder.DecodeSimpleAck(&in, &ack));
    EXPECT_EQ(in.size(), 4u);
  }
  Decoder decoder(Server(ProtocolVersion::kV5));
  SimpleAck ack;
  std::vector<uint8_t> split = Hex("40 02 00");
  std::span<const uint8_t> in(split);
  EXPECT_FALSE(decoder.DecodeSimpleAck(&in, &ack));
  Packet packet;
  EXPECT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kNeedMore);
  std::vector<uint8_t> rest = Hex("07 40 03 0008 10");
  in = std::span<const uint8_t>(rest);
  // Mid-packet (one byte of the first PUBACK buffered): only Decode may continue.
  EXPECT_FALSE(decoder.DecodeSimpleAck(&in, &ack));
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
  EXPECT_EQ(std::get<Puback>(packet).packet_id, 7);
  ASSERT_TRUE(decoder.DecodeSimpleAck(&in, &ack));
  EXPECT_EQ(ack.packet_id, 8);
  EXPECT_EQ(ack.reason_code, ReasonCode::kNoMatchingSubscribers);
  std::vector<uint8_t> with_properties = Hex("40 08 0009 00 04 1f 0001 61");
  in = std::span<const uint8_t>(with_properties);
  EXPECT_FALSE(decoder.DecodeSimpleAck(&in, &ack));
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
  EXPECT_EQ(std::get<Puback>(packet).properties.reason_string, "a");
}

TEST(MqttDecoderSimpleAck, ErrorsAfterAFastPathAckPointAtTheRightByte) {
  Decoder decoder(Server(ProtocolVersion::kV5));
  std::vector<uint8_t> bytes = Hex("40 02 0001 50 03 0002 10 36 03 0001 61");
  std::span<const uint8_t> in(bytes);
  SimpleAck ack;
  ASSERT_TRUE(decoder.DecodeSimpleAck(&in, &ack));
  ASSERT_TRUE(decoder.DecodeSimpleAck(&in, &ack));
  EXPECT_EQ(ack.type, PacketType::kPubrec);
  EXPECT_FALSE(decoder.DecodeSimpleAck(&in, &ack));
  Packet packet;
  ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kError);
  EXPECT_EQ(decoder.error().stream_offset, 9u);
}

// ---- Section 2.2.2.2, Table 2-4, transcribed here independently of the codec's table. ----

// Contexts: packet names, plus "Will" for Will Properties.
const std::map<uint8_t, std::vector<std::string>> kSpecTable = {
    {0x01, {"PUBLISH", "Will"}},
    {0x02, {"PUBLISH", "Will"}},
    {0x03, {"PUBLISH", "Will"}},
    {0x08, {"PUBLISH", "Will"}},
    {0x09, {"PUBLISH", "Will"}},
    {0x0B, {"PUBLISH", "SUBSCRIBE"}},
    {0x11, {"CONNECT", "CONNACK", "DISCONNECT"}},
    {0x12, {"CONNACK"}},
    {0x13, {"CONNACK"}},
    {0x15, {"CONNECT", "CONNACK", "AUTH"}},
    {0x16, {"CONNECT", "CONNACK", "AUTH"}},
    {0x17, {"CONNECT"}},
    {0x18, {"Will"}},
    {0x19, {"CONNECT"}},
    {0x1A, {"CONNACK"}},
    {0x1C, {"CONNACK", "DISCONNECT"}},
    {0x1F,
     {"CONNACK", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBACK", "UNSUBACK", "DISCONNECT",
      "AUTH"}},
    {0x21, {"CONNECT", "CONNACK"}},
    {0x22, {"CONNECT", "CONNACK"}},
    {0x23, {"PUBLISH"}},
    {0x24, {"CONNACK"}},
    {0x25, {"CONNACK"}},
    {0x26,
     {"CONNECT", "CONNACK", "PUBLISH", "Will", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
      "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "DISCONNECT", "AUTH"}},
    {0x27, {"CONNECT", "CONNACK"}},
    {0x28, {"CONNACK"}},
    {0x29, {"CONNACK"}},
    {0x2A, {"CONNACK"}},
};

// One valid value of each property (non-zero, and 0 or 1 for the flag-like bytes).
std::vector<uint8_t> PropertyBytes(uint8_t id) {
  std::vector<uint8_t> v = {id};
  auto append = [&](std::string_view hex) {
    std::vector<uint8_t> b = Hex(hex);
    v.insert(v.end(), b.begin(), b.end());
  };
  switch (FindPropertyInfo(id)->type) {
    case PropertyType::kByte: append("01"); break;
    case PropertyType::kTwoByteInteger: append("0001"); break;
    case PropertyType::kFourByteInteger: append("00000001"); break;
    case PropertyType::kVariableByteInteger: append("01"); break;
    case PropertyType::kUtf8String: append("0001 61"); break;
    case PropertyType::kBinaryData: append("0001 62"); break;
    case PropertyType::kUtf8StringPair: append("0001 6b 0001 76"); break;
  }
  if (id == 0x16) {  // Authentication Data needs an Authentication Method beside it.
    append("15 0001 6d");
  }
  return v;
}

std::vector<uint8_t> WithLength(const std::vector<uint8_t>& props) {
  std::vector<uint8_t> out = {static_cast<uint8_t>(props.size())};
  out.insert(out.end(), props.begin(), props.end());
  return out;
}

std::vector<uint8_t> Packet5(uint8_t first, std::vector<uint8_t> body) {
  std::vector<uint8_t> out = {first, static_cast<uint8_t>(body.size())};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A minimal 5.0 packet of `context` carrying `props`, and the decoder that receives it.
std::pair<std::vector<uint8_t>, DecoderOptions> Carrier(const std::string& context,
                                                        const std::vector<uint8_t>& props) {
  std::vector<uint8_t> p = WithLength(props);
  const std::vector<uint8_t> empty = {0};
  DecoderOptions server_new{.role = Role::kServer};
  DecoderOptions client_new{.role = Role::kClient, .version = ProtocolVersion::kV5};
  DecoderOptions server = Server(ProtocolVersion::kV5);
  DecoderOptions client = Client(ProtocolVersion::kV5);
  std::vector<uint8_t> connect_head = Hex("0004 4d515454 05");
  if (context == "CONNECT") {
    return {Packet5(0x10, Cat({connect_head, Hex("02 003c"), p, Hex("0001 63")})), server_new};
  }
  if (context == "Will") {
    return {Packet5(0x10, Cat({connect_head, Hex("06 003c"), empty, Hex("0001 63"), p,
                               Hex("0001 77 0001 78")})),
            server_new};
  }
  if (context == "CONNACK") return {Packet5(0x20, Cat({Hex("00 00"), p})), client_new};
  // A server-sent PUBLISH: Subscription Identifiers are only refused from clients.
  if (context == "PUBLISH") return {Packet5(0x30, Cat({Hex("0001 74"), p})), client};
  if (context == "PUBACK") return {Packet5(0x40, Cat({Hex("0001 00"), p})), server};
  if (context == "PUBREC") return {Packet5(0x50, Cat({Hex("0001 00"), p})), server};
  if (context == "PUBREL") return {Packet5(0x62, Cat({Hex("0001 00"), p})), server};
  if (context == "PUBCOMP") return {Packet5(0x70, Cat({Hex("0001 00"), p})), server};
  if (context == "SUBSCRIBE") return {Packet5(0x82, Cat({Hex("0001"), p, Hex("0001 74 00")})), server};
  if (context == "SUBACK") return {Packet5(0x90, Cat({Hex("0001"), p, Hex("00")})), client};
  if (context == "UNSUBSCRIBE") return {Packet5(0xA2, Cat({Hex("0001"), p, Hex("0001 74")})), server};
  if (context == "UNSUBACK") return {Packet5(0xB0, Cat({Hex("0001"), p, Hex("00")})), client};
  // A client-sent DISCONNECT: Session Expiry Interval is only refused from servers.
  if (context == "DISCONNECT") return {Packet5(0xE0, Cat({Hex("00"), p})), server};
  if (context == "AUTH") return {Packet5(0xF0, Cat({Hex("18"), p})), server};
  ADD_FAILURE() << context;
  return {};
}

const char* const kContexts[] = {"CONNECT", "Will",     "CONNACK", "PUBLISH",  "PUBACK",
                                 "PUBREC",  "PUBREL",   "PUBCOMP", "SUBSCRIBE", "SUBACK",
                                 "UNSUBSCRIBE", "UNSUBACK", "DISCONNECT", "AUTH"};

TEST(MqttPropertyTable, EveryPropertyIsAcceptedExactlyWhereTable2_4AllowsIt) {
  int checked = 0;
  for (const auto& [id, allowed] : kSpecTable) {
    ASSERT_NE(FindPropertyInfo(id), nullptr) << std::hex << int{id};
    for (const char* context : kContexts) {
      bool expect_ok = std::find(allowed.begin(), allowed.end(), context) != allowed.end();
      auto [bytes, options] = Carrier(context, PropertyBytes(id));
      Result<Packet> p = DecodePacket(bytes, options);
      if (expect_ok) {
        EXPECT_TRUE(p.ok()) << "property 0x" << std::hex << int{id} << " in " << context << ": "
                            << p.error().message;
      } else {
        ASSERT_FALSE(p.ok()) << "property 0x" << std::hex << int{id} << " in " << context;
        EXPECT_EQ(p.error().code, "mqtt.malformed_packet") << p.error().message;
        EXPECT_NE(p.error().message.find("not allowed"), std::string::npos)
            << p.error().message;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 27 * 14);
}

TEST(MqttPropertyTable, EveryPropertyButUserPropertyAndPublishSubscriptionIdsIsSingle) {
  for (const auto& [id, allowed] : kSpecTable) {
    for (const std::string& context : allowed) {
      std::vector<uint8_t> once = PropertyBytes(id);
      std::vector<uint8_t> twice = Cat({once, {id}});
      std::vector<uint8_t> value(once.begin() + 1, once.end());
      if (id == 0x16) value.resize(value.size() - 4);  // the second copy without the method
      twice.insert(twice.end(), value.begin(), value.end());
      auto [bytes, options] = Carrier(context, twice);
      Result<Packet> p = DecodePacket(bytes, options);
      bool repeatable = id == 0x26 || (id == 0x0B && context == "PUBLISH");
      if (repeatable) {
        EXPECT_TRUE(p.ok()) << std::hex << int{id} << " twice in " << context << ": "
                            << p.error().message;
      } else {
        ASSERT_FALSE(p.ok()) << std::hex << int{id} << " twice in " << context;
        EXPECT_EQ(p.error().code, "mqtt.protocol_error") << p.error().message;
      }
    }
  }
}

TEST(MqttPropertyTable, UnknownIdentifiersAreMalformedEverywhere) {
  for (int id = 0; id < 0x80; ++id) {
    if (FindPropertyInfo(static_cast<uint8_t>(id)) != nullptr) continue;
    auto [bytes, options] = Carrier("PUBLISH", {static_cast<uint8_t>(id), 0x00});
    Result<Packet> p = DecodePacket(bytes, options);
    ASSERT_FALSE(p.ok()) << id;
    EXPECT_EQ(p.error().code, "mqtt.malformed_packet");
  }
}

TEST(MqttReasonCodes, TablesListWhatEachPacketMayCarry) {
  EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kConnack, 0x84));
  EXPECT_FALSE(IsReasonCodeAllowed(PacketType::kConnack, 0x8E));  // Session taken over
  EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kDisconnect, 0x8E));
  EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kSuback, 0xA2));
  EXPECT_FALSE(IsReasonCodeAllowed(PacketType::kPuback, 0x92));
  EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kPubrel, 0x92));
  EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kAuth, 0x19));
  EXPECT_FALSE(IsReasonCodeAllowed(PacketType::kPublish, 0x00));
  EXPECT_EQ(ReasonCodeName(ReasonCode::kSuccess, PacketType::kDisconnect), "Normal disconnection");
  EXPECT_EQ(ReasonCodeName(ReasonCode::kSuccess, PacketType::kSuback), "Granted QoS 0");
  EXPECT_EQ(ReasonCodeName(ReasonCode::kSuccess, PacketType::kConnack), "Success");
  EXPECT_EQ(ReasonCodeName(ReasonCode::kWildcardSubscriptionsNotSupported, PacketType::kSuback),
            "Wildcard Subscriptions not supported");
  // Every code PROTOCOL.md §10.4 says Web PubSub sends in CONNACK is in the CONNACK table.
  for (int code : {128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 140, 144, 149, 151,
                   153, 154, 155, 156, 157, 159}) {
    EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kConnack, static_cast<uint8_t>(code))) << code;
    EXPECT_NE(ReasonCodeName(static_cast<ReasonCode>(code), PacketType::kConnack), "Unknown");
  }
  // And every DISCONNECT code it lists is in the DISCONNECT table.
  for (int code : {0, 4, 128, 129, 130, 131, 135, 137, 139, 141, 142, 143, 144, 147, 148, 149,
                   150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162}) {
    EXPECT_TRUE(IsReasonCodeAllowed(PacketType::kDisconnect, static_cast<uint8_t>(code)))
        << code;
  }
}

}  // namespace
}  // namespace wpsim::protocol::mqtt
