#include "protocol/webpubsub/service_messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/webpubsub/json_text.h"

namespace wpsim::protocol::webpubsub {
namespace {

TEST(EncodeAck, WritesSuccessErrorAndDuplicateAcks) {
  EXPECT_EQ(EncodeAck(1).view(), R"({"type":"ack","ackId":1,"success":true})");
  EXPECT_EQ(EncodeAckError(2, kAckErrorForbidden,
                           "The client does not have permission to send to group 'g'.")
                .view(),
            R"({"type":"ack","ackId":2,"success":false,"error":{"name":"Forbidden",)"
            R"("message":"The client does not have permission to send to group 'g'."}})");
  EXPECT_EQ(EncodeDuplicateAck(18446744073709551615u).view(),
            R"({"type":"ack","ackId":18446744073709551615,"success":false,"error":)"
            R"({"name":"Duplicate","message":"Message with ack-id: 18446744073709551615 has been processed"}})");
}

TEST(EncodeGroupMessage, RendersEachDataType) {
  EXPECT_EQ(EncodeGroupMessage("g", "u1", Payload::Text("hi")).view(),
            R"({"type":"message","from":"group","fromUserId":"u1","group":"g","dataType":"text","data":"hi"})");
  EXPECT_EQ(EncodeGroupMessage("g", std::nullopt, Payload::Json(R"({"a": 1})")).view(),
            R"({"type":"message","from":"group","fromUserId":null,"group":"g","dataType":"json","data":{"a": 1}})");
  const uint8_t bytes[] = {0xde, 0xad};
  EXPECT_EQ(EncodeGroupMessage("g", std::nullopt, Payload::Binary(bytes)).view(),
            R"({"type":"message","from":"group","fromUserId":null,"group":"g","dataType":"binary","data":"3q0="})");
  EXPECT_EQ(EncodeGroupMessage("g", std::nullopt, Payload::Protobuf(bytes)).view(),
            R"({"type":"message","from":"group","fromUserId":null,"group":"g","dataType":"protobuf","data":"3q0="})");
}

TEST(EncodeServerMessage, RendersTheServerForm) {
  EXPECT_EQ(EncodeServerMessage(Payload::Json("\"Hello\"")).view(),
            R"({"type":"message","from":"server","dataType":"json","data":"Hello"})");
}

TEST(EncodeSystemMessages, WriteConnectedDisconnectedAndPong) {
  EXPECT_EQ(EncodeConnected("c1", "u1", std::nullopt).view(),
            R"({"type":"system","event":"connected","userId":"u1","connectionId":"c1"})");
  EXPECT_EQ(EncodeConnected("c1", std::nullopt, "tok").view(),
            R"({"type":"system","event":"connected","userId":null,"connectionId":"c1","reconnectionToken":"tok"})");
  EXPECT_EQ(EncodeDisconnected("bye \"now\"").view(),
            R"({"type":"system","event":"disconnected","message":"bye \"now\""})");
  EXPECT_EQ(EncodePong().view(), R"({"type":"pong"})");
}

TEST(SequencedMessage, SharesOneTailAndPrefixesEachReceiversSequenceId) {
  const SequencedMessage m = EncodeSequencedGroupMessage("g", "u", Payload::Text("hi"));
  const std::string tail =
      R"("type":"message","from":"group","fromUserId":"u","group":"g","dataType":"text","data":"hi"})";
  EXPECT_EQ(m.tail().view(), tail);
  std::string buffer;
  for (uint64_t id : {uint64_t{1}, uint64_t{10}, UINT64_MAX}) {
    m.RenderInto(id, buffer);
    const std::string expected = "{\"sequenceId\":" + std::to_string(id) + "," + tail;
    EXPECT_EQ(buffer, expected);
    EXPECT_EQ(m.Render(id).view(), expected);
    EXPECT_EQ(m.RenderedSize(id), expected.size());
    EXPECT_TRUE(IsValidJson(buffer));
  }
  char head[kSequenceHeadBytesMax];
  EXPECT_EQ(SequencedMessage::WriteHead(UINT64_MAX, head), kSequenceHeadBytesMax);
  // Rendering never touches the shared tail.
  EXPECT_EQ(m.tail().use_count(), 1u);
}

TEST(SequencedMessage, ServerMessagesSplitTheSameWay) {
  const SequencedMessage m = EncodeSequencedServerMessage(Payload::Text("x"));
  EXPECT_EQ(m.Render(5).view(),
            R"({"sequenceId":5,"type":"message","from":"server","dataType":"text","data":"x"})");
}

template <typename T>
T MustDecode(std::string_view text) {
  auto r = DecodeServiceMessage(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  if (!r.ok() || !std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "wrong message kind for " << text;
    return T{};
  }
  return std::get<T>(*r);
}

TEST(DecodeServiceMessage, ReadsEveryEncodedMessageBack) {
  EXPECT_EQ(MustDecode<AckMessage>(EncodeAck(4).view()), (AckMessage{4, true, std::nullopt}));
  EXPECT_EQ(MustDecode<AckMessage>(EncodeDuplicateAck(4).view()),
            (AckMessage{4, false, AckError{"Duplicate", "Message with ack-id: 4 has been processed"}}));
  EXPECT_EQ(MustDecode<GroupDataMessage>(EncodeGroupMessage("g", "u", Payload::Text("t")).view()),
            (GroupDataMessage{"g", "u", Payload::Text("t"), std::nullopt}));
  const uint8_t bytes[] = {1, 2, 3};
  EXPECT_EQ(MustDecode<GroupDataMessage>(
                EncodeSequencedGroupMessage("g", std::nullopt, Payload::Binary(bytes)).Render(9).view()),
            (GroupDataMessage{"g", std::nullopt, Payload::Binary(bytes), 9}));
  EXPECT_EQ(MustDecode<ServerDataMessage>(EncodeServerMessage(Payload::Json("[1, 2]")).view()),
            (ServerDataMessage{Payload::Json("[1, 2]"), std::nullopt}));
  EXPECT_EQ(MustDecode<ConnectedMessage>(EncodeConnected("c", std::nullopt, "r").view()),
            (ConnectedMessage{"c", std::nullopt, "r"}));
  EXPECT_EQ(MustDecode<DisconnectedMessage>(EncodeDisconnected("m").view()),
            DisconnectedMessage{"m"});
  MustDecode<PongMessage>(EncodePong().view());
}

TEST(DecodeServiceMessage, ReturnsUnknownForWhatTheJsClientIgnores) {
  EXPECT_EQ(MustDecode<UnknownMessage>(R"({"type":"groupStateUpdate","group":"g"})"),
            (UnknownMessage{"groupStateUpdate", "unknown type"}));
  EXPECT_EQ(MustDecode<UnknownMessage>(R"({"type":"message","from":"nowhere","dataType":"text","data":"x"})")
                .reason,
            "unknown from");
  EXPECT_EQ(MustDecode<UnknownMessage>(R"({"type":"message","from":"server","dataType":"xml","data":"x"})")
                .reason,
            "unknown dataType");
  EXPECT_EQ(MustDecode<UnknownMessage>(R"({"type":"system","event":"joined"})").reason,
            "unknown system event");
  EXPECT_EQ(MustDecode<UnknownMessage>(R"({"noType":1})").type, "");
}

TEST(DecodeServiceMessage, RejectsBrokenKnownMessages) {
  for (const char* text : {"", "[]", "{", R"({"type":"ack","success":true})",
                           R"({"type":"ack","ackId":1})",
                           R"({"type":"message","from":"group","dataType":"text","data":"x"})",
                           R"({"type":"message","from":"server","dataType":"text","data":1})",
                           R"({"type":"message","from":"server","dataType":"binary","data":"!"})",
                           R"({"type":"message","from":"server","dataType":"json"})",
                           R"({"type":"message","from":"server","sequenceId":-1,"dataType":"json","data":1})",
                           R"({"type":"system","event":"connected"})"}) {
    EXPECT_FALSE(DecodeServiceMessage(text).ok()) << text;
  }
}

TEST(GroupStreamMessages, CarryStreamInfoAndRoundTrip) {
  const StreamInfo info{"s1", 2, false, std::nullopt};
  EXPECT_EQ(EncodeGroupStreamMessage("g", "u", Payload::Text("a"), info).view(),
            R"({"type":"message","from":"group","fromUserId":"u","group":"g","dataType":"text",)"
            R"("data":"a","stream":{"streamId":"s1","streamSequenceId":2}})");
  const StreamInfo end{"s1", 3, true, StreamDataError{"UserError", "m", "E1"}};
  const SharedBytes bare = EncodeGroupStreamMessage("g", std::nullopt, std::nullopt, end);
  EXPECT_EQ(bare.view(),
            R"({"type":"message","from":"group","fromUserId":null,"group":"g","dataType":"json",)"
            R"("stream":{"streamId":"s1","streamSequenceId":3,"endOfStream":true,)"
            R"("error":{"name":"UserError","message":"m","userErrorCode":"E1"}}})");
  auto decoded = MustDecode<GroupDataMessage>(bare.view());
  EXPECT_EQ(decoded.stream, end);
  EXPECT_TRUE(decoded.payload.data.empty());
  auto sequenced = MustDecode<GroupDataMessage>(
      EncodeSequencedGroupStreamMessage("g", "u", Payload::Text("a"), info).Render(12).view());
  EXPECT_EQ(sequenced, (GroupDataMessage{"g", "u", Payload::Text("a"), 12, info}));
}

TEST(StreamControlMessages, EncodeAndDecode) {
  EXPECT_EQ(EncodeStreamAck("s", 1).view(),
            R"({"type":"streamAck","streamId":"s","expectedSequenceId":1})");
  EXPECT_EQ(EncodeStreamNack("s", kStreamNackInvalidSequenceId, "gap", 4).view(),
            R"({"type":"streamNack","streamId":"s","name":"InvalidSequenceId","message":"gap","expectedSequenceId":4})");
  EXPECT_EQ(EncodeStreamClosed("s", AckError{"IdleTimeout", "idle"}).view(),
            R"({"type":"streamClosed","streamId":"s","error":{"name":"IdleTimeout","message":"idle"}})");
  EXPECT_EQ(MustDecode<StreamAckMessage>(EncodeStreamAck("s", 1).view()),
            (StreamAckMessage{"s", 1}));
  EXPECT_EQ(MustDecode<StreamNackMessage>(EncodeStreamNack("s", "TransientError", "m", 2).view()),
            (StreamNackMessage{"s", "TransientError", "m", 2}));
  EXPECT_EQ(MustDecode<StreamClosedMessage>(EncodeStreamClosed("s", std::nullopt).view()),
            (StreamClosedMessage{"s", std::nullopt}));
  EXPECT_FALSE(DecodeServiceMessage(R"({"type":"streamAck","streamId":"s"})").ok());
}

TEST(InvokeResponse, EncodesSuccessWithAndWithoutDataAndErrors) {
  EXPECT_EQ(
      EncodeInvokeResponse("1", Payload::Json(R"({"sum":3})")).view(),
      R"({"type":"invokeResponse","invocationId":"1","success":true,"dataType":"json","data":{"sum":3}})");
  EXPECT_EQ(EncodeInvokeResponse("2", std::nullopt).view(),
            R"({"type":"invokeResponse","invocationId":"2","success":true})");
  EXPECT_EQ(
      EncodeInvokeError("3", "BadRequest", "no").view(),
      R"({"type":"invokeResponse","invocationId":"3","success":false,"error":{"name":"BadRequest","message":"no"}})");
}

TEST(InvokeResponse, DecodesAsTheSdkReadsIt) {
  auto ok = DecodeServiceMessage(EncodeInvokeResponse("1", Payload::Text("t")).view());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<InvokeResponseMessage>(*ok),
            (InvokeResponseMessage{"1", true, Payload::Text("t"), std::nullopt}));
  auto failed = DecodeServiceMessage(EncodeInvokeError("2", "Timeout", "late").view());
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(std::get<InvokeResponseMessage>(*failed),
            (InvokeResponseMessage{"2", false, std::nullopt, AckError{"Timeout", "late"}}));
  EXPECT_FALSE(DecodeServiceMessage(R"({"type":"invokeResponse","success":true})").ok());
  EXPECT_FALSE(DecodeServiceMessage(R"({"type":"invokeResponse","invocationId":"1"})").ok());
}

}  // namespace
}  // namespace wpsim::protocol::webpubsub
