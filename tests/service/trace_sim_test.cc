// The live trace seam (service/trace.h): the JSON a trace page receives for each event kind, and
// the service reporting connections, refusals, frames, groups, REST and event-handler calls to
// a TraceFeed in simulation, with a page's feed as a simulated WebSocket client (replay of open
// connections and the ring, the token, a slow page dropped, bounded ring).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/websocket/handshake.h"
#include "protocol/websocket/stream_connection.h"
#include "service/trace.h"
#include "tests/service/sim_fixture.h"

namespace wpsim::service {
namespace {

using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using Json = nlohmann::json;
namespace ws = protocol::websocket;

Json Encode(const TraceEvent& e) { return Json::parse(EncodeTraceEvent(e, 7, 1'500'000)); }

TEST(TraceEventEncoding, JsonFrameIsDecodedWithTypeSummaryAndGroup) {
  const std::string text = R"({"type":"sendToGroup","group":"room","data":"hi","ackId":2})";
  TraceEvent e;
  e.kind = TraceKind::kFrameIn;
  e.front = 3;
  e.hub = "chat";
  e.connection_id = "c1";
  e.user_id = "alice";
  e.subprotocol = "json.webpubsub.azure.v1";
  e.payload = AsBytes(text);
  const Json j = Encode(e);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_DOUBLE_EQ(j["at_ms"].get<double>(), 1.5);
  EXPECT_EQ(j["kind"], "frame.in");
  EXPECT_EQ(j["hub"], "chat");
  EXPECT_EQ(j["connection"], "c1");
  EXPECT_EQ(j["user"], "alice");
  EXPECT_EQ(j["group"], "room");
  EXPECT_EQ(j["summary"], "sendToGroup");
  EXPECT_EQ(j["json"]["data"], "hi");
  EXPECT_EQ(j["bytes"], text.size());
  EXPECT_FALSE(j.contains("text"));
}

TEST(TraceEventEncoding, MqttPublishIsSummarisedWithQosPacketIdAndTopic) {
  // PUBLISH qos 1, retain, topic "a/b", packet id 5, payload "x" (MQTT 3.1.1 layout).
  const std::vector<uint8_t> packet = {0x33, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x05, 'x'};
  TraceEvent e;
  e.kind = TraceKind::kFrameOut;
  e.subprotocol = "mqtt";
  e.payload = packet;
  e.binary = true;
  const Json j = Encode(e);
  EXPECT_EQ(j["summary"], "PUBLISH qos=1 retain id=5 topic=a/b");
  EXPECT_EQ(j["base64"], Base64Encode(packet));
}

TEST(TraceEventEncoding, BinaryAndInvalidUtf8PayloadsAreBase64AndLongOnesAreCut) {
  std::string big(kTracePayloadBytesMax + 10, 'a');
  TraceEvent e;
  e.kind = TraceKind::kFrameIn;
  e.payload = AsBytes(big);
  Json j = Encode(e);
  EXPECT_EQ(j["text"].get<std::string>().size(), kTracePayloadBytesMax);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["bytes"], big.size());
  const std::vector<uint8_t> bad = {'o', 'k', 0xC3};  // cut inside a two-byte sequence
  e.payload = bad;
  j = Encode(e);
  EXPECT_FALSE(j.contains("text"));
  EXPECT_EQ(j["base64"], Base64Encode(bad));
}

TEST(TraceEventEncoding, RequestTargetsHideAccessTokensAndNameHubAndGroup) {
  TraceEvent e;
  e.kind = TraceKind::kHttpRequest;
  e.method = "GET";
  e.target = "/client/hubs/chat?access_token=eyJsecret&x=1";
  Json j = Encode(e);
  EXPECT_EQ(j["target"], "/client/hubs/chat?access_token=<redacted>&x=1");
  EXPECT_EQ(j["hub"], "chat");
  e.method = "PUT";
  e.target = "/api/hubs/h1/groups/g%201/connections/c?api-version=2024-01-01";
  j = Encode(e);
  EXPECT_EQ(j["hub"], "h1");
  EXPECT_EQ(j["group"], "g 1");
  e.target = "/client/?hub=legacy&access_token=t";
  j = Encode(e);
  EXPECT_EQ(j["hub"], "legacy");
  EXPECT_EQ(j["target"], "/client/?hub=legacy&access_token=<redacted>");
}

TEST(TraceEventEncoding, EveryKindHasItsName) {
  for (TraceKind kind : {TraceKind::kHttpRequest, TraceKind::kHttpResponse, TraceKind::kRefused,
                         TraceKind::kConnected, TraceKind::kClosed, TraceKind::kFrameIn,
                         TraceKind::kFrameOut, TraceKind::kGroupJoin, TraceKind::kGroupLeave,
                         TraceKind::kUpstreamRequest, TraceKind::kUpstreamResponse}) {
    EXPECT_NE(TraceKindName(kind), "unknown");
  }
}

TEST(TraceEventEncoding, ServerFramePayloadStripsTheHeader) {
  std::vector<uint8_t> frame = {0x81, 126, 0x00, 200};
  frame.resize(4 + 200, 'z');
  bool binary = true;
  std::span<const uint8_t> payload = ServerFramePayload(frame, &binary);
  EXPECT_FALSE(binary);
  EXPECT_EQ(payload.size(), 200u);
  const std::vector<uint8_t> ping = {0x89, 0x00};
  EXPECT_TRUE(ServerFramePayload(ping, &binary).empty());
}

// Every event the service reports, as the page would receive it.
class Recorder : public TraceObserver {
 public:
  void OnTrace(const TraceEvent& event) override {
    events.push_back(Json::parse(EncodeTraceEvent(event, events.size() + 1, 0)));
  }
  std::vector<Json> Of(std::string_view kind) const {
    std::vector<Json> out;
    for (const Json& j : events) {
      if (j["kind"] == kind) out.push_back(j);
    }
    return out;
  }
  std::vector<Json> events;
};

class TraceSim : public testing::ServiceSimTest {
 protected:
  void TearDown() override {
    if (service_) service_->set_tracer(nullptr);
  }
  void Trace(TraceObserver* tracer) {
    StartService();
    service_->set_tracer(tracer);
  }
};

TEST_F(TraceSim, ReportsConnectionFramesGroupsAndClose) {
  Recorder rec;
  Trace(&rec);
  WsClient& c = Client("c", WsClientKind::kJson,
                       Token("alice", {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}));
  c.Connect();
  Run();
  ASSERT_TRUE(c.JoinGroup("room", 1).ok());
  ASSERT_TRUE(c.SendToGroup("room", protocol::webpubsub::Payload::Text("hello"), 2, false).ok());
  Run();
  c.Close();
  Run();
  const auto connected = rec.Of("connected");
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]["hub"], "hub");
  EXPECT_EQ(connected[0]["user"], "alice");
  EXPECT_EQ(connected[0]["subprotocol"], "json.webpubsub.azure.v1");
  const std::string id = connected[0]["connection"];
  const auto joins = rec.Of("group.join");
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0]["group"], "room");
  EXPECT_EQ(joins[0]["connection"], id);
  bool saw_send = false;
  for (const Json& f : rec.Of("frame.in")) {
    if (f["json"]["type"] == "sendToGroup")
      saw_send = f["json"]["data"] == "hello" && f["group"] == "room";
  }
  EXPECT_TRUE(saw_send);
  // Out: the connected message, two acks and the group message echoed back.
  std::vector<std::string> out;
  for (const Json& f : rec.Of("frame.out")) out.push_back(f["summary"]);
  EXPECT_EQ(out, (std::vector<std::string>{"system connected", "ack", "message", "ack"}));
  const auto closed = rec.Of("closed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]["connection"], id);
  // The upgrade: request then 101 on the same front and request id.
  const auto requests = rec.Of("http.request");
  const auto responses = rec.Of("http.response");
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0]["status"], 101);
  EXPECT_EQ(responses[0]["front"], requests[0]["front"]);
  EXPECT_EQ(responses[0]["request"], requests[0]["request"]);
}

TEST_F(TraceSim, RefusedUpgradeCarriesTheServiceReason) {
  Recorder rec;
  Trace(&rec);
  WsClient& expired = Client("expired", WsClientKind::kJson, Token("bob", {}, {}, -600));
  expired.Connect();
  WsClient& none = Client("none", WsClientKind::kJson, "");
  none.Connect();
  Run();
  const auto responses = rec.Of("http.response");
  ASSERT_EQ(responses.size(), 2u);
  for (const Json& r : responses) EXPECT_EQ(r["status"], 401);
  std::vector<std::string> reasons = {responses[0]["text"], responses[1]["text"]};
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons[0], "The access token is missing.");
  EXPECT_EQ(reasons[1], "Unauthorized: token expired");
  EXPECT_TRUE(rec.Of("connected").empty());
}

TEST_F(TraceSim, RestCallsAndEventHandlerRequestsAreReported) {
  options_.hubs["hub"].event_handlers = {{"http://app/upstream", "", {"connected"}}};
  StartApp();
  Recorder rec;
  Trace(&rec);
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  Rest().Call("POST", "/api/hubs/hub/:send", "text/plain", "from rest", "send");
  Run();
  const auto up = rec.Of("upstream.request");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]["reason"], "sys.connected");
  EXPECT_EQ(up[0]["target"], "http://app:80/upstream");
  const auto answers = rec.Of("upstream.response");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["request"], up[0]["request"]);
  EXPECT_EQ(answers[0]["status"], 204);  // the scripted app server's answer to `connected`
  bool saw_rest = false;
  for (const Json& r : rec.Of("http.request")) {
    saw_rest = saw_rest || (r["method"] == "POST" &&
                            r["target"].get<std::string>().starts_with("/api/hubs/hub/:send"));
  }
  EXPECT_TRUE(saw_rest);
}

// A trace page's feed: a WebSocket client of /trace/ws that records every text message.
class Viewer : public ws::ConnectionHandler {
 public:
  Viewer(sim::Runtime& runtime, std::string target, bool read = true) : runtime_(runtime) {
    runtime.Dial(testing::kServiceAddress, [this, target,
                                            read](Result<std::unique_ptr<sim::Stream>> s) {
      if (!s.ok()) return;
      sim::Rng rng(1);
      ws::SessionOptions options;
      connection_ = std::make_unique<ws::Connection>(
          runtime_, std::move(s.value()), this, options,
          ws::ClientHandshake::WithRng("service", target, {}, rng), protocol::http::Headers{}, rng);
      if (!read) connection_->stream()->SetReadPaused(true);
    });
  }
  void OnMessage(ws::Connection&, ws::Opcode, std::span<const uint8_t> payload) override {
    messages.push_back(Json::parse(payload.begin(), payload.end()));
  }
  void OnClosed(ws::Connection&, const ws::CloseInfo& info) override {
    closed = true;
    http_status = info.http_status;
  }
  bool Saw(std::string_view kind, std::string_view field, std::string_view value) const {
    for (const Json& m : messages) {
      if (m["kind"] == kind && m.contains(field) && m[field] == value) return true;
    }
    return false;
  }
  std::vector<Json> messages;
  bool closed = false;
  int http_status = 0;

 private:
  sim::Runtime& runtime_;
  std::unique_ptr<ws::Connection> connection_;
};

TEST_F(TraceSim, PageFeedReplaysOpenConnectionsAndStreamsNewEvents) {
  StartService();
  TraceFeedOptions o;
  o.token = "secret";
  o.page_html = "<p>trace</p>";
  TraceFeed feed(*service_, o);
  Trace(&feed);
  WsClient& early =
      Client("early", WsClientKind::kJson, Token("alice", {"webpubsub.joinLeaveGroup"}));
  early.Connect();
  Run();
  ASSERT_TRUE(early.JoinGroup("g", 1).ok());
  Run();
  Viewer refused(*client_host_, "/trace/ws?token=wrong");
  Viewer viewer(*client_host_, "/trace/ws?token=secret");
  Run();
  EXPECT_TRUE(refused.closed);
  EXPECT_EQ(refused.http_status, 401);
  EXPECT_EQ(feed.viewer_count(), 1u);
  // Snapshot of the open connection and its group, then the ring (which has the same again).
  ASSERT_GE(viewer.messages.size(), 2u);
  EXPECT_EQ(viewer.messages[0]["kind"], "connected");
  EXPECT_EQ(viewer.messages[0]["user"], "alice");
  EXPECT_EQ(viewer.messages[1]["kind"], "group.join");
  EXPECT_EQ(viewer.messages[1]["group"], "g");
  WsClient& late = Client("late", WsClientKind::kJson, Token("bob"));
  late.Connect();
  Run();
  EXPECT_TRUE(viewer.Saw("connected", "user", "bob"));
  // The page's own requests are not traced (no feedback from opening the page).
  for (const Json& m : viewer.messages) {
    if (m["kind"] == "http.request") {
      EXPECT_EQ(m["target"].get<std::string>().find("/trace"), std::string::npos);
    }
  }
}

TEST_F(TraceSim, SlowPageIsDroppedAndTheRingStaysBounded) {
  StartService();
  TraceFeedOptions o;
  o.ring_events_max = 50;
  o.viewer_output_bytes_max = 64 * 1024;
  TraceFeed feed(*service_, o);
  Trace(&feed);
  Viewer slow(*client_host_, "/trace/ws", /*read=*/false);
  Run();
  ASSERT_EQ(feed.viewer_count(), 1u);
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice", {"webpubsub.sendToGroup"}));
  c.Connect();
  Run();
  const std::string big(4000, 'x');
  for (int i = 0; i < 400 && feed.viewer_count() == 1; ++i) {
    ASSERT_TRUE(
        c.SendToGroup("g", protocol::webpubsub::Payload::Text(big), std::nullopt, false).ok());
    Run(10 * sim::kMillisecond);
  }
  EXPECT_EQ(feed.viewer_count(), 0u);
  EXPECT_EQ(feed.dropped_viewers(), 1u);
  EXPECT_LE(feed.ring_size(), 50u);
  // The service kept serving the client.
  ASSERT_TRUE(c.SendToGroup("g", protocol::webpubsub::Payload::Text("after"), 99, false).ok());
  Run();
  bool acked = false;
  for (const Observation* o2 : Of(c, Observation::Kind::kAck)) acked = acked || o2->ack_id == 99u;
  EXPECT_TRUE(acked);
}

TEST_F(TraceSim, NewPageGetsTheNewestEventsThatFitItsQueueInsteadOfBeingDropped) {
  StartService();
  TraceFeedOptions o;
  o.viewer_output_bytes_max = 64 * 1024;  // the ring (8 MiB) holds far more than this
  TraceFeed feed(*service_, o);
  Trace(&feed);
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice", {"webpubsub.sendToGroup"}));
  c.Connect();
  Run();
  const std::string big(4000, 'x');
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(
        c.SendToGroup("g", protocol::webpubsub::Payload::Text(big + std::to_string(i)), std::nullopt,
                      false)
            .ok());
  }
  Run();
  ASSERT_GT(feed.ring_bytes(), o.viewer_output_bytes_max);
  Viewer viewer(*client_host_, "/trace/ws");
  Run();
  EXPECT_EQ(feed.viewer_count(), 1u);
  EXPECT_EQ(feed.dropped_viewers(), 0u);
  ASSERT_FALSE(viewer.messages.empty());
  EXPECT_EQ(viewer.messages.front()["kind"], "connected");  // the snapshot comes first
  // The last frame sent is among the replayed events.
  bool newest = false;
  for (const Json& m : viewer.messages) {
    newest = newest || (m.contains("json") && m["json"]["data"] == big + "59");
  }
  EXPECT_TRUE(newest);
}

}  // namespace
}  // namespace wpsim::service
