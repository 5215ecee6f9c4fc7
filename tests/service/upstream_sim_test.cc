// Event handlers (PROTOCOL.md §12) end to end in simulation: the reference service calls a
// clients::AppServer over the simulated network, in virtual time. docs/conformance.md
// "Event handlers" lists the policy these tests pin.
#include <gtest/gtest.h>
#include <mbedtls/md.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "clients/app_server.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/hmac.h"
#include "protocol/auth/tokens.h"
#include "service/service.h"
#include "service/upstream.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_fixture.h"
#include "sim/tls/tls.h"

namespace wpsim::service {
namespace {

using clients::AppServer;
using clients::AppServerReply;
using clients::AppServerRequest;
using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;

// HMAC-SHA256 through mbedTLS's generic MD API, not through protocol/auth/hmac.cc.
std::string IndependentSignature(const std::string& key, const std::string& message) {
  unsigned char out[32];
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  EXPECT_EQ(mbedtls_md_hmac(info, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                            reinterpret_cast<const unsigned char*>(message.data()),
                            message.size(), out),
            0);
  return "sha256=" + HexEncode(std::span<const uint8_t>(out, 32));
}

TEST(CloudEventSignature, MatchesVectorsComputedOutsideTheProject) {
  // Computed with Python's hmac module: hmac.new(key, connection_id, sha256).hexdigest().
  const std::string cid = "0123456789abcdef0123456789abcdef";
  const std::vector<std::string> keys = {std::string(kDefaultAccessKey),
                                         "secondary-key-0123456789abcdefghijkl"};
  EXPECT_EQ(auth::CloudEventSignature(keys, cid),
            "sha256=9b8d99ad717398afdbe39ac5f264fbe3319393a992e34ed72200a3f6b26307b3,"
            "sha256=b730d1e924fef5477064c969a8a71aa82035d58b9d457639e0f5f016978939f5");
  EXPECT_EQ(auth::CloudEventSignature(keys[0], cid), IndependentSignature(keys[0], cid));
}

TEST(EventHandlerMatching, FirstMatchingHandlerWinsAndPatternsSplitOnCommas) {
  HubSettingsMap hubs;
  hubs["chat"].event_handlers = {
      {"http://a/{event}", "alpha, Beta", {"connect"}},
      {"http://b/{event}", "*", {"connected", "disconnected"}},
  };
  EXPECT_EQ(FindEventHandler(hubs, "Chat", EventKind::kUser, "beta")->url_template,
            "http://a/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kUser, "gamma")->url_template,
            "http://b/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kSystem, "connect")->url_template,
            "http://a/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kSystem, "disconnected")->url_template,
            "http://b/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "other", EventKind::kUser, "alpha"), nullptr);
  EXPECT_EQ(ExpandUrlTemplate("http://h:81/api/{hub}/{event}?code=x", "chat", "connect"),
            "http://h:81/api/chat/connect?code=x");
  EXPECT_FALSE(ValidateEventHandler({"http://{event}.host/", "*", {}}).ok());
  EXPECT_FALSE(ValidateEventHandler({"http://host/{event}", "*", {"joined"}}).ok());
  EXPECT_TRUE(ValidateEventHandler({"http://host:8080/{event}", "*", {"connect"}}).ok());
}

TEST(EventHandlerMatching, UserEventPatternItemsMayBeGlobs) {
  HubSettingsMap hubs;
  hubs["chat"].event_handlers = {
      {"http://a/{event}", "chat*, ?ing", {}},
      {"http://b/{event}", "*", {}},
  };
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kUser, "chatMessage")->url_template,
            "http://a/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kUser, "CHAT")->url_template,
            "http://a/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kUser, "ping")->url_template,
            "http://a/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kUser, "pring")->url_template,
            "http://b/{event}");
  EXPECT_EQ(FindEventHandler(hubs, "chat", EventKind::kUser, "mychat")->url_template,
            "http://b/{event}");
  EventHandlerSettings star_in_middle{"http://c/{event}", "a*b*c", {}};
  EXPECT_TRUE(star_in_middle.MatchesUserEvent("abc"));
  EXPECT_TRUE(star_in_middle.MatchesUserEvent("aXXbYbZc"));
  EXPECT_FALSE(star_in_middle.MatchesUserEvent("aXXbYbZcd"));
  EXPECT_FALSE(star_in_middle.MatchesUserEvent("a*b"));
  // A pathological pattern on a long name is answered without exponential backtracking.
  EventHandlerSettings many{"http://d/{event}", "*a*a*a*a*a*a*a*a*b", {}};
  EXPECT_FALSE(many.MatchesUserEvent(std::string(5000, 'a')));
}

TEST(EventHandlerTime, CeTimeIsRfc3339Utc) {
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Rfc3339(1'767'225'600'123'000'000), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(Rfc3339(951'782'400 * sim::kSecond), "2000-02-29T00:00:00.000Z");
}

class UpstreamSim : public testing::ServiceSimTest {
 protected:
  void SetUp() override {
    options_.hubs["hub"].event_handlers = {
        {"http://app/api/{hub}/{event}", "*", {"connect", "connected", "disconnected"}}};
    options_.upstream.request_timeout = 5 * sim::kSecond;
    ServiceSimTest::SetUp();
    StartApp();
  }

  std::string Token(std::optional<std::string> user, std::vector<std::string> roles = {}) {
    return ServiceSimTest::Token(std::move(user), std::move(roles));
  }

  WsClient& Client(std::string name, WsClientKind kind, std::string token,
                   std::string extra_query = {}) {
    WsClientOptions o = WsOptions(kind, std::move(token));
    o.extra_query = std::move(extra_query);
    return ServiceSimTest::Client(std::move(name), std::move(o));
  }
};

TEST_F(UpstreamSim, ConnectCarriesEveryCloudEventsHeaderAndTheConnectBody) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice", {"webpubsub.joinLeaveGroup"}),
                       "tag=x&tag=y");
  c.Connect();
  Run();
  ASSERT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
  // The first request is the abuse-protection validation, then connect.
  ASSERT_GE(app_->requests().size(), 2u);
  const AppServerRequest& v = app_->requests()[0];
  EXPECT_EQ(v.method, "OPTIONS");
  EXPECT_EQ(v.target, "/api/hub/validate");
  EXPECT_EQ(v.Header("WebHook-Request-Origin"), "service");
  auto connects = Posts("connect");
  ASSERT_EQ(connects.size(), 1u);
  const AppServerRequest& r = *connects[0];
  const std::string cid = c.connection_id();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/hub/connect");
  EXPECT_EQ(r.Header("ce-specversion"), "1.0");
  EXPECT_EQ(r.Header("ce-awpsversion"), "1.0");
  EXPECT_EQ(r.Header("ce-type"), "azure.webpubsub.sys.connect");
  EXPECT_EQ(r.Header("ce-source"), "/hubs/hub/client/" + cid);
  EXPECT_FALSE(r.Header("ce-id").empty());
  EXPECT_EQ(r.Header("ce-time").substr(0, 17), "2026-01-01T00:00:");
  EXPECT_EQ(r.Header("ce-signature"), IndependentSignature(std::string(kDefaultAccessKey), cid));
  EXPECT_TRUE(r.signature_valid);
  EXPECT_EQ(r.Header("ce-userId"), "alice");
  EXPECT_EQ(r.Header("ce-connectionId"), cid);
  EXPECT_EQ(r.Header("ce-hub"), "hub");
  EXPECT_EQ(r.Header("ce-eventName"), "connect");
  EXPECT_FALSE(r.headers.Has("ce-subprotocol"));  // never on connect
  EXPECT_EQ(r.Header("WebHook-Request-Origin"), "service");
  EXPECT_EQ(r.Header("Content-Type"), "application/json; charset=utf-8");
  const nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["claims"]["sub"], nlohmann::json::array({"alice"}));
  EXPECT_EQ(body["claims"]["role"], nlohmann::json::array({"webpubsub.joinLeaveGroup"}));
  EXPECT_EQ(body["query"]["tag"], nlohmann::json::array({"x", "y"}));
  EXPECT_FALSE(body["query"].contains("access_token"));
  EXPECT_EQ(body["subprotocols"], nlohmann::json::array({"json.webpubsub.azure.v1"}));
  EXPECT_TRUE(body["clientCertificates"].is_array());
  EXPECT_FALSE(body["headers"].contains("Authorization"));
}

TEST_F(UpstreamSim, ConnectRejectedWith401RefusesTheUpgradeAndSendsNothingMore) {
  app_->SetDefault("connect", AppServerReply::Reject(401, "no entry"));
  WsClient& c = Client("c", WsClientKind::kJson, Token("mallory"));
  c.Connect();
  Run(3 * sim::kSecond);
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
  EXPECT_TRUE(Of(c, Observation::Kind::kConnected).empty());
  EXPECT_EQ(Posts("connect").size(), 1u);  // 4xx is final: no retry
  EXPECT_TRUE(Posts("connected").empty());
  EXPECT_TRUE(Posts("disconnected").empty());
}

TEST_F(UpstreamSim, ConnectResponseOverridesUserIdGroupsAndRoles) {
  app_->SetDefault("connect", AppServerReply::ConnectWith(
                                  "bob", std::vector<std::string>{"g1"},
                                  std::vector<std::string>{"webpubsub.sendToGroup.g1"}));
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice", {"webpubsub.sendToGroup"}));
  c.Connect();
  Run();
  auto connected = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]->user_id, "bob");
  // Roles replaced: g1 allowed, g2 (allowed by the token's role) no longer.
  ASSERT_TRUE(c.SendToGroup("g1", wps::Payload::Text("hi"), 1, false).ok());
  ASSERT_TRUE(c.SendToGroup("g2", wps::Payload::Text("hi"), 2, false).ok());
  Run();
  auto acks = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_TRUE(acks[0]->success);
  EXPECT_FALSE(acks[1]->success);
  EXPECT_EQ(acks[1]->error_name, "Forbidden");
  // Group g1 joined from the connect response: the client's own message came back.
  auto group = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(group.size(), 1u);
  EXPECT_EQ(group[0]->from_user_id, "bob");
  // Later events carry the new user id and the selected subprotocol.
  auto connected_events = Posts("connected");
  ASSERT_EQ(connected_events.size(), 1u);
  EXPECT_EQ(connected_events[0]->Header("ce-userId"), "bob");
  EXPECT_EQ(connected_events[0]->Header("ce-subprotocol"), "json.webpubsub.azure.v1");
}

TEST_F(UpstreamSim, UserEventReplyIsDeliveredBeforeTheAck) {
  app_->SetDefault("echo", AppServerReply::Reply("{\"n\":1}", "application/json"));
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("echo", wps::Payload::Text("ping"), 7).ok());
  Run();
  auto posts = Posts("echo");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]->Header("ce-type"), "azure.webpubsub.user.echo");
  EXPECT_EQ(posts[0]->Header("Content-Type"), "text/plain");
  EXPECT_EQ(posts[0]->body, "ping");
  // Order of what the client saw after connecting: server message, then ack.
  std::vector<Observation::Kind> kinds;
  for (const Observation& o : c.observations()) {
    if (o.kind == Observation::Kind::kServerMessage || o.kind == Observation::Kind::kAck) {
      kinds.push_back(o.kind);
    }
  }
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], Observation::Kind::kServerMessage);
  EXPECT_EQ(kinds[1], Observation::Kind::kAck);
  auto message = Of(c, Observation::Kind::kServerMessage);
  EXPECT_EQ(message[0]->payload.type, wps::DataType::kJson);
  EXPECT_EQ(message[0]->payload.data.view(), "{\"n\":1}");
  auto ack = Of(c, Observation::Kind::kAck);
  EXPECT_TRUE(ack[0]->success);
  EXPECT_EQ(ack[0]->ack_id, 7u);
}

TEST_F(UpstreamSim, JsonEventContentTypesFollowTheDataType) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  const uint8_t bytes[] = {0, 1, 2};
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Json("{\"a\":1}"), 1).ok());
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Binary(bytes), 2).ok());
  Run();
  auto posts = Posts("e");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]->Header("Content-Type"), "application/json");
  EXPECT_EQ(posts[0]->body, "{\"a\":1}");
  EXPECT_EQ(posts[1]->Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(posts[1]->body, std::string("\0\1\2", 3));
}

TEST_F(UpstreamSim, FailedUserEventFailsTheAckAndKeepsTheJsonClient) {
  app_->SetDefault("boom", AppServerReply::Reject(400, "bad"));
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("boom", wps::Payload::Text("x"), 1).ok());
  Run();
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_FALSE(ack[0]->success);
  EXPECT_EQ(ack[0]->error_name, "InternalServerError");
  EXPECT_TRUE(c.open());
  EXPECT_TRUE(Of(c, Observation::Kind::kClosed).empty());
  // The failed ackId is not remembered: a retry runs again (§5.2).
  app_->SetDefault("boom", AppServerReply::Accept());
  ASSERT_TRUE(c.SendEvent("boom", wps::Payload::Text("x"), 1).ok());
  Run();
  ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 2u);
  EXPECT_TRUE(ack[1]->success);
}

TEST_F(UpstreamSim, RawClientMessageGoesUpstreamAndTheReplyComesBackAsAFrame) {
  app_->Enqueue("message", AppServerReply::Reply("pong", "text/plain"));
  WsClient& c = Client("c", WsClientKind::kRaw, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendRawText("ping").ok());
  Run();
  auto posts = Posts("message");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]->Header("ce-type"), "azure.webpubsub.user.message");
  EXPECT_EQ(posts[0]->Header("Content-Type"), "text/plain");
  EXPECT_EQ(posts[0]->body, "ping");
  auto raw = Of(c, Observation::Kind::kRawMessage);
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0]->payload.type, wps::DataType::kText);
  EXPECT_EQ(raw[0]->payload.data.view(), "pong");
  EXPECT_TRUE(c.open());
}

TEST_F(UpstreamSim, FailedRawUserEventClosesTheClientWith1011AndSendsDisconnected) {
  app_->SetDefault("message", AppServerReply::Reject(403));
  WsClient& c = Client("c", WsClientKind::kRaw, Token("alice"));
  c.Connect();
  Run();
  const uint8_t bytes[] = {9, 8};
  ASSERT_TRUE(c.SendRawBinary(bytes).ok());
  Run();
  EXPECT_EQ(Posts("message")[0]->Header("Content-Type"), "application/octet-stream");
  auto closed = Of(c, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1011);
  auto disconnected = Posts("disconnected");
  ASSERT_EQ(disconnected.size(), 1u);
  EXPECT_TRUE(nlohmann::json::parse(disconnected[0]->body).contains("reason"));
}

TEST_F(UpstreamSim, SlowUpstreamTimesOutAndRetriesOnTheDocumentedScheduleInVirtualTime) {
  app_->SetDefault("slow", AppServerReply::Timeout());
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  const sim::Nanos sent_at = client_host_->Now();
  ASSERT_TRUE(c.SendEvent("slow", wps::Payload::Text("x"), 1).ok());
  Run(60 * sim::kSecond);
  auto posts = Posts("slow");
  ASSERT_EQ(posts.size(), 4u);  // 1 + 3 retries
  // Attempts at ~0, 5+1, 6+5+3, 14+5+5 s (5 s timeout; retry delays 1, 3, 5 s).
  const sim::Nanos t0 = posts[0]->time;
  EXPECT_NEAR(static_cast<double>(posts[1]->time - t0) / sim::kSecond, 6.0, 0.1);
  EXPECT_NEAR(static_cast<double>(posts[2]->time - t0) / sim::kSecond, 14.0, 0.1);
  EXPECT_NEAR(static_cast<double>(posts[3]->time - t0) / sim::kSecond, 24.0, 0.1);
  EXPECT_EQ(posts[1]->Header("ce-id"), posts[0]->Header("ce-id"));  // same event
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_FALSE(ack[0]->success);
  EXPECT_EQ(ack[0]->error_name, "InternalServerError");
  EXPECT_NEAR(static_cast<double>(ack[0]->time - sent_at) / sim::kSecond, 29.0, 0.1);
  EXPECT_TRUE(c.open());
}

TEST_F(UpstreamSim, ServerErrorsAreRetriedAnd429IsNot) {
  app_->Enqueue("flaky", AppServerReply::Reject(503));
  app_->Enqueue("flaky", AppServerReply::Reject(500));
  app_->Enqueue("flaky", AppServerReply::Accept());
  app_->SetDefault("busy", AppServerReply::Reject(429));
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("flaky", wps::Payload::Text("x"), 1).ok());
  ASSERT_TRUE(c.SendEvent("busy", wps::Payload::Text("x"), 2).ok());
  Run(20 * sim::kSecond);
  EXPECT_EQ(Posts("flaky").size(), 3u);
  EXPECT_EQ(Posts("busy").size(), 1u);
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 2u);
  EXPECT_TRUE(ack[0]->success);
  EXPECT_FALSE(ack[1]->success);
}

TEST_F(UpstreamSim, AbuseProtectionFailureBlocksEveryEvent) {
  app_->options().validation.allowed_origin = "somebody-else.example";
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  // connect could not be delivered: the upgrade is refused, and nothing but OPTIONS was sent.
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 500);
  for (const AppServerRequest& r : app_->requests()) EXPECT_EQ(r.method, "OPTIONS");
  EXPECT_FALSE(app_->requests().empty());
}

TEST_F(UpstreamSim, AbuseProtectionFailureFailsUserEventsWithoutPostingThem) {
  // Only user events have a handler here, on a URL that refuses validation.
  options_.hubs["hub"].event_handlers = {{"http://app/user/{event}", "*", {}}};
  app_->options().validation.status = 403;
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("x"), 1).ok());
  Run();
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_FALSE(ack[0]->success);
  EXPECT_TRUE(Posts("e").empty());
  ASSERT_EQ(app_->requests().size(), 1u);
  EXPECT_EQ(app_->requests()[0].target, "/user/validate");
}

TEST_F(UpstreamSim, ConnectionStateSetByAResponseIsSentOnLaterEvents) {
  app_->SetDefault("connect", AppServerReply::Accept().WithState("c3RhdGU="));
  app_->Enqueue("e", AppServerReply::Accept().WithState("bmV4dA=="));
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("1"), 1).ok());
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("2"), 2).ok());
  Run();
  EXPECT_FALSE(Posts("connect")[0]->headers.Has("ce-connectionState"));
  EXPECT_EQ(Posts("connected")[0]->Header("ce-connectionState"), "c3RhdGU=");
  auto posts = Posts("e");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]->Header("ce-connectionState"), "c3RhdGU=");
  EXPECT_EQ(posts[1]->Header("ce-connectionState"), "bmV4dA==");
}

// EVENT-011: only a successful answer changes the state; a failed one (here 400, final) keeps
// the previous state, as the Microsoft emulator does.
TEST_F(UpstreamSim, FailedUserEventAnswerDoesNotChangeTheConnectionState) {
  app_->SetDefault("connect", AppServerReply::Accept().WithState("c3RhdGU="));
  app_->Enqueue("e", AppServerReply::Reject(400).WithState("ZmFpbGVk"));
  app_->Enqueue("e", AppServerReply::Accept());
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("1"), 1).ok());
  Run();
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("2"), 2).ok());
  Run();
  auto acks = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_FALSE(acks[0]->success);
  EXPECT_TRUE(acks[1]->success);
  auto posts = Posts("e");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]->Header("ce-connectionState"), "c3RhdGU=");
  EXPECT_EQ(posts[1]->Header("ce-connectionState"), "c3RhdGU=");
}

// Issue 20 audit: a connect answer's userId (any JSON string) becomes ce-userId on later events;
// a CR/LF in it reached http::AppendHeaders' assertion and stopped the service.
TEST_F(UpstreamSim, ConnectAnswerUserIdWithCrLfCannotSplitLaterEventRequests) {
  app_->SetDefault("connect", AppServerReply::ConnectWith("evil\r\nX-Injected: 1"));
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.open());
  auto connected = Posts("connected");
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]->Header("ce-userId"), "evil  X-Injected: 1");
  EXPECT_FALSE(connected[0]->headers.Has("X-Injected"));
}

TEST_F(UpstreamSim, DisconnectedCarriesTheReasonOnceWhenTheConnectionEnds) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  c.Close();
  Run();
  auto events = Posts("disconnected");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]->Header("ce-type"), "azure.webpubsub.sys.disconnected");
  EXPECT_EQ(events[0]->Header("ce-subprotocol"), "json.webpubsub.azure.v1");
  EXPECT_TRUE(nlohmann::json::parse(events[0]->body)["reason"].is_string());
  // connect → connected → disconnected, in that order, on the same connection id.
  std::vector<std::string> order;
  for (const AppServerRequest& r : app_->requests()) {
    if (!r.event_name.empty()) order.push_back(r.event_name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"connect", "connected", "disconnected"}));
}

TEST_F(UpstreamSim, ReliableTransportDropIsNotADisconnect) {
  WsClient& c = Client("c", WsClientKind::kReliable, Token("alice"));
  c.Connect();
  Run();
  c.Kill();
  Run(3 * sim::kSecond);  // the client recovers
  EXPECT_TRUE(Posts("disconnected").empty());
  EXPECT_EQ(Posts("connected").size(), 1u);
  EXPECT_EQ(Posts("connect").size(), 1u);
}

TEST_F(UpstreamSim, KeepAliveConnectionsAreReused) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  for (uint64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("x"), i).ok());
    Run();
  }
  EXPECT_EQ(Posts("e").size(), 5u);
  EXPECT_EQ(app_->connections_accepted(), 1u);
}

TEST_F(UpstreamSim, NoHandlerForAUserEventKeepsTheOldBehaviour) {
  options_.hubs["hub"].event_handlers = {{"http://app/{event}", "only-this", {}}};
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("other", wps::Payload::Text("x"), 1).ok());
  Run();
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(ack[0]->error_name, "InternalServerError");
  EXPECT_TRUE(app_->requests().empty());
}

TEST_F(UpstreamSim, ValidationFallsBackToGetWhenOptionsIsAnswered404) {
  app_->options().validation.status = 404;
  app_->options().validation.allowed_origin = "";
  app_->handler = [](const AppServerRequest& r) -> std::optional<AppServerReply> {
    if (r.method != "GET") return std::nullopt;
    AppServerReply reply;
    reply.status = 200;
    reply.headers.push_back({"WebHook-Allowed-Origin", "*"});
    return reply;
  };
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
  ASSERT_GE(app_->requests().size(), 3u);
  EXPECT_EQ(app_->requests()[0].method, "OPTIONS");
  EXPECT_EQ(app_->requests()[1].method, "GET");
  EXPECT_EQ(app_->requests()[1].target, "/api/hub/validate");
  EXPECT_EQ(app_->requests()[1].Header("WebHook-Request-Origin"), "service");
  EXPECT_EQ(Posts("connect").size(), 1u);
}

TEST_F(UpstreamSim, GetFallbackThatIsAlsoRefusedFailsValidation) {
  app_->options().validation.status = 404;
  app_->handler = [](const AppServerRequest& r) -> std::optional<AppServerReply> {
    if (r.method == "GET") return AppServerReply::Reject(404);
    return std::nullopt;
  };
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 500);
  EXPECT_TRUE(Posts("connect").empty());
}

TEST_F(UpstreamSim, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  options_.upstream.idle_connection_timeout = 10 * sim::kSecond;
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("1"), 1).ok());
  Run(5 * sim::kSecond);  // idle for less than the timeout: reused
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("2"), 2).ok());
  Run();
  EXPECT_EQ(app_->connections_accepted(), 1u);
  Run(11 * sim::kSecond);  // idle past the timeout: closed, the next event dials again
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("3"), 3).ok());
  Run();
  EXPECT_EQ(Posts("e").size(), 3u);
  EXPECT_EQ(app_->connections_accepted(), 2u);
  for (const Observation* a : Of(c, Observation::Kind::kAck)) EXPECT_TRUE(a->success);
}

class UpstreamTlsSim : public UpstreamSim {
 protected:
  void SetUp() override {
    UpstreamSim::SetUp();
    sim::Rng rng(7);
    auto cert = sim::GenerateSelfSignedCert("secure-app", {"secure-app"}, rng);
    ASSERT_TRUE(cert.ok());
    cert_ = cert.value();
    sim::TlsServerOptions server;
    server.cert_pem = cert_.cert_pem;
    server.key_pem = cert_.key_pem;
    auto config = sim::TlsConfig::Server(server);
    ASSERT_TRUE(config.ok());
    secure_host_ = net_.AddHost("secure-app").value();
    clients::AppServerOptions o;
    o.listen = sim::Address{"secure-app", 443};
    o.access_keys = options_.access_keys;
    o.tls = config.value();
    secure_ = std::make_unique<AppServer>(*secure_host_, "secure-app", o);
    ASSERT_TRUE(secure_->Listen().ok());
    options_.hubs["hub"].event_handlers = {
        {"https://secure-app/api/{event}", "*", {"connect", "connected", "disconnected"}}};
  }
  sim::CertAndKey cert_;
  sim::SimRuntime* secure_host_ = nullptr;
  std::unique_ptr<AppServer> secure_;
};

TEST_F(UpstreamTlsSim, HttpsHandlerTrustedThroughTheConfiguredCaReceivesEveryEvent) {
  options_.upstream.tls_ca_pem = cert_.cert_pem;
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  ASSERT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
  ASSERT_TRUE(c.SendEvent("e", wps::Payload::Text("over tls"), 1).ok());
  Run();
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_TRUE(ack[0]->success);
  ASSERT_EQ(secure_->RequestsFor("e").size(), 1u);
  EXPECT_EQ(secure_->RequestsFor("e")[0]->body, "over tls");
  EXPECT_TRUE(secure_->RequestsFor("e")[0]->signature_valid);
  EXPECT_EQ(secure_->RequestsFor("connect").size(), 1u);
  EXPECT_EQ(secure_->connections_accepted(), 1u);
}

TEST_F(UpstreamTlsSim, HttpsHandlerWithAnUntrustedCertificateRefusesTheConnect) {
  sim::Rng other_rng(8);
  auto other = sim::GenerateSelfSignedCert("secure-app", {"secure-app"}, other_rng);
  ASSERT_TRUE(other.ok());
  options_.upstream.tls_ca_pem = other.value().cert_pem;  // trusts a different key
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run(30 * sim::kSecond);
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 500);
  EXPECT_TRUE(secure_->RequestsFor("connect").empty());
}

}  // namespace
}  // namespace wpsim::service
