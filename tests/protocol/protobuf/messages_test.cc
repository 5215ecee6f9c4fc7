// The Web PubSub protobuf messages (protocol/protobuf/messages.h, PROTOCOL.md §7): byte-exact
// vectors for every message the service sends and the requests clients send, the decode rules
// and their refusals.
#include "protocol/protobuf/messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/webpubsub/client_requests.h"

namespace wpsim::protocol::protobuf {
namespace {

namespace wps = protocol::webpubsub;

std::string Hex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}
std::string Hex(const SharedBytes& b) { return Hex(b.span()); }

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

Result<wps::Request> Decode(std::string_view hex, const DecodeOptions& options = {}) {
  const std::vector<uint8_t> bytes = FromHex(hex);
  return DecodeUpstreamMessage({bytes.data(), bytes.size()}, options);
}

// ---- Service → client: byte-exact -------------------------------------------------------

TEST(ProtobufDownstream, AckIsAckMessageWithIdAndSuccess) {
  EXPECT_EQ(Hex(EncodeAck(1)), "0a0408011001");
  EXPECT_EQ(Hex(EncodeAck(300)), "0a0508ac021001");
}

TEST(ProtobufDownstream, AckErrorOmitsFalseSuccessAndCarriesNameAndMessage) {
  EXPECT_EQ(Hex(EncodeAckError(2, "Forbidden", "no")),
            "0a1308021a0f0a09466f7262696464656e12026e6f");
}

TEST(ProtobufDownstream, DuplicateAckUsesTheJsonProtocolsText) {
  auto decoded = DecodeDownstreamMessage(EncodeDuplicateAck(7).span());
  ASSERT_TRUE(decoded.ok());
  const auto& ack = std::get<wps::AckMessage>(*decoded);
  EXPECT_EQ(ack.ack_id, 7u);
  EXPECT_FALSE(ack.success);
  EXPECT_EQ(ack.error->name, "Duplicate");
  EXPECT_EQ(ack.error->message, "Message with ack-id: 7 has been processed");
}

TEST(ProtobufDownstream, PongIsAnEmptyPongMessage) { EXPECT_EQ(Hex(EncodePong()), "2200"); }

TEST(ProtobufDownstream, ConnectedCarriesIdUserAndReconnectionToken) {
  EXPECT_EQ(Hex(EncodeConnected("c1", "u", "t")),
            "1a0c0a0a0a026331120175"
            "1a0174");
  // Anonymous and non-reliable: user_id and reconnection_token are absent.
  EXPECT_EQ(Hex(EncodeConnected("c1", std::nullopt, std::nullopt)), "1a060a040a026331");
}

TEST(ProtobufDownstream, DisconnectedCarriesTheReasonInField2) {
  EXPECT_EQ(Hex(EncodeDisconnected("bye")), "1a0712051203627965");
}

TEST(ProtobufDownstream, GroupMessageHasFromGroupAndNoUserId) {
  EXPECT_EQ(Hex(protobuf::EncodeGroupMessage("g", wps::Payload::Text("hi"))),
            "12100a0567726f7570120167"
            "1a040a026869");
}

TEST(ProtobufDownstream, ServerMessageHasFromServerAndNoGroup) {
  EXPECT_EQ(Hex(protobuf::EncodeServerMessage(wps::Payload::Binary(FromHex("0001")))),
            "120e0a06736572766572"
            "1a0412020001");
}

TEST(ProtobufDownstream, JsonPayloadReachesProtobufClientsAsTextData) {
  EXPECT_EQ(Hex(protobuf::EncodeServerMessage(wps::Payload::Json("{\"a\":1}"))),
            "12130a06736572766572"
            "1a090a077b2261223a317d");
}

TEST(ProtobufDownstream, ProtobufPayloadIsTheAnyVerbatim) {
  // Any{type_url:"t", value:0x08 0x01}
  const std::vector<uint8_t> any = FromHex(
      "0a01741202"
      "0801");
  EXPECT_EQ(Hex(protobuf::EncodeServerMessage(wps::Payload::Protobuf(any))),
            "12130a06736572766572"
            "1a091a070a017412020801");
}

TEST(ProtobufDownstream, EmptyTextIsStillSetInTheOneof) {
  EXPECT_EQ(Hex(protobuf::EncodeServerMessage(wps::Payload::Text(""))),
            "120c0a06736572766572"
            "1a020a00");
}

TEST(ProtobufDownstream, SequencedMessageAppendsTheSequenceIdPerReceiver) {
  const SequencedMessage m = protobuf::EncodeSequencedGroupMessage("g", wps::Payload::Text("hi"));
  EXPECT_EQ(Hex(m.Render(1)),
            "12120a0567726f7570120167"
            "1a040a026869"
            "2001");
  EXPECT_EQ(Hex(m.Render(300)),
            "12130a0567726f7570120167"
            "1a040a026869"
            "20ac02");
  EXPECT_EQ(m.RenderedSize(300), m.Render(300).size());
  EXPECT_EQ(m.RenderedSize(UINT64_MAX), m.Render(UINT64_MAX).size());
  auto decoded = DecodeDownstreamMessage(m.Render(UINT64_MAX).span());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<wps::GroupDataMessage>(*decoded).sequence_id, UINT64_MAX);
}

TEST(ProtobufDownstream, SequencedBodyIsSharedNotCopiedPerReceiver) {
  const SequencedMessage m = protobuf::EncodeSequencedServerMessage(wps::Payload::Text("x"));
  const SequencedMessage copy = m;
  EXPECT_EQ(copy.body().data(), m.body().data());
}

TEST(ProtobufDownstream, DecoderReadsEveryMessageTheServiceSends) {
  auto group =
      DecodeDownstreamMessage(protobuf::EncodeGroupMessage("g", wps::Payload::Text("hi")).span());
  ASSERT_TRUE(group.ok());
  const auto& gm = std::get<wps::GroupDataMessage>(*group);
  EXPECT_EQ(gm.group, "g");
  EXPECT_EQ(gm.payload, wps::Payload::Text("hi"));
  EXPECT_FALSE(gm.from_user_id.has_value());
  EXPECT_FALSE(gm.sequence_id.has_value());

  auto connected = DecodeDownstreamMessage(EncodeConnected("c", std::nullopt, "tok").span());
  ASSERT_TRUE(connected.ok());
  EXPECT_EQ(std::get<wps::ConnectedMessage>(*connected),
            (wps::ConnectedMessage{"c", std::nullopt, "tok"}));

  auto disconnected = DecodeDownstreamMessage(EncodeDisconnected("r").span());
  ASSERT_TRUE(disconnected.ok());
  EXPECT_EQ(std::get<wps::DisconnectedMessage>(*disconnected).message, "r");

  auto pong = DecodeDownstreamMessage(EncodePong().span());
  ASSERT_TRUE(pong.ok());
  EXPECT_TRUE(std::holds_alternative<wps::PongMessage>(*pong));
}

TEST(ProtobufDownstream, DecoderTreatsNewerMembersAsUnknown) {
  // DownstreamMessage field 15 {}: not a member this decoder knows.
  auto m = DecodeDownstreamMessage(std::span<const uint8_t>(FromHex("7a00")));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<wps::UnknownMessage>(*m).type, "field 15");
}

// ---- Group streams (PROTOCOL.md §9.1; docs/conformance.md PB-006) ----

TEST(ProtobufStreams, StreamAnswersUseTheDocumentedFields) {
  EXPECT_EQ(Hex(protobuf::EncodeStreamAck("s", 2)), "32050a01731002");
  EXPECT_EQ(Hex(protobuf::EncodeStreamNack("s", "InvalidSequenceId", "m", 2)),
            "3a1b0a01731211496e76616c696453657175656e636549641a016d2002");
  EXPECT_EQ(Hex(protobuf::EncodeStreamClosed("s", wps::AckError{"IdleTimeout", "m"})),
            "42150a017312100a0b49646c6554696d656f757412016d");
  EXPECT_EQ(Hex(protobuf::EncodeStreamClosed("s", std::nullopt)), "42030a0173");
  auto ack = DecodeDownstreamMessage(protobuf::EncodeStreamAck("s", 2).span());
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(std::get<wps::StreamAckMessage>(*ack), (wps::StreamAckMessage{"s", 2}));
  auto nack =
      DecodeDownstreamMessage(protobuf::EncodeStreamNack("s", "InvalidSequenceId", "m", 2).span());
  ASSERT_TRUE(nack.ok());
  EXPECT_EQ(std::get<wps::StreamNackMessage>(*nack),
            (wps::StreamNackMessage{"s", "InvalidSequenceId", "m", 2}));
  auto closed = DecodeDownstreamMessage(
      protobuf::EncodeStreamClosed("s", wps::AckError{"IdleTimeout", "m"}).span());
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(std::get<wps::StreamClosedMessage>(*closed),
            (wps::StreamClosedMessage{"s", wps::AckError{"IdleTimeout", "m"}}));
}

TEST(ProtobufStreams, GroupMessagesCarryStreamInfoAndTheTerminalOneHasNoData) {
  const wps::StreamInfo fragment{"s", 1, false, std::nullopt};
  const SharedBytes frag =
      protobuf::EncodeGroupStreamMessage("g", wps::Payload::Text("x"), fragment);
  EXPECT_EQ(Hex(frag), "12160a0567726f75701201671a030a017832050a01731001");
  const wps::StreamInfo terminal{"s", 2, true, wps::StreamDataError{"UserError", "m", "c"}};
  const SharedBytes end = protobuf::EncodeGroupStreamMessage("g", std::nullopt, terminal);
  EXPECT_EQ(Hex(end),
            "12260a0567726f7570120167321a0a01731002180122110a09557365724572726f7212016d1a0163");
  auto f = DecodeDownstreamMessage(frag.span());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::get<wps::GroupDataMessage>(*f).stream, std::optional<wps::StreamInfo>(fragment));
  auto e = DecodeDownstreamMessage(end.span());
  ASSERT_TRUE(e.ok()) << e.error().message;
  const auto& last = std::get<wps::GroupDataMessage>(*e);
  EXPECT_EQ(last.stream, std::optional<wps::StreamInfo>(terminal));
  EXPECT_TRUE(last.payload.data.empty());
  // The reliable form: the same body, sequence_id appended per receiver.
  auto r = DecodeDownstreamMessage(
      protobuf::EncodeSequencedGroupStreamMessage("g", std::nullopt, terminal).Render(7).span());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<wps::GroupDataMessage>(*r).sequence_id, std::optional<uint64_t>(7));
  EXPECT_EQ(std::get<wps::GroupDataMessage>(*r).stream, std::optional<wps::StreamInfo>(terminal));
}

TEST(ProtobufStreams, DecodesStartDataKeepaliveAndEnd) {
  auto start = Decode("0a100a0167100320013a070a02733110e807");
  ASSERT_TRUE(start.ok()) << start.error().message;
  EXPECT_EQ(std::get<wps::StreamStartRequest>(*start),
            (wps::StreamStartRequest{"g", "s1", 1000, 3, true}));
  auto start_default = Decode("0a090a01673a040a027331");
  ASSERT_TRUE(start_default.ok());
  EXPECT_EQ(std::get<wps::StreamStartRequest>(*start_default).idle_timeout_ms,
            wps::kStreamIdleTimeoutMsDefault);
  auto data = Decode("6a0b0a02733110021a030a0178");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(std::get<wps::StreamDataRequest>(*data),
            (wps::StreamDataRequest{"s1", 2, wps::Payload::Text("x")}));
  auto keepalive = Decode("6a040a027331");
  ASSERT_TRUE(keepalive.ok());
  EXPECT_TRUE(std::get<wps::StreamDataRequest>(*keepalive).IsKeepalive());
  auto end = Decode("720c0a02733112060a016d120163");
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(std::get<wps::StreamEndRequest>(*end),
            (wps::StreamEndRequest{"s1", wps::StreamEndError{"m", "c"}}));
}

TEST(ProtobufStreams, EncodersRoundTripThroughTheDecoder) {
  const std::vector<wps::Request> requests = {
      wps::StreamStartRequest{"g", "s1", 1000, 3, true},
      wps::StreamStartRequest{"g", "s2", 1, std::nullopt, false},
      wps::StreamDataRequest{"s1", 2, wps::Payload::Binary(FromHex("0001"))},
      wps::StreamDataRequest{"s1", std::nullopt, std::nullopt},
      wps::StreamEndRequest{"s1", std::nullopt},
      wps::StreamEndRequest{"s1", wps::StreamEndError{std::nullopt, "code"}},
  };
  for (const wps::Request& request : requests) {
    auto back = DecodeUpstreamMessage(protobuf::EncodeUpstreamMessage(request).span());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, request);
  }
  EXPECT_EQ(
      Hex(protobuf::EncodeStreamStartRequest(wps::StreamStartRequest{"g", "s1", 1000, 3, true})),
      "0a100a0167100320013a070a02733110e807");
}

TEST(ProtobufDownstream, DecoderReadsJsonDataAsJson) {
  // data_message{from:"server", data{json_data:"1"}}
  auto m =
      DecodeDownstreamMessage(std::span<const uint8_t>(FromHex("120d0a067365727665721a032201"
                                                               "31")));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<wps::ServerDataMessage>(*m).payload, wps::Payload::Json("1"));
}

// ---- Client → service -------------------------------------------------------------------

TEST(ProtobufUpstream, EncodesRequestsLikeProtobufjs) {
  EXPECT_EQ(Hex(protobuf::EncodeSendToGroupRequest("g", wps::Payload::Text("hi"), 1, false)),
            "0a0d0a0167"
            "1001"
            "1a040a026869"
            "2000");
  EXPECT_EQ(Hex(EncodeJoinGroupRequest("g", 5)), "32050a01671005");
  EXPECT_EQ(Hex(EncodeLeaveGroupRequest("g", std::nullopt)), "3a030a0167");
  EXPECT_EQ(Hex(protobuf::EncodeEventRequest("e", wps::Payload::Json("1"), 3)),
            "2a0a0a0165"
            "12032201"
            "31"
            "1803");
  EXPECT_EQ(Hex(EncodeSequenceAckRequest(7)), "42020807");
  EXPECT_EQ(Hex(EncodePingRequest()), "4a00");
}

TEST(ProtobufUpstream, DecodesEveryRequestKind) {
  auto send = Decode("0a0d0a016710011a040a0268692001");
  ASSERT_TRUE(send.ok()) << send.error().message;
  EXPECT_EQ(std::get<wps::SendToGroupRequest>(*send),
            (wps::SendToGroupRequest{"g", 1, true, wps::Payload::Text("hi")}));
  auto join = Decode("32050a01671005");
  ASSERT_TRUE(join.ok());
  EXPECT_EQ(std::get<wps::JoinGroupRequest>(*join), (wps::JoinGroupRequest{"g", 5}));
  auto leave = Decode("3a030a0167");
  ASSERT_TRUE(leave.ok());
  EXPECT_EQ(std::get<wps::LeaveGroupRequest>(*leave), (wps::LeaveGroupRequest{"g", std::nullopt}));
  auto event = Decode(
      "2a0a0a01651203220131"
      "1803");
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(std::get<wps::EventRequest>(*event),
            (wps::EventRequest{"e", 3, wps::Payload::Json("1")}));
  auto ack = Decode("42020807");
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(std::get<wps::SequenceAckRequest>(*ack).sequence_id, 7u);
  auto ping = Decode("4a00");
  ASSERT_TRUE(ping.ok());
  EXPECT_TRUE(std::holds_alternative<wps::PingRequest>(*ping));
}

TEST(ProtobufUpstream, AckIdZeroIsPresentWhenWritten) {
  auto join = Decode("32050a01671000");
  ASSERT_TRUE(join.ok());
  EXPECT_EQ(std::get<wps::JoinGroupRequest>(*join).ack_id, std::optional<uint64_t>(0));
}

TEST(ProtobufUpstream, MessageDataMembersMapToDataTypes) {
  auto binary = Decode("0a090a01671a0412020001");
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(std::get<wps::SendToGroupRequest>(*binary).payload,
            wps::Payload::Binary(FromHex("0001")));
  // protobuf_data: Any{type_url:"t", value:08 01} kept verbatim.
  auto any = Decode("0a0f0a01671a0a1a080a01741203080101");
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(std::get<wps::SendToGroupRequest>(*any).payload,
            wps::Payload::Protobuf(FromHex("0a0174120308"
                                           "0101")));
}

TEST(ProtobufUpstream, UnknownFieldsAreSkipped) {
  // join{group g, field 9 varint, field 10 fixed32, ttl-like field} + top-level field 20 varint.
  auto join = Decode(
      "320c0a016748015502000000"
      "1005"
      "a00101");
  ASSERT_TRUE(join.ok()) << join.error().message;
  EXPECT_EQ(std::get<wps::JoinGroupRequest>(*join), (wps::JoinGroupRequest{"g", 5}));
}

TEST(ProtobufUpstream, TtlAndMetadataRideOnTheSendRequest) {
  // send{group g, data{text "x"}, ttl_seconds 5, metadata {k: v}}
  auto send = Decode(
      "0a140a01671a030a0178"
      "2805"
      "3206"
      "0a016b120176"
      "2000");
  ASSERT_TRUE(send.ok()) << send.error().message;
  const auto& r = std::get<wps::SendToGroupRequest>(*send);
  wps::Payload want = wps::Payload::Text("x");
  want.metadata = {{"k", "v"}};
  EXPECT_EQ(r.payload, want);
  EXPECT_EQ(r.ttl_seconds, std::optional<uint32_t>(5));
}

TEST(ProtobufUpstream, EventMetadataIsField4AndAMapKeyGivenTwiceKeepsItsLastValue) {
  // event{event e, data{text "x"}, metadata {k: v}, metadata {k: w}}
  auto event = Decode("2a180a016512030a017822060a016b12017622060a016b120177");
  ASSERT_TRUE(event.ok()) << event.error().message;
  wps::Payload want = wps::Payload::Text("x");
  want.metadata = {{"k", "w"}};
  EXPECT_EQ(std::get<wps::EventRequest>(*event).payload, want);
}

TEST(ProtobufUpstream, MetadataWithoutDataIsAnEmptyTextPayload) {
  // send{group g, metadata {k: v}}
  auto send = Decode("0a0b0a016732060a016b120176");
  ASSERT_TRUE(send.ok()) << send.error().message;
  wps::Payload want = wps::Payload::Text("");
  want.metadata = {{"k", "v"}};
  EXPECT_EQ(std::get<wps::SendToGroupRequest>(*send).payload, want);
}

TEST(ProtobufUpstream, TtlAboveThreeHundredAndBadMetadataAreInvalidMessages) {
  EXPECT_TRUE(Decode("0a0b0a01671a030a017828ac02").ok());  // 300
  auto ttl = Decode("0a0b0a01671a030a017828ad02");         // 301
  ASSERT_FALSE(ttl.ok());
  EXPECT_EQ(ttl.error().code, wps::kInvalidMessage);
  // metadata key "a b" (a space is not a token character)
  auto key = Decode("0a120a01671a030a017832080a03612062120176");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("invalid characters"), std::string::npos);
}

TEST(ProtobufUpstream, EncodesTtlAndMetadataAfterNoEcho) {
  wps::Payload payload = wps::Payload::Text("x");
  payload.metadata = {{"k", "v"}};
  EXPECT_EQ(Hex(protobuf::EncodeSendToGroupRequest("g", payload, std::nullopt, false, 5)),
            "0a140a01671a030a01782000280532060a016b120176");
}

TEST(ProtobufDownstream, DataMessageCarriesMetadataAsField5) {
  wps::Payload payload = wps::Payload::Text("x");
  payload.metadata = {{"k", "v"}};
  const SharedBytes group = protobuf::EncodeGroupMessage("g", payload);
  EXPECT_EQ(Hex(group), "12170a0567726f75701201671a030a01782a060a016b120176");
  auto decoded = DecodeDownstreamMessage(group.span());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(std::get<wps::GroupDataMessage>(*decoded).payload, payload);
  // The reliable form keeps metadata in the shared body; sequence_id follows it.
  auto sequenced =
      DecodeDownstreamMessage(protobuf::EncodeSequencedServerMessage(payload).Render(9).span());
  ASSERT_TRUE(sequenced.ok());
  const auto& server = std::get<wps::ServerDataMessage>(*sequenced);
  EXPECT_EQ(server.payload, payload);
  EXPECT_EQ(server.sequence_id, std::optional<uint64_t>(9));
}

TEST(ProtobufUpstream, RepeatedMemberMergesFieldByField) {
  // join{group a} then join{ack_id 4}: one join of a with ack 4.
  auto join = Decode(
      "32030a0161"
      "32021004");
  ASSERT_TRUE(join.ok());
  EXPECT_EQ(std::get<wps::JoinGroupRequest>(*join), (wps::JoinGroupRequest{"a", 4}));
}

TEST(ProtobufUpstream, LastOneofMemberWins) {
  auto last = Decode(
      "32030a0161"
      "4a00");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(std::holds_alternative<wps::PingRequest>(*last));
}

struct Refusal {
  const char* name;
  std::string hex;
  std::string code;
  std::string message;
};

class ProtobufUpstreamRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(ProtobufUpstreamRefuses, WithInvalidMessageAndClose1007) {
  auto r = Decode(GetParam().hex);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, GetParam().code);
  EXPECT_EQ(r.error().message, GetParam().message);
  EXPECT_EQ(wps::CloseCodeFor(r.error()), 1007);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProtobufUpstreamRefuses,
    ::testing::Values(
        Refusal{"Empty", "", wps::kUnknownType,
                "the UpstreamMessage sets no message this service knows"},
        Refusal{"NewerMemberLast",
                "4a00"
                "7a00",
                wps::kUnknownType, "the UpstreamMessage sets no message this service knows"},
        Refusal{"TruncatedLength", "0a", wps::kInvalidMessage,
                "malformed UpstreamMessage: truncated varint at byte 0"},
        Refusal{"PastTheEnd", "3205", wps::kInvalidMessage,
                "malformed UpstreamMessage: length-delimited field runs past the end at byte 0"},
        Refusal{"MemberNotLengthDelimited", "3001", wps::kInvalidMessage,
                "malformed UpstreamMessage: join_group_message has the wrong wire type at byte 0"},
        Refusal{"GroupNotAString", "32020801", wps::kInvalidMessage,
                "malformed UpstreamMessage: join_group_message: group has the wrong wire type at "
                "byte 2"},
        Refusal{"AckIdNotAVarint",
                "32050a0167"
                "1200",
                wps::kInvalidMessage,
                "malformed UpstreamMessage: join_group_message: ack_id has the wrong wire type at "
                "byte 5"},
        Refusal{
            "GroupNotUtf8", "32030a01ff", wps::kInvalidMessage,
            "malformed UpstreamMessage: join_group_message: group is not valid UTF-8 at byte 2"},
        Refusal{"EmptyGroupName", "3200", wps::kInvalidMessage, "invalid group name ''"},
        Refusal{"BadGroupName", "32030a0120", wps::kInvalidMessage, "invalid group name ' '"},
        Refusal{"BadEventName",
                "2a070a0120"
                "12020a00",
                wps::kInvalidMessage, "invalid event name ' '"},
        Refusal{"SendWithoutData", "0a030a0167", wps::kInvalidMessage,
                "send_to_group_message needs data"},
        Refusal{"SendWithEmptyData", "0a050a01671a00", wps::kInvalidMessage,
                "send_to_group_message needs data"},
        Refusal{"EventWithoutData", "2a030a0165", wps::kInvalidMessage, "event_message needs data"},
        Refusal{"StreamStartWithData", "0a0e0a01671a030a01783a040a027331", wps::kInvalidMessage,
                "a stream start carries no data"},
        Refusal{"StreamStartWithoutId", "0a070a01673a021005", wps::kInvalidMessage,
                "stream_id must not be empty"},
        Refusal{"StreamStartZeroTimeout", "0a0a0a01673a050a01731000", wps::kInvalidMessage,
                "idle_timeout_ms must be positive"},
        Refusal{"StreamDataWithoutId", "6a0710011a030a0178", wps::kInvalidMessage,
                "stream_id must not be empty"},
        Refusal{"StreamDataSequenceZero", "6a0a0a017310001a030a0178", wps::kInvalidMessage,
                "stream_sequence_id must be positive"},
        Refusal{"StreamDataSequenceWithoutData", "6a050a01731001", wps::kInvalidMessage,
                "stream data needs data"},
        Refusal{"StreamDataDataWithoutSequence", "6a080a01731a030a0178", wps::kInvalidMessage,
                "stream data needs a stream_sequence_id"},
        Refusal{"StreamEndWithoutId", "7200", wps::kInvalidMessage, "stream_id must not be empty"},
        Refusal{"EventStream", "2a0d0a016512030a01782a030a0173", wps::kInvalidMessage,
                "event streaming is not supported over the protobuf subprotocol"},
        Refusal{"InvalidJsonData",
                "0a080a01671a032201"
                "7b",
                wps::kInvalidMessage,
                "malformed UpstreamMessage: send_to_group_message: data: json_data is not one "
                "valid JSON value at byte 7"},
        Refusal{"TextDataNotUtf8",
                "0a080a01671a030a01"
                "ff",
                wps::kInvalidMessage,
                "malformed UpstreamMessage: send_to_group_message: data: text_data is not valid "
                "UTF-8 at byte 7"},
        Refusal{"ProtobufDataNotAnAny", "0a090a01671a041a020801", wps::kInvalidMessage,
                "malformed UpstreamMessage: send_to_group_message: data: protobuf_data: type_url "
                "has the wrong wire type at byte 9"},
        Refusal{"SequenceIdNotAVarint", "42020a00", wps::kInvalidMessage,
                "malformed UpstreamMessage: sequence_ack_message: sequence_id has the wrong wire "
                "type at byte 2"}),
    [](const ::testing::TestParamInfo<Refusal>& p) { return std::string(p.param.name); });

TEST(ProtobufUpstream, NameValidationCanBeSwitchedOff) {
  DecodeOptions lax;
  lax.validate_names = false;
  EXPECT_TRUE(Decode("32030a0120", lax).ok());
}

TEST(ProtobufUpstream, EveryDecodedRequestReencodesToItself) {
  for (const char* hex :
       {"0a0d0a016710011a040a0268692001", "32050a01671005", "3a030a0167",
        "2a0a0a016512032201311803", "42020807", "4a00", "0a0f0a01671a0a1a080a01741203080101"}) {
    auto r = Decode(hex);
    ASSERT_TRUE(r.ok()) << hex;
    const SharedBytes again = protobuf::EncodeUpstreamMessage(*r);
    auto r2 = DecodeUpstreamMessage(again.span());
    ASSERT_TRUE(r2.ok()) << hex;
    EXPECT_EQ(*r2, *r) << hex;
  }
}

}  // namespace
}  // namespace wpsim::protocol::protobuf
