#include "protocol/webpubsub/client_requests.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wpsim::protocol::webpubsub {
namespace {

template <typename T>
T MustDecode(std::string_view text) {
  auto r = DecodeRequest(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  if (!r.ok() || !std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "wrong request kind for " << text;
    return T{};
  }
  return std::get<T>(*r);
}

TEST(DecodeRequest, ReadsJoinAndLeaveGroup) {
  auto join = MustDecode<JoinGroupRequest>(R"({"type":"joinGroup","group":"g1","ackId":1})");
  EXPECT_EQ(join, (JoinGroupRequest{"g1", 1}));
  auto leave = MustDecode<LeaveGroupRequest>(R"({"type":"leaveGroup","group":"g 2"})");
  EXPECT_EQ(leave, (LeaveGroupRequest{"g 2", std::nullopt}));
}

TEST(DecodeRequest, ReadsTheDocumentedSendToGroupSample) {
  auto r = MustDecode<SendToGroupRequest>(
      R"({"type":"sendToGroup","group":"g1","ackId":7,"noEcho":false,"dataType":"text","data":"hi"})");
  EXPECT_EQ(r.group, "g1");
  EXPECT_EQ(r.ack_id, 7u);
  EXPECT_FALSE(r.no_echo);
  EXPECT_EQ(r.payload.type, DataType::kText);
  EXPECT_EQ(r.payload.data.view(), "hi");
}

TEST(DecodeRequest, KeepsJsonDataAsItsExactSourceText) {
  auto r = MustDecode<SendToGroupRequest>(
      R"({"type":"sendToGroup","group":"g","data": {"b" : [1, 2.50, "\u00e9"], "a":null} ,"noEcho":true})");
  EXPECT_EQ(r.payload.type, DataType::kJson);  // the default dataType
  EXPECT_EQ(r.payload.data.view(), R"({"b" : [1, 2.50, "\u00e9"], "a":null})");
  EXPECT_TRUE(r.no_echo);
  auto s = MustDecode<SendToGroupRequest>(R"({"type":"sendToGroup","group":"g","data":"Hello"})");
  EXPECT_EQ(s.payload.data.view(), "\"Hello\"");  // a JSON string stays a JSON string
}

TEST(DecodeRequest, DecodesTextEscapesAndBinaryBase64) {
  auto text = MustDecode<EventRequest>(
      R"({"type":"event","event":"chat","dataType":"text","data":"a\nb\u00e9"})");
  EXPECT_EQ(text.payload.data.view(), "a\nb\xc3\xa9");
  auto bin = MustDecode<EventRequest>(
      R"({"type":"event","event":"chat","ackId":3,"dataType":"binary","data":"AAH/"})");
  EXPECT_EQ(bin.payload.type, DataType::kBinary);
  EXPECT_EQ(bin.payload.data.view(), std::string("\x00\x01\xff", 3));
  auto escaped = MustDecode<EventRequest>(
      R"({"type":"event","event":"e","dataType":"binary","data":"\/w=="})");
  EXPECT_EQ(escaped.payload.data.view(), "\xff");
  auto proto = MustDecode<SendToGroupRequest>(
      R"({"type":"sendToGroup","group":"g","dataType":"protobuf","data":"CgA="})");
  EXPECT_EQ(proto.payload.type, DataType::kProtobuf);
  EXPECT_EQ(proto.payload.data.view(), std::string("\x0a\x00", 2));
}

TEST(DecodeRequest, ReadsSequenceAckAndPing) {
  EXPECT_EQ(MustDecode<SequenceAckRequest>(
                R"({"type":"sequenceAck","sequenceId":18446744073709551615})"),
            SequenceAckRequest{UINT64_MAX});
  MustDecode<PingRequest>(R"({"type":"ping"})");
}

TEST(DecodeRequest, MatchesTypeAndDataTypeCaseInsensitivelyButMemberNamesExactly) {
  auto r = MustDecode<SendToGroupRequest>(
      R"({"type":"SENDTOGROUP","group":"g","dataType":"Text","data":"x"})");
  EXPECT_EQ(r.payload.type, DataType::kText);
  MustDecode<PingRequest>(R"({"type":"Ping"})");
  auto bad = DecodeRequest(R"({"Type":"ping"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, kInvalidMessage);
}

TEST(DecodeRequest, IgnoresUnknownMembersAndTreatsNullOptionalsAsAbsent) {
  auto r = MustDecode<SendToGroupRequest>(
      R"({"future":{"x":[1]},"type":"sendToGroup","group":"g","ackId":null,"noEcho":null,)"
      R"("dataType":null,"data":1})");
  EXPECT_EQ(r.ack_id, std::nullopt);
  EXPECT_EQ(r.payload.type, DataType::kJson);
  EXPECT_EQ(r.payload.data.view(), "1");
}

TEST(DecodeRequest, LastDuplicateMemberWins) {
  auto r = MustDecode<JoinGroupRequest>(R"({"type":"joinGroup","group":"a","group":"b"})");
  EXPECT_EQ(r.group, "b");
}

TEST(DecodeRequest, RejectsMalformedRequestsWithClose1007) {
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      R"("ping")",
      R"({"type":"ping"} x)",
      R"({"type":1})",
      R"({"group":"g"})",
      R"({"type":"joinGroup"})",
      R"({"type":"joinGroup","group":1})",
      R"({"type":"joinGroup","group":""})",
      R"({"type":"joinGroup","group":"   "})",
      R"({"type":"joinGroup","group":"g","ackId":-1})",
      R"({"type":"joinGroup","group":"g","ackId":1.5})",
      R"({"type":"joinGroup","group":"g","ackId":"1"})",
      R"({"type":"joinGroup","group":"g","ackId":18446744073709551616})",
      R"({"type":"sendToGroup","group":"g"})",
      R"({"type":"sendToGroup","group":"g","data":null})",
      R"({"type":"sendToGroup","group":"g","noEcho":"yes","data":1})",
      R"({"type":"sendToGroup","group":"g","dataType":"xml","data":1})",
      R"({"type":"sendToGroup","group":"g","dataType":1,"data":1})",
      R"({"type":"sendToGroup","group":"g","dataType":"text","data":1})",
      R"({"type":"sendToGroup","group":"g","dataType":"binary","data":"not base64!"})",
      R"({"type":"sendToGroup","group":"g","dataType":"binary","data":"AAE"})",
      R"({"type":"sendToGroup","group":"g","dataType":"binary","data":[1]})",
      R"({"type":"event","data":1})",
      R"({"type":"event","event":"bad name","data":1})",
      R"({"type":"event","event":"1x","data":1})",
      R"({"type":"event","event":"e"})",
      R"({"type":"sequenceAck"})",
      R"({"type":"sequenceAck","sequenceId":"5"})",
      R"({"type":"sequenceAck","sequenceId":-5})",
      std::string("{\"type\":\"joinGroup\",\"group\":\"\xff\"}"),
  };
  for (const std::string& text : bad) {
    auto r = DecodeRequest(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, kInvalidMessage) << text;
    EXPECT_EQ(CloseCodeFor(r.error()), 1007) << text;
  }
  EXPECT_EQ(kInvalidMessageCloseReason, "The client message is not a valid JSON protocol message.");
}

TEST(DecodeRequest, ReportsUnknownTypesSeparatelyStillAs1007) {
  for (const char* text : {R"({"type":"invoke","invocationId":"1"})", R"({"type":"streamData"})",
                           R"({"type":"ack"})"}) {
    auto r = DecodeRequest(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, kUnknownType) << text;
    EXPECT_EQ(CloseCodeFor(r.error()), 1007);
  }
}

TEST(DecodeRequest, NameValidationCanBeSwitchedOff) {
  DecodeOptions o;
  o.validate_names = false;
  auto r = DecodeRequest(R"({"type":"event","event":"bad name","data":1})", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<EventRequest>(*r).event, "bad name");
}

TEST(DecodeRequestFrame, AcceptsUtf8JsonInBinaryFramesByDefault) {
  const std::string text = R"({"type":"ping"})";
  const auto bytes = AsBytes(text);
  EXPECT_TRUE(DecodeRequestFrame(FrameType::kText, bytes).ok());
  EXPECT_TRUE(DecodeRequestFrame(FrameType::kBinary, bytes).ok());
  const std::string not_utf8 = "{\"type\":\"ping\",\"x\":\"\xc3\"}";
  auto bad = DecodeRequestFrame(FrameType::kBinary, AsBytes(not_utf8));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(CloseCodeFor(bad.error()), 1007);
}

TEST(DecodeRequestFrame, EmulatorPolicyRejectsBinaryFramesWith1003) {
  DecodeOptions o;
  o.binary_frames = BinaryFramePolicy::kReject;
  const std::string text = R"({"type":"ping"})";
  auto r = DecodeRequestFrame(FrameType::kBinary, AsBytes(text), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kBinaryFrame);
  EXPECT_EQ(CloseCodeFor(r.error()), 1003);
  EXPECT_TRUE(DecodeRequestFrame(FrameType::kText, AsBytes(text), o).ok());
}

TEST(EncodeRequest, WritesWhatTheJsClientSends) {
  EXPECT_EQ(EncodeJoinGroupRequest("g1", 1).view(), R"({"type":"joinGroup","group":"g1","ackId":1})");
  EXPECT_EQ(EncodeLeaveGroupRequest("g1", std::nullopt).view(),
            R"({"type":"leaveGroup","group":"g1"})");
  EXPECT_EQ(EncodeSendToGroupRequest("g", Payload::Text("hi"), 2, false).view(),
            R"({"type":"sendToGroup","group":"g","ackId":2,"noEcho":false,"dataType":"text","data":"hi"})");
  EXPECT_EQ(EncodeEventRequest("e", Payload::Json(R"({"a":1})"), std::nullopt).view(),
            R"({"type":"event","event":"e","dataType":"json","data":{"a":1}})");
  const uint8_t bytes[] = {0, 1, 255};
  EXPECT_EQ(EncodeEventRequest("e", Payload::Binary(bytes), 9).view(),
            R"({"type":"event","event":"e","ackId":9,"dataType":"binary","data":"AAH/"})");
  EXPECT_EQ(EncodeSequenceAckRequest(42).view(), R"({"type":"sequenceAck","sequenceId":42})");
  EXPECT_EQ(EncodePingRequest().view(), R"({"type":"ping"})");
}

TEST(EncodeRequest, RoundTripsEveryRequestKindThroughDecode) {
  const uint8_t bytes[] = {0, 1, 2, 3, 250};
  const std::vector<Request> requests = {
      JoinGroupRequest{"g\"1", 0},
      LeaveGroupRequest{"g\xc3\xa9", std::nullopt},
      SendToGroupRequest{"g", UINT64_MAX, true, Payload::Json(R"([1,"x",{"y":null}])")},
      SendToGroupRequest{"g", std::nullopt, false, Payload::Text("line\nbreak \"q\"")},
      SendToGroupRequest{"g", 5, false, Payload::Protobuf(bytes)},
      EventRequest{"evt.name-1", 3, Payload::Binary(bytes)},
      EventRequest{"e", std::nullopt, Payload::Text("")},
      SequenceAckRequest{77},
      PingRequest{},
  };
  for (const Request& request : requests) {
    const SharedBytes encoded = EncodeRequest(request);
    auto decoded = DecodeRequest(encoded.view());
    ASSERT_TRUE(decoded.ok()) << encoded.view();
    EXPECT_TRUE(*decoded == request) << encoded.view();
  }
}

DecodeOptions Streaming() {
  DecodeOptions o;
  o.enable_streaming = true;
  return o;
}

TEST(DecodeStreamRequests, AreUnknownOrInvalidUnlessStreamingIsEnabled) {
  auto start = DecodeRequest(R"({"type":"sendToGroup","group":"g","stream":{"streamId":"s1"}})");
  ASSERT_FALSE(start.ok());
  EXPECT_EQ(start.error().code, kInvalidMessage);  // no data
  auto data = DecodeRequest(R"({"type":"streamData","streamId":"s1"})");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, kUnknownType);
}

TEST(DecodeStreamRequests, ReadStartDataKeepaliveAndEnd) {
  auto start = DecodeRequest(
      R"({"type":"sendToGroup","group":"g","noEcho":true,"stream":{"streamId":"s1","idleTimeoutMs":5000}})",
      Streaming());
  ASSERT_TRUE(start.ok()) << start.error().message;
  EXPECT_EQ(std::get<StreamStartRequest>(*start),
            (StreamStartRequest{"g", "s1", 5000, std::nullopt, true}));
  auto default_timeout = DecodeRequest(
      R"({"type":"sendToGroup","group":"g","stream":{"streamId":"s1"}})", Streaming());
  ASSERT_TRUE(default_timeout.ok());
  EXPECT_EQ(std::get<StreamStartRequest>(*default_timeout).idle_timeout_ms,
            kStreamIdleTimeoutMsDefault);

  auto data = DecodeRequest(
      R"({"type":"streamData","streamId":"s1","streamSequenceId":1,"dataType":"text","data":"a"})",
      Streaming());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(std::get<StreamDataRequest>(*data),
            (StreamDataRequest{"s1", 1, Payload::Text("a")}));
  auto keepalive = DecodeRequest(R"({"type":"streamData","streamId":"s1"})", Streaming());
  ASSERT_TRUE(keepalive.ok());
  EXPECT_TRUE(std::get<StreamDataRequest>(*keepalive).IsKeepalive());

  auto end = DecodeRequest(
      R"({"type":"streamEnd","streamId":"s1","error":{"message":"m","userErrorCode":"E1"}})",
      Streaming());
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(std::get<StreamEndRequest>(*end),
            (StreamEndRequest{"s1", StreamEndError{"m", "E1"}}));
  auto plain_end = DecodeRequest(R"({"type":"streamEnd","streamId":"s1"})", Streaming());
  ASSERT_TRUE(plain_end.ok());
  EXPECT_EQ(std::get<StreamEndRequest>(*plain_end).error, std::nullopt);
}

TEST(DecodeStreamRequests, RejectMalformedStreamFrames) {
  for (const char* text : {
           R"({"type":"sendToGroup","group":"g","stream":{"streamId":"s"},"data":1})",
           R"({"type":"sendToGroup","group":"g","stream":{"streamId":""}})",
           R"({"type":"sendToGroup","group":"g","stream":{"streamId":"s","idleTimeoutMs":0}})",
           R"({"type":"sendToGroup","group":"g","stream":"s"})",
           R"({"type":"streamData"})",
           R"({"type":"streamData","streamId":"s","streamSequenceId":0,"dataType":"text","data":"a"})",
           R"({"type":"streamData","streamId":"s","streamSequenceId":1})",
           R"({"type":"streamData","streamId":"s","data":"a"})",
           R"({"type":"streamEnd","streamId":"s","error":"x"})",
           R"({"type":"streamEnd","streamId":"s","error":{"message":1}})",
       }) {
    auto r = DecodeRequest(text, Streaming());
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, kInvalidMessage) << text;
  }
}

TEST(EncodeStreamRequests, RoundTripThroughDecode) {
  const std::vector<Request> requests = {
      StreamStartRequest{"g", "s\"1", 1, std::nullopt, false},
      StreamStartRequest{"g", "s", kStreamIdleTimeoutMsDefault, 4, true},
      StreamDataRequest{"s", 3, Payload::Json("{}")},
      StreamDataRequest{"s", std::nullopt, std::nullopt},
      StreamEndRequest{"s", std::nullopt},
      StreamEndRequest{"s", StreamEndError{std::nullopt, "code"}},
      StreamEndRequest{"s", StreamEndError{"m", std::nullopt}},
  };
  for (const Request& request : requests) {
    const SharedBytes encoded = EncodeRequest(request);
    auto decoded = DecodeRequest(encoded.view(), Streaming());
    ASSERT_TRUE(decoded.ok()) << encoded.view();
    EXPECT_TRUE(*decoded == request) << encoded.view();
  }
  EXPECT_EQ(EncodeStreamDataRequest(StreamDataRequest{"s", 2, Payload::Text("x")}).view(),
            R"({"type":"streamData","streamId":"s","streamSequenceId":2,"dataType":"text","data":"x"})");
}

DecodeOptions Invocations() {
  DecodeOptions o;
  o.enable_invocations = true;
  return o;
}

TEST(DecodeInvocationRequests, ReadInvokeAndCancelInvocationLikeTheSdkWritesThem) {
  auto plain = DecodeRequest(
      R"({"type":"invoke","invocationId":"1","target":"event","event":"calc","dataType":"json","data":{"a":1}})",
      Invocations());
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(std::get<InvokeRequest>(*plain),
            (InvokeRequest{"1", "event", "calc", Payload::Json(R"({"a":1})")}));
  auto no_data = DecodeRequest(
      R"({"type":"invoke","invocationId":"2","target":"event","event":"calc"})", Invocations());
  ASSERT_TRUE(no_data.ok());
  EXPECT_EQ(std::get<InvokeRequest>(*no_data).payload, std::nullopt);
  // data without dataType is json, as for `event`.
  auto json = DecodeRequest(
      R"({"type":"invoke","invocationId":"3","target":"event","event":"calc","data":"s"})",
      Invocations());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(std::get<InvokeRequest>(*json).payload, Payload::Json(R"("s")"));
  // Another target decodes (the service answers it) and needs no event.
  auto other =
      DecodeRequest(R"({"type":"invoke","invocationId":"4","target":"group"})", Invocations());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(std::get<InvokeRequest>(*other).target, "group");
  auto cancel = DecodeRequest(R"({"type":"cancelInvocation","invocationId":"1"})", Invocations());
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(std::get<CancelInvocationRequest>(*cancel), (CancelInvocationRequest{"1"}));
}

TEST(DecodeInvocationRequests, RefuseMalformedOnesAndAreUnknownUnlessEnabled) {
  auto off = DecodeRequest(R"({"type":"cancelInvocation","invocationId":"1"})");
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().code, kUnknownType);
  const std::string long_id(kInvocationIdMaxBytes + 1, 'x');
  const std::string bad[] = {
      R"({"type":"invoke","target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":"","target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":7,"target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":")" + long_id + R"(","target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":"1","event":"e"})",
      R"({"type":"invoke","invocationId":"1","target":"event"})",
      R"({"type":"invoke","invocationId":"1","target":"event","event":"no spaces"})",
      R"({"type":"invoke","invocationId":"1","target":"event","event":"e","dataType":"text"})",
      R"({"type":"invoke","invocationId":"1","target":"event","event":"e","dataType":"binary","data":"!"})",
      R"({"type":"cancelInvocation","invocationId":null})",
  };
  for (const std::string& text : bad) {
    auto r = DecodeRequest(text, Invocations());
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, kInvalidMessage) << text;
  }
  // The client never answers invocations: invokeResponse stays unknown.
  auto response = DecodeRequest(R"({"type":"invokeResponse","invocationId":"1","success":true})",
                                Invocations());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, kUnknownType);
}

TEST(EncodeInvocationRequests, RoundTripAndMatchTheSdkShape) {
  EXPECT_EQ(
      EncodeInvokeRequest(InvokeRequest{"1", "event", "calc", Payload::Text("x")}).view(),
      R"({"type":"invoke","invocationId":"1","target":"event","event":"calc","dataType":"text","data":"x"})");
  EXPECT_EQ(EncodeCancelInvocationRequest("9").view(),
            R"({"type":"cancelInvocation","invocationId":"9"})");
  const Request requests[] = {
      InvokeRequest{"a", "event", "e", std::nullopt},
      InvokeRequest{"b", "event", "e", Payload::Binary(std::vector<uint8_t>{1, 2})},
      CancelInvocationRequest{"c"},
  };
  for (const Request& request : requests) {
    const SharedBytes encoded = EncodeRequest(request);
    auto decoded = DecodeRequest(encoded.view(), Invocations());
    ASSERT_TRUE(decoded.ok()) << encoded.view();
    EXPECT_TRUE(*decoded == request) << encoded.view();
  }
}

}  // namespace

// ---- Message metadata and TTL (PROTOCOL.md §9.4; docs/conformance.md META-*) ----

TEST(DecodeMetadataAndTtl, SendToGroupCarriesMetadataOnThePayloadAndTtlSeconds) {
  auto r = MustDecode<SendToGroupRequest>(
      R"({"type":"sendToGroup","group":"g","data":"x","dataType":"text",)"
      R"("metadata":{"Trace":"1","b":"two"},"ttlSeconds":300})");
  Payload want = Payload::Text("x");
  want.metadata = {{"Trace", "1"}, {"b", "two"}};
  EXPECT_EQ(r.payload, want);
  EXPECT_EQ(r.ttl_seconds, std::optional<uint32_t>(300));
  auto e =
      MustDecode<EventRequest>(R"({"type":"event","event":"e","data":1,"metadata":{"k":"v"}})");
  EXPECT_EQ(e.payload.metadata, (Metadata{{"k", "v"}}));
}

TEST(DecodeMetadataAndTtl, NullMeansAbsentAndMetadataWithoutDataIsEmptyText) {
  auto r = MustDecode<SendToGroupRequest>(
      R"({"type":"sendToGroup","group":"g","data":1,"metadata":null,"ttlSeconds":null})");
  EXPECT_TRUE(r.payload.metadata.empty());
  EXPECT_EQ(r.ttl_seconds, std::nullopt);
  auto m =
      MustDecode<SendToGroupRequest>(R"({"type":"sendToGroup","group":"g","metadata":{"k":"v"}})");
  Payload want = Payload::Text("");
  want.metadata = {{"k", "v"}};
  EXPECT_EQ(m.payload, want);
  // Without metadata the data is still required; an empty metadata object does not replace it.
  EXPECT_FALSE(DecodeRequest(R"({"type":"sendToGroup","group":"g","metadata":{}})").ok());
}

TEST(DecodeMetadataAndTtl, RefusesEachViolationAsAnInvalidMessage) {
  const std::string k257(257, 'k'), v1025(1025, 'v');
  const char* bad[] = {
      R"({"type":"sendToGroup","group":"g","data":1,"ttlSeconds":301})",
      R"({"type":"sendToGroup","group":"g","data":1,"ttlSeconds":-1})",
      R"({"type":"sendToGroup","group":"g","data":1,"ttlSeconds":1.5})",
      R"({"type":"sendToGroup","group":"g","data":1,"ttlSeconds":"5"})",
      R"({"type":"sendToGroup","group":"g","data":1,"metadata":[]})",
      R"({"type":"sendToGroup","group":"g","data":1,"metadata":{"k":1}})",
      R"({"type":"sendToGroup","group":"g","data":1,"metadata":{"k":"a","k":"b"}})",
      R"({"type":"sendToGroup","group":"g","data":1,"metadata":{"a b":"v"}})",
      R"({"type":"event","event":"e","data":1,"metadata":{"k":"\u00e9"}})",
      R"({"type":"event","event":"e","data":1,"metadata":{"k":"a\nb"}})",
  };
  for (const char* text : bad) {
    auto r = DecodeRequest(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, kInvalidMessage) << text;
  }
  const std::string long_key =
      R"({"type":"event","event":"e","data":1,"metadata":{")" + k257 + R"(":""}})";
  EXPECT_FALSE(DecodeRequest(long_key).ok());
  const std::string ok_key =
      R"({"type":"event","event":"e","data":1,"metadata":{")" + std::string(256, 'k') + R"(":""}})";
  EXPECT_TRUE(DecodeRequest(ok_key).ok());
  const std::string long_value =
      R"({"type":"event","event":"e","data":1,"metadata":{"k":")" + v1025 + R"("}})";
  EXPECT_FALSE(DecodeRequest(long_value).ok());
  EXPECT_TRUE(DecodeRequest(R"({"type":"sendToGroup","group":"g","data":1,"ttlSeconds":0})").ok());
  // Key case differs: two keys (the JSON object is case-sensitive, as in the emulator).
  EXPECT_TRUE(
      DecodeRequest(R"({"type":"sendToGroup","group":"g","data":1,"metadata":{"k":"a","K":"b"}})")
          .ok());
}

TEST(EncodeMetadataAndTtl, RoundTripsThroughDecode) {
  Payload p = Payload::Json("{\"a\":1}");
  p.metadata = {{"x", "1"}, {"Y", ""}};
  const Request send = SendToGroupRequest{"g", 4, true, p, 17};
  auto back = DecodeRequest(EncodeRequest(send).view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<SendToGroupRequest>(*back), std::get<SendToGroupRequest>(send));
  EXPECT_EQ(
      EncodeSendToGroupRequest("g", Payload::Text("t"), std::nullopt, false, 0).view(),
      R"({"type":"sendToGroup","group":"g","noEcho":false,"dataType":"text","data":"t","ttlSeconds":0})");
}

}  // namespace wpsim::protocol::webpubsub
