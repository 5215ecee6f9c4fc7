// The reference service end to end in simulation: service and client state machines on a
// SimNetwork, no sockets. Each test names the PROTOCOL.md rule it checks; docs/conformance.md
// maps the case IDs to these tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/http/url.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_fixture.h"

namespace wpsim::service {
namespace {

using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;

class ServiceSim : public testing::ServiceSimTest {
 protected:
  explicit ServiceSim(ServiceOptions options = {}) { options_ = std::move(options); }

  void SetUp() override {
    ServiceSimTest::SetUp();
    StartService();
  }

  void Run(sim::Nanos duration = sim::kSecond) {
    ServiceSimTest::Run(duration);
    if (getenv("WPSIM_DEBUG")) {
      for (auto& c : ws_clients_) {
        for (auto& o : c->observations()) {
          fprintf(stderr, "%s: %s %d %s\n", c->name().c_str(),
                  std::string(clients::ObservationKindName(o.kind)).c_str(), o.http_status,
                  o.text.c_str());
        }
      }
    }
  }
};

TEST_F(ServiceSim, JsonClientGetsConnectedMessageWithUserAndConnectionId) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("alice"));
  c.Connect();
  Run();
  auto connected = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]->user_id, "alice");
  EXPECT_EQ(connected[0]->connection_id.size(), 32u);
  EXPECT_TRUE(connected[0]->reconnection_token.empty());  // only reliable clients get one
}

TEST_F(ServiceSim, AnonymousTokenGivesNullUserId) {
  WsClient& c = Client("c", WsClientKind::kJson, Token(std::nullopt));
  c.Connect();
  Run();
  auto connected = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]->user_id, std::nullopt);
}

TEST_F(ServiceSim, UpgradeWithoutTokenIsRefusedWith401) {
  WsClient& c = Client("c", WsClientKind::kJson, "");
  c.Connect();
  Run();
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
}

TEST_F(ServiceSim, ExpiredTokenIsRefusedWith401) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("a", {}, {}, -3600));
  c.Connect();
  Run();
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
}

TEST_F(ServiceSim, TokenSignedWithAnotherKeyIsRefusedWith401) {
  auth::ClientTokenOptions o;
  o.user_id = "a";
  o.issued_at = client_host_->UnixNow() / sim::kSecond;
  o.expires_at = o.issued_at + 3600;
  std::string token = auth::BuildClientTokenForAudience("http://service:80/client/hubs/hub", o,
                                                        "some-other-key-that-is-long-enough");
  WsClient& c = Client("c", WsClientKind::kJson, token);
  c.Connect();
  Run();
  ASSERT_EQ(Of(c, Observation::Kind::kHandshakeFailed).size(), 1u);
  EXPECT_EQ(Of(c, Observation::Kind::kHandshakeFailed)[0]->http_status, 401);
}

TEST_F(ServiceSim, TokenInAuthorizationHeaderIsAccepted) {
  WsClientOptions o;
  o.kind = WsClientKind::kJson;
  o.service = sim::Address{"service", 80};
  o.access_token = Token("h");
  o.token_in_header = true;
  WsClient c(*client_host_, "c", o);
  c.Connect();
  Run();
  EXPECT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
}

TEST_F(ServiceSim, JoinGroupWithoutRoleIsAnsweredForbiddenAndConnectionStaysOpen) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("a"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.JoinGroup("g", 1).ok());
  Run();
  auto acks = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0]->success);
  EXPECT_EQ(acks[0]->error_name, "Forbidden");
  EXPECT_TRUE(c.open());
}

TEST_F(ServiceSim, GroupScopedRoleAllowsOnlyThatGroup) {
  WsClient& c = Client("c", WsClientKind::kJson,
                       Token("a", {"webpubsub.joinLeaveGroup.stream1", "webpubsub.sendToGroup.stream1"}));
  c.Connect();
  Run();
  ASSERT_TRUE(c.JoinGroup("stream1", 1).ok());
  ASSERT_TRUE(c.JoinGroup("stream2", 2).ok());
  ASSERT_TRUE(c.SendToGroup("stream1", wps::Payload::Text("x"), 3, false).ok());
  ASSERT_TRUE(c.SendToGroup("stream2", wps::Payload::Text("x"), 4, false).ok());
  Run();
  auto acks = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_TRUE(acks[0]->success);
  EXPECT_EQ(acks[1]->error_name, "Forbidden");
  EXPECT_TRUE(acks[2]->success);
  EXPECT_EQ(acks[3]->error_name, "Forbidden");
}

TEST_F(ServiceSim, SendToGroupReachesEveryMemberAndNoEchoSkipsTheSender) {
  const std::vector<std::string> roles = {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"};
  WsClient& a = Client("a", WsClientKind::kJson, Token("ua", roles));
  WsClient& b = Client("b", WsClientKind::kJson, Token("ub", roles));
  WsClient& outsider = Client("o", WsClientKind::kJson, Token("uo", roles));
  a.Connect();
  b.Connect();
  outsider.Connect();
  Run();
  ASSERT_TRUE(a.JoinGroup("g", 1).ok());
  ASSERT_TRUE(b.JoinGroup("g", 1).ok());
  Run();
  ASSERT_TRUE(a.SendToGroup("g", wps::Payload::Text("echo"), 2, false).ok());
  Run();
  ASSERT_TRUE(a.SendToGroup("g", wps::Payload::Json("{\"n\":1}"), 3, true).ok());
  Run();
  auto at_a = Of(a, Observation::Kind::kGroupMessage);
  auto at_b = Of(b, Observation::Kind::kGroupMessage);
  ASSERT_EQ(at_a.size(), 1u);  // its own first message only (noEcho on the second)
  ASSERT_EQ(at_b.size(), 2u);
  EXPECT_EQ(at_b[0]->payload, wps::Payload::Text("echo"));
  EXPECT_EQ(at_b[0]->from_user_id, "ua");
  EXPECT_EQ(at_b[0]->group, "g");
  EXPECT_EQ(at_b[1]->payload, wps::Payload::Json("{\"n\":1}"));
  EXPECT_TRUE(Of(outsider, Observation::Kind::kGroupMessage).empty());
}

TEST_F(ServiceSim, RepeatedAckIdIsAnsweredDuplicateAndNotExecutedAgain) {
  WsClient& a = Client("a", WsClientKind::kJson,
                       Token("a", {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}));
  a.Connect();
  Run();
  ASSERT_TRUE(a.JoinGroup("g", 1).ok());
  ASSERT_TRUE(a.SendToGroup("g", wps::Payload::Text("once"), 7, false).ok());
  ASSERT_TRUE(a.SendToGroup("g", wps::Payload::Text("once"), 7, false).ok());
  Run();
  auto acks = Of(a, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_TRUE(acks[1]->success);
  EXPECT_FALSE(acks[2]->success);
  EXPECT_EQ(acks[2]->error_name, "Duplicate");
  EXPECT_EQ(acks[2]->text, "Message with ack-id: 7 has been processed");
  EXPECT_EQ(Of(a, Observation::Kind::kGroupMessage).size(), 1u);
}

TEST_F(ServiceSim, ForbiddenRequestIsNotRememberedSoARetryRunsAgain) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("a"));
  a.Connect();
  Run();
  ASSERT_TRUE(a.JoinGroup("g", 5).ok());
  Run();
  Rest().Call("PUT", "/api/hubs/hub/permissions/joinLeaveGroup/connections/" +
                         a.connection_id() + "?targetName=g",
              "", "", "grant");
  Run();
  ASSERT_TRUE(a.JoinGroup("g", 5).ok());
  Run();
  auto acks = Of(a, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0]->error_name, "Forbidden");
  EXPECT_TRUE(acks[1]->success);
}

TEST_F(ServiceSim, RequestsWithoutAckIdGetNoAckEvenWhenForbidden) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("a"));
  a.Connect();
  Run();
  ASSERT_TRUE(a.JoinGroup("g", std::nullopt).ok());
  ASSERT_TRUE(a.SendToGroup("g", wps::Payload::Text("x"), std::nullopt, false).ok());
  Run();
  EXPECT_TRUE(Of(a, Observation::Kind::kAck).empty());
  EXPECT_TRUE(a.open());
}

TEST_F(ServiceSim, PingIsAnsweredWithPong) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("a"));
  a.Connect();
  Run();
  ASSERT_TRUE(a.Ping().ok());
  Run();
  EXPECT_EQ(Of(a, Observation::Kind::kPong).size(), 1u);
}

TEST_F(ServiceSim, MalformedJsonClosesWith1007) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("a"));
  a.Connect();
  Run();
  ASSERT_TRUE(a.SendRawText("{not json").ok());
  Run();
  auto closed = Of(a, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1007);
}

TEST_F(ServiceSim, RestSendToAllReachesRawAndJsonClientsInTheirFormats) {
  WsClient& raw = Client("raw", WsClientKind::kRaw, Token("r"));
  WsClient& json = Client("json", WsClientKind::kJson, Token("j"));
  raw.Connect();
  json.Connect();
  Run();
  Rest().Call("POST", "/api/hubs/hub/:send", "text/plain", "Hello World", "text");
  Rest().Call("POST", "/api/hubs/hub/:send", "application/json", "{\"a\":1}", "json");
  Run();
  ASSERT_EQ(Rest().observations().size(), 2u);
  EXPECT_EQ(Rest().observations()[0].http_status, 202);
  auto raw_msgs = Of(raw, Observation::Kind::kRawMessage);
  ASSERT_EQ(raw_msgs.size(), 2u);
  EXPECT_EQ(raw_msgs[0]->payload, wps::Payload::Text("Hello World"));
  EXPECT_EQ(raw_msgs[1]->payload, wps::Payload::Text("{\"a\":1}"));
  auto json_msgs = Of(json, Observation::Kind::kServerMessage);
  ASSERT_EQ(json_msgs.size(), 2u);
  EXPECT_EQ(json_msgs[0]->payload, wps::Payload::Text("Hello World"));
  EXPECT_EQ(json_msgs[1]->payload, wps::Payload::Json("{\"a\":1}"));
}

TEST_F(ServiceSim, RestWithoutValidBearerIs401AndUnsupportedContentTypeIs415) {
  clients::RestClientOptions o;
  o.service = sim::Address{"service", 80};
  o.connection_string = cs_;
  o.signing_key_override = "wrong-key-wrong-key-wrong-key-wrong";
  clients::RestClient bad(*client_host_, "bad", o);
  bad.Call("POST", "/api/hubs/hub/:send", "text/plain", "x", "bad");
  Rest().Call("POST", "/api/hubs/hub/:send", "application/xml", "<a/>", "xml");
  Run();
  ASSERT_EQ(bad.observations().size(), 1u);
  EXPECT_EQ(bad.observations()[0].http_status, 401);
  ASSERT_EQ(Rest().observations().size(), 1u);
  EXPECT_EQ(Rest().observations()[0].http_status, 415);
}

TEST_F(ServiceSim, RestExistenceOperationsFollowConnections) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("alice", {}, {"g1"}));
  a.Connect();
  Run();
  Rest().Call("HEAD", "/api/hubs/hub/users/alice", "", "", "user");
  Rest().Call("HEAD", "/api/hubs/hub/users/bob", "", "", "nouser");
  Rest().Call("HEAD", "/api/hubs/hub/groups/g1", "", "", "group");
  Rest().Call("HEAD", "/api/hubs/hub/connections/" + a.connection_id(), "", "", "conn");
  Rest().Call("DELETE", "/api/hubs/hub/connections/" + a.connection_id(), "", "", "close");
  Run();
  Rest().Call("HEAD", "/api/hubs/hub/users/alice", "", "", "user-after");
  Run();
  std::vector<int> statuses;
  for (const auto& o : Rest().observations()) statuses.push_back(o.http_status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 404, 200, 200, 204, 404}));
  auto disconnected = Of(a, Observation::Kind::kDisconnected);
  ASSERT_EQ(disconnected.size(), 1u);
  EXPECT_EQ(disconnected[0]->text, "Closed by REST API.");
  auto closed = Of(a, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1000);
}

TEST_F(ServiceSim, ReliableSequenceIdsStartAtOneAndContinueAcrossRecovery) {
  WsClient& r = Client("r", WsClientKind::kReliable, Token("r", {}, {"g"}));
  r.Connect();
  Run();
  ASSERT_FALSE(Of(r, Observation::Kind::kConnected).at(0)->reconnection_token.empty());
  for (int i = 0; i < 3; ++i) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m" + std::to_string(i), "s");
  }
  Run(100 * sim::kMillisecond);
  r.Kill();
  for (int i = 3; i < 5; ++i) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m" + std::to_string(i), "s");
  }
  Run(5 * sim::kSecond);
  EXPECT_EQ(Of(r, Observation::Kind::kRecovered).size(), 1u);
  auto msgs = Of(r, Observation::Kind::kGroupMessage);
  ASSERT_EQ(msgs.size(), 5u);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i]->sequence_id, i + 1);
    EXPECT_EQ(msgs[i]->payload, wps::Payload::Text("m" + std::to_string(i)));
  }
  EXPECT_EQ(Of(r, Observation::Kind::kConnected).size(), 1u);  // no second connected message
}

TEST_F(ServiceSim, RecoveryWithAWrongTokenIsAcceptedThenClosedWith1008) {
  WsClient& r = Client("r", WsClientKind::kReliable, Token("r"));
  r.Connect();
  Run();
  const std::string id = r.connection_id();
  WsClientOptions o;
  o.kind = WsClientKind::kReliable;
  o.service = sim::Address{"service", 80};
  o.extra_query = "awps_connection_id=" + id + "&awps_reconnection_token=forged";
  WsClient forger(*client_host_, "forger", o);
  forger.Connect();
  Run();
  EXPECT_EQ(Of(forger, Observation::Kind::kOpened).size(), 1u);
  auto closed = Of(forger, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1008);
  EXPECT_TRUE(r.open());
}

// A recovery that arrives while the service still has the old transport attached (the client
// saw a drop the service has not seen yet) takes the connection over instead of answering 1008,
// which the client SDK reads as "removed, do not retry" (docs/conformance.md REL-013).
TEST_F(ServiceSim, RecoveryWhileTheOldTransportIsAttachedTakesTheConnectionOver) {
  WsClient& r = Client("r", WsClientKind::kReliable, Token("r", {}, {"g"}));
  r.Connect();
  Run();
  auto connected = Of(r, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  const std::string id = r.connection_id();
  const std::string token = connected[0]->reconnection_token;  // before more observations arrive
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "before", "s");
  Run(10 * sim::kMillisecond);
  WsClientOptions o = WsOptions(WsClientKind::kReliable, "");
  o.auto_sequence_ack = false;
  o.extra_query = "awps_connection_id=" + id + "&awps_reconnection_token=" +
                  protocol::http::PercentEncode(token);
  WsClient& again = Client("again", o);
  again.Connect();
  Run();
  EXPECT_EQ(Of(again, Observation::Kind::kClosed).size(), 0u);
  EXPECT_TRUE(again.open());
  auto old_closed = Of(r, Observation::Kind::kClosed);
  ASSERT_EQ(old_closed.size(), 1u);
  EXPECT_EQ(old_closed[0]->close_code, 1008);  // and so it does not take the connection back
  // The un-acked message is replayed on the new transport, and new traffic follows it.
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "after", "s");
  Run(100 * sim::kMillisecond);
  auto msgs = Of(again, Observation::Kind::kGroupMessage);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]->payload, wps::Payload::Text("before"));
  EXPECT_EQ(msgs[0]->sequence_id, 1u);
  EXPECT_EQ(msgs[1]->payload, wps::Payload::Text("after"));
  EXPECT_EQ(msgs[1]->sequence_id, 2u);
}

// Like @azure/web-pubsub-client (_handleConnectionClose), the simulated reliable client dials
// its recovery at once after an unexpected close, not after its 1 s retry interval (it waited
// 1 s after a close but 0 after a kill). Here the service closed it (REST close: 1000), so the
// recovery is refused with 1008, within milliseconds.
TEST_F(ServiceSim, ReliableClientDialsItsRecoveryAtOnceAfterAnUnexpectedClose) {
  WsClient& r = Client("r", WsClientKind::kReliable, Token("r"));
  r.Connect();
  Run();
  Rest().Call("DELETE", "/api/hubs/hub/connections/" + r.connection_id(), "", "", "s");
  Run(100 * sim::kMillisecond);
  auto closed = Of(r, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0]->close_code, 1000);
  EXPECT_EQ(closed[1]->close_code, 1008);  // the recovery, refused: the connection was closed
}

// The SDK's quickSequenceAckDiff: a message whose sequenceId is more than 300 above the largest
// seen is acked at once rather than at the next 1 s tick.
TEST_F(ServiceSim, ReliableClientAcksAtOnceAfterASequenceIdJumpOfMoreThan300) {
  WsClientOptions manual = WsOptions(WsClientKind::kReliable, Token("r", {}, {"g"}));
  manual.auto_sequence_ack = false;
  WsClient& r = Client("r", manual);
  r.Connect();
  Run();
  const std::string token = Of(r, Observation::Kind::kConnected).at(0)->reconnection_token;
  for (int i = 0; i < 302; ++i) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m" + std::to_string(i), "s");
  }
  Run(5 * sim::kSecond);
  ASSERT_EQ(Of(r, Observation::Kind::kGroupMessage).size(), 302u);
  ASSERT_TRUE(r.SequenceAck(301).ok());  // the service keeps 302 only
  Run(50 * sim::kMillisecond);
  auto take_over = [&](const std::string& name) -> WsClient& {
    WsClientOptions o = WsOptions(WsClientKind::kReliable, "");
    o.extra_query = "awps_connection_id=" + r.connection_id() +
                    "&awps_reconnection_token=" + protocol::http::PercentEncode(token);
    return Client(name, o);
  };
  // A fresh client (largest seen: 0; auto acks every 1 s, and at once on a jump > 300) takes
  // the connection over: the replay is 302 alone, a jump of 302.
  WsClient& again = take_over("again");
  again.Connect();
  Run(100 * sim::kMillisecond);  // well before the 1 s tick
  auto replayed = Of(again, Observation::Kind::kGroupMessage);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0]->sequence_id, 302u);
  // The jump from 0 to 302 was acked at once: a third take-over gets nothing replayed.
  WsClient& third = take_over("third");
  third.Connect();
  Run(100 * sim::kMillisecond);
  EXPECT_TRUE(third.open());
  EXPECT_EQ(Of(third, Observation::Kind::kGroupMessage).size(), 0u);
}

class ServiceSimSmallBuffer : public ServiceSim {
 protected:
  ServiceSimSmallBuffer() : ServiceSim(SmallBuffer()) {}
  static ServiceOptions SmallBuffer() {
    ServiceOptions o;
    o.reliable_limits.messages_max = 3;
    return o;
  }
};

TEST_F(ServiceSimSmallBuffer, UnackedReliableBufferOverflowClosesWith1008) {
  WsClientOptions o;
  o.kind = WsClientKind::kReliable;
  o.service = sim::Address{"service", 80};
  o.access_token = Token("r", {}, {"g"});
  o.auto_sequence_ack = false;
  WsClient r(*client_host_, "r", o);
  r.Connect();
  Run();
  for (int i = 0; i < 4; ++i) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m", "s");
  }
  Run();
  auto closed = Of(r, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1008);
  EXPECT_EQ(Of(r, Observation::Kind::kGroupMessage).size(), 3u);
}

}  // namespace
}  // namespace wpsim::service

namespace wpsim::service {
namespace {

TEST_F(ServiceSim, RestSendToAllWithAFilterReachesOnlyMatchingConnections) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("alice", {}, {"vip"}));
  WsClient& b = Client("b", WsClientKind::kJson, Token("bob"));
  WsClient& c = Client("c", WsClientKind::kJson, Token("carol", {}, {"vip"}));
  a.Connect();
  b.Connect();
  c.Connect();
  Run();
  Rest().Call("POST",
              "/api/hubs/hub/:send?filter=" +
                  protocol::http::PercentEncode("'vip' in groups and userId ne 'carol'"),
              "text/plain", "for vips", "filtered");
  Rest().Call("POST", "/api/hubs/hub/:send?filter=" + protocol::http::PercentEncode("userId eq"),
              "text/plain", "bad", "bad-filter");
  Run();
  EXPECT_EQ(Of(a, Observation::Kind::kServerMessage).size(), 1u);
  EXPECT_EQ(Of(b, Observation::Kind::kServerMessage).size(), 0u);
  EXPECT_EQ(Of(c, Observation::Kind::kServerMessage).size(), 0u);
  ASSERT_EQ(Rest().observations().size(), 2u);
  EXPECT_EQ(Rest().observations()[0].http_status, 202);
  EXPECT_EQ(Rest().observations()[1].http_status, 400);
}

TEST_F(ServiceSim, RestAddToGroupsWithAFilterJoinsOnlyMatchingConnections) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("alice"));
  WsClient& b = Client("b", WsClientKind::kJson, Token("bob"));
  a.Connect();
  b.Connect();
  Run();
  Rest().Call("POST", "/api/hubs/hub/:addToGroups", "application/json",
              R"({"groups":["g1","g2"],"filter":"userId eq 'bob'"})", "add");
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/g2/:send", "text/plain", "hi", "send");
  Run();
  EXPECT_EQ(Rest().observations()[0].http_status, 200);
  EXPECT_EQ(Of(a, Observation::Kind::kGroupMessage).size(), 0u);
  EXPECT_EQ(Of(b, Observation::Kind::kGroupMessage).size(), 1u);
}

}  // namespace
}  // namespace wpsim::service
