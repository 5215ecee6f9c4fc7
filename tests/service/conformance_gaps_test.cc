// Simulation tests for the docs/conformance.md rows that had no GoogleTest yet: the service and
// simulated clients run on a SimNetwork, and each test asserts the exact status, close code, ack
// error or (non-)delivery the rule demands. Test names say the rule; the case IDs are in the
// comments and in docs/conformance.md.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/websocket/stream_connection.h"
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
using testing::ObservationsOf;
namespace wps = protocol::webpubsub;
namespace ws = protocol::websocket;
namespace auth = protocol::auth;

constexpr std::string_view kAudience = "http://service:80/client/hubs/hub";

// A WebSocket client on an arbitrary request target (the WsClient always uses
// /client/hubs/{hub}): records the handshake result, text messages and the close code.
class TargetClient : public ws::ConnectionHandler {
 public:
  TargetClient(sim::Runtime& runtime, std::string target, std::vector<std::string> offer)
      : runtime_(runtime), target_(std::move(target)), offer_(std::move(offer)) {}

  void Connect() {
    runtime_.Dial(sim::Address{"service", 80}, [this](Result<std::unique_ptr<sim::Stream>> s) {
      ASSERT_TRUE(s.ok());
      ws::ClientHandshake handshake =
          ws::ClientHandshake::WithRng("service:80", target_, offer_, rng_);
      connection_ = std::make_unique<ws::Connection>(runtime_, std::move(s.value()), this,
                                                     ws::SessionOptions{}, std::move(handshake),
                                                     protocol::http::Headers{}, sim::Rng(7));
    });
  }

  void OnOpen(ws::Connection&) override { opened = true; }
  void OnMessage(ws::Connection&, ws::Opcode, std::span<const uint8_t> payload) override {
    texts.emplace_back(reinterpret_cast<const char*>(payload.data()), payload.size());
  }
  void OnClosed(ws::Connection&, const ws::CloseInfo& info) override {
    closed = true;
    http_status = info.http_status;
    close_code = info.code;
  }

  bool opened = false;
  bool closed = false;
  int http_status = 0;
  uint16_t close_code = 0;
  std::vector<std::string> texts;

 private:
  sim::Runtime& runtime_;
  std::string target_;
  std::vector<std::string> offer_;
  sim::Rng rng_{42};
  std::unique_ptr<ws::Connection> connection_;
};

// Sends raw bytes on a fresh stream and collects everything the service answers.
class RawHttpClient : public sim::StreamHandler {
 public:
  RawHttpClient(sim::Runtime& runtime, std::string request)
      : runtime_(runtime), request_(std::move(request)) {}
  void Send() {
    runtime_.Dial(sim::Address{"service", 80}, [this](Result<std::unique_ptr<sim::Stream>> s) {
      ASSERT_TRUE(s.ok());
      stream_ = std::move(s.value());
      stream_->SetHandler(this);
      stream_->Write(std::span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(request_.data()), request_.size()));
    });
  }
  void OnData(std::span<const uint8_t> data) override {
    response.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void OnEnd() override { ended = true; }
  void OnClosed(sim::CloseReason, std::string_view) override { ended = true; }

  std::string response;
  bool ended = false;

 private:
  sim::Runtime& runtime_;
  std::string request_;
  std::unique_ptr<sim::Stream> stream_;
};

class ServiceConformanceSim : public testing::ServiceSimTest {
 protected:
  void SetUp() override {
    ServiceSimTest::SetUp();
    StartService();
  }

  // A token whose payload is exactly `payload` (signed with the service's key).
  static std::string SignedToken(const nlohmann::ordered_json& payload) {
    return auth::Sign(payload.dump(), kDefaultAccessKey);
  }

  // A second client that recovers `original`'s reliable connection explicitly (the way
  // conformance/runner.cc does): it dials with awps_connection_id / awps_reconnection_token.
  WsClient& Recoverer(std::string name, const WsClient& original) {
    const auto connected = ObservationsOf(original, Observation::Kind::kConnected);
    EXPECT_EQ(connected.size(), 1u);
    WsClientOptions o = WsOptions(WsClientKind::kReliable, "");
    o.auto_recover = false;
    o.auto_sequence_ack = false;
    o.extra_query = "awps_connection_id=" + protocol::http::PercentEncode(original.connection_id()) +
                    "&awps_reconnection_token=" +
                    protocol::http::PercentEncode(
                        connected.empty() ? std::string("none") : connected[0]->reconnection_token);
    return Client(std::move(name), o);
  }

  std::vector<int> RestStatuses() {
    std::vector<int> out;
    for (const Observation& o : Rest().observations()) out.push_back(o.http_status);
    return out;
  }

  // Connects a token client and returns the status of the refused handshake (0 if it opened).
  int HandshakeStatus(const std::string& token) {
    WsClient& c = Client("c" + std::to_string(ws_clients_.size()), WsClientKind::kJson, token);
    c.Connect();
    Run();
    auto failed = ObservationsOf(c, Observation::Kind::kHandshakeFailed);
    if (failed.empty()) return ObservationsOf(c, Observation::Kind::kConnected).empty() ? -1 : 0;
    return failed[0]->http_status;
  }

  static std::vector<std::string> Texts(const std::vector<const Observation*>& messages) {
    std::vector<std::string> out;
    for (const Observation* o : messages) out.emplace_back(o->payload.data.view());
    return out;
  }

  static std::vector<uint64_t> SequenceIds(const std::vector<const Observation*>& messages) {
    std::vector<uint64_t> out;
    for (const Observation* o : messages) out.push_back(o->sequence_id.value_or(0));
    return out;
  }
};

// --- AUTH: client tokens -------------------------------------------------------------------

// AUTH-002
TEST_F(ServiceConformanceSim, NotYetValidTokenIsRefusedWith401) {
  nlohmann::ordered_json p;
  p["iat"] = Now();
  p["nbf"] = Now() + 600;  // beyond the 300 s clock skew
  p["exp"] = Now() + 3600;
  p["aud"] = kAudience;
  p["sub"] = "a";
  EXPECT_EQ(HandshakeStatus(SignedToken(p)), 401);
}

// AUTH-002 (the other side: nbf within the clock skew is accepted)
TEST_F(ServiceConformanceSim, NotBeforeWithinTheClockSkewIsAccepted) {
  nlohmann::ordered_json p;
  p["iat"] = Now();
  p["nbf"] = Now() + 60;
  p["exp"] = Now() + 3600;
  p["aud"] = kAudience;
  p["sub"] = "a";
  EXPECT_EQ(HandshakeStatus(SignedToken(p)), 0);
}

// AUTH-004
TEST_F(ServiceConformanceSim, TokenForAnotherHubIsRefusedWith401) {
  auth::ClientTokenOptions o;
  o.user_id = "a";
  o.issued_at = Now();
  o.expires_at = Now() + 3600;
  EXPECT_EQ(HandshakeStatus(auth::BuildClientToken(cs_, "otherhub", o)), 401);
  EXPECT_EQ(HandshakeStatus(auth::BuildClientTokenForAudience(
                "http://elsewhere:80/client/hubs/hub", o, kDefaultAccessKey)),
            401);
  // Control: the right audience opens.
  EXPECT_EQ(HandshakeStatus(auth::BuildClientToken(cs_, "hub", o)), 0);
}

// AUTH-005
TEST_F(ServiceConformanceSim, UnsecuredAlgNoneTokenIsRefusedWith401) {
  const std::string header = R"({"alg":"none","typ":"JWT"})";
  nlohmann::ordered_json p;
  p["iat"] = Now();
  p["exp"] = Now() + 3600;
  p["aud"] = kAudience;
  p["sub"] = "a";
  const std::string payload = p.dump();
  const std::string token =
      Base64UrlEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(header.data()),
                                               header.size())) +
      "." +
      Base64UrlEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()),
                                               payload.size())) +
      ".";
  EXPECT_EQ(HandshakeStatus(token), 401);
}

// AUTH-006
TEST_F(ServiceConformanceSim, TokenWithATamperedSignatureIsRefusedWith401) {
  std::string token = Token("a");
  const size_t sig = token.rfind('.') + 1;
  token[sig] = token[sig] == 'A' ? 'B' : 'A';  // the first character carries 6 signature bits
  EXPECT_EQ(HandshakeStatus(token), 401);
  // A payload changed after signing fails the same way.
  std::string other = Token("a");
  const size_t dot = other.find('.');
  other[dot + 1] = other[dot + 1] == 'e' ? 'f' : 'e';
  EXPECT_EQ(HandshakeStatus(other), 401);
}

// AUTH-007
TEST_F(ServiceConformanceSim, MalformedTokensAreRefusedWith401) {
  EXPECT_EQ(HandshakeStatus("not-a-jwt"), 401);
  EXPECT_EQ(HandshakeStatus("a.b"), 401);
  EXPECT_EQ(HandshakeStatus("%%%.***.!!!"), 401);
  const std::string good = Token("a");
  EXPECT_EQ(HandshakeStatus(good + ".extra"), 401);
}

// AUTH-008
TEST_F(ServiceConformanceSim, TokenWithoutExpIsRefusedWith401) {
  nlohmann::ordered_json p;
  p["iat"] = Now();
  p["aud"] = kAudience;
  p["sub"] = "a";
  EXPECT_EQ(HandshakeStatus(SignedToken(p)), 401);
  p["exp"] = Now() + 3600;  // control: the same token with exp opens
  EXPECT_EQ(HandshakeStatus(SignedToken(p)), 0);
}

// AUTH-011
TEST_F(ServiceConformanceSim, RoleClaimMayBeASingleString) {
  nlohmann::ordered_json p;
  p["role"] = "webpubsub.joinLeaveGroup";
  p["iat"] = Now();
  p["exp"] = Now() + 3600;
  p["aud"] = kAudience;
  p["sub"] = "a";
  WsClient& c = Client("c", WsClientKind::kJson, SignedToken(p));
  c.Connect();
  Run();
  ASSERT_EQ(ObservationsOf(c, Observation::Kind::kConnected).size(), 1u);
  ASSERT_TRUE(c.JoinGroup("g", 1).ok());
  ASSERT_TRUE(c.SendToGroup("g", wps::Payload::Text("x"), 2, false).ok());  // no send role
  Run();
  auto acks = ObservationsOf(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_TRUE(acks[0]->success);
  EXPECT_EQ(acks[1]->error_name, "Forbidden");
}

// AUTH-014
TEST_F(ServiceConformanceSim, EstablishedConnectionOutlivesItsToken) {
  const std::string token = Token("a", {}, {}, 10);
  WsClient& c = Client("c", WsClientKind::kJson, token);
  c.Connect();
  Run();
  ASSERT_EQ(ObservationsOf(c, Observation::Kind::kConnected).size(), 1u);
  Run(420 * sim::kSecond);  // exp (10 s) plus the 300 s clock skew are long past
  ASSERT_TRUE(c.open());
  Rest().Call("POST", "/api/hubs/hub/:send", "text/plain", "still here", "send");
  ASSERT_TRUE(c.Ping().ok());
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{202});
  EXPECT_EQ(Texts(ObservationsOf(c, Observation::Kind::kServerMessage)),
            std::vector<std::string>{"still here"});
  EXPECT_EQ(ObservationsOf(c, Observation::Kind::kPong).size(), 1u);
  EXPECT_TRUE(ObservationsOf(c, Observation::Kind::kClosed).empty());
  // The same token no longer opens a new connection.
  EXPECT_EQ(HandshakeStatus(token), 401);
}

// --- CONN: client endpoints ---------------------------------------------------------------

// CONN-001 (second form, hub case-insensitive)
TEST_F(ServiceConformanceSim, LegacyClientEndpointWithHubQueryConnectsToTheSameHub) {
  TargetClient legacy(*client_host_,
                      "/client/?hub=HUB&access_token=" + protocol::http::PercentEncode(Token("l")),
                      {std::string(wps::kJsonSubprotocol)});
  legacy.Connect();
  Run();
  ASSERT_TRUE(legacy.opened);
  ASSERT_EQ(legacy.texts.size(), 1u);
  EXPECT_NE(legacy.texts[0].find(R"("event":"connected")"), std::string::npos) << legacy.texts[0];
  EXPECT_NE(legacy.texts[0].find(R"("userId":"l")"), std::string::npos) << legacy.texts[0];
  Rest().Call("POST", "/api/hubs/hub/users/l/:send", "text/plain", "legacy hello", "send");
  Run();
  ASSERT_EQ(legacy.texts.size(), 2u);
  EXPECT_NE(legacy.texts[1].find("legacy hello"), std::string::npos) << legacy.texts[1];
}

// CONN-001 (the legacy form still needs the hub parameter)
TEST_F(ServiceConformanceSim, LegacyClientEndpointWithoutHubIsRefusedWith400) {
  TargetClient legacy(*client_host_,
                      "/client/?access_token=" + protocol::http::PercentEncode(Token("l")),
                      {std::string(wps::kJsonSubprotocol)});
  legacy.Connect();
  Run();
  EXPECT_FALSE(legacy.opened);
  EXPECT_EQ(legacy.http_status, 400);
}

// CONN-002
TEST_F(ServiceConformanceSim, PlainHttpRequestToTheClientEndpointIsRefusedWith400) {
  RawHttpClient plain(*client_host_, "GET /client/hubs/hub?access_token=" +
                                         protocol::http::PercentEncode(Token("a")) +
                                         " HTTP/1.1\r\nHost: service:80\r\n\r\n");
  plain.Send();
  RawHttpClient legacy(*client_host_, "GET /client/?hub=hub&access_token=" +
                                          protocol::http::PercentEncode(Token("a")) +
                                          " HTTP/1.1\r\nHost: service:80\r\n\r\n");
  legacy.Send();
  Run();
  EXPECT_EQ(plain.response.substr(0, 13), "HTTP/1.1 400 ") << plain.response;
  EXPECT_EQ(legacy.response.substr(0, 13), "HTTP/1.1 400 ") << legacy.response;
}

// CONN-006
TEST_F(ServiceConformanceSim, RawClientFrameWithoutAnEventHandlerClosesWith1011) {
  WsClient& raw = Client("raw", WsClientKind::kRaw, Token("r"));
  raw.Connect();
  Run();
  ASSERT_EQ(ObservationsOf(raw, Observation::Kind::kOpened).size(), 1u);
  ASSERT_TRUE(raw.SendRawText("hello").ok());
  Run();
  auto closed = ObservationsOf(raw, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1011);
  Rest().Call("HEAD", "/api/hubs/hub/users/r", "", "", "exists");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{404});
}

// --- JSON ---------------------------------------------------------------------------------

// JSON-006
TEST_F(ServiceConformanceSim, EventWithoutAnEventHandlerIsAckedInternalServerError) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("a"));
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendEvent("myevent", wps::Payload::Text("x"), 3).ok());
  Run();
  auto acks = ObservationsOf(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0]->ack_id, 3u);
  EXPECT_FALSE(acks[0]->success);
  EXPECT_EQ(acks[0]->error_name, "InternalServerError");
  EXPECT_TRUE(c.open());
}

// --- REL: reliable subprotocol ------------------------------------------------------------

// REL-003 (end to end)
TEST_F(ServiceConformanceSim, RecoveryReplaysEveryUnackedMessageInOrderBeforeNewTraffic) {
  WsClientOptions o = WsOptions(WsClientKind::kReliable, Token("r", {}, {"g"}));
  o.auto_recover = false;
  o.auto_sequence_ack = false;
  WsClient& r = Client("r", o);
  r.Connect();
  Run();
  for (int i = 0; i < 3; ++i) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m" + std::to_string(i), "s");
  }
  Run();
  ASSERT_EQ(SequenceIds(ObservationsOf(r, Observation::Kind::kGroupMessage)),
            (std::vector<uint64_t>{1, 2, 3}));
  ASSERT_TRUE(r.SequenceAck(1).ok());  // releases m0 only
  Run();
  r.Kill();
  Run(100 * sim::kMillisecond);
  for (int i = 3; i < 5; ++i) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m" + std::to_string(i), "s");
  }
  Run();
  WsClient& again = Recoverer("again", r);
  again.Connect();
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m5", "s");
  Run();
  EXPECT_TRUE(ObservationsOf(again, Observation::Kind::kClosed).empty());
  auto msgs = ObservationsOf(again, Observation::Kind::kGroupMessage);
  EXPECT_EQ(SequenceIds(msgs), (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(Texts(msgs), (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
  EXPECT_TRUE(ObservationsOf(again, Observation::Kind::kConnected).empty());
  // Each message once: the client drops repeats silently but records them.
  EXPECT_TRUE(ObservationsOf(again, Observation::Kind::kSequenceRepeated).empty());
}

// REL-005
TEST_F(ServiceConformanceSim, GroupMembershipSurvivesARecovery) {
  WsClient& r = Client("r", WsClientKind::kReliable, Token("r", {"webpubsub.joinLeaveGroup"}));
  r.Connect();
  Run();
  ASSERT_TRUE(r.JoinGroup("joined", 1).ok());
  Run();
  ASSERT_EQ(ObservationsOf(r, Observation::Kind::kAck).size(), 1u);
  r.Kill();
  Rest().Call("POST", "/api/hubs/hub/groups/joined/:send", "text/plain", "while away", "s1");
  Run(5 * sim::kSecond);
  ASSERT_EQ(ObservationsOf(r, Observation::Kind::kRecovered).size(), 1u);
  Rest().Call("POST", "/api/hubs/hub/groups/joined/:send", "text/plain", "after", "s2");
  Rest().Call("HEAD", "/api/hubs/hub/groups/joined", "", "", "exists");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{202, 202, 200}));
  EXPECT_EQ(Texts(ObservationsOf(r, Observation::Kind::kGroupMessage)),
            (std::vector<std::string>{"while away", "after"}));
}

// REL-008 (within the window)
TEST_F(ServiceConformanceSim, DroppedReliableConnectionIsRecoverableWithinTheWindow) {
  WsClientOptions o = WsOptions(WsClientKind::kReliable, Token("r", {}, {"g"}));
  o.auto_recover = false;
  WsClient& r = Client("r", o);
  r.Connect();
  Run();
  r.Kill();
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "kept", "s");
  Run(28 * sim::kSecond);
  Rest().Call("HEAD", "/api/hubs/hub/connections/" + r.connection_id(), "", "", "exists");
  Run();
  WsClient& again = Recoverer("again", r);
  again.Connect();
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{202, 200}));
  EXPECT_EQ(ObservationsOf(again, Observation::Kind::kOpened).size(), 1u);
  EXPECT_TRUE(ObservationsOf(again, Observation::Kind::kClosed).empty());
  EXPECT_EQ(Texts(ObservationsOf(again, Observation::Kind::kGroupMessage)),
            std::vector<std::string>{"kept"});
}

// REL-008 (after the window)
TEST_F(ServiceConformanceSim, DroppedReliableConnectionIsNotRecoverableAfterTheWindow) {
  WsClientOptions o = WsOptions(WsClientKind::kReliable, Token("r", {}, {"g"}));
  o.auto_recover = false;
  WsClient& r = Client("r", o);
  r.Connect();
  Run();
  r.Kill();
  Run(31 * sim::kSecond);
  Rest().Call("HEAD", "/api/hubs/hub/connections/" + r.connection_id(), "", "", "exists");
  Run();
  WsClient& again = Recoverer("again", r);
  again.Connect();
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{404});
  auto closed = ObservationsOf(again, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1008);
}

// REL-009
TEST_F(ServiceConformanceSim, ReliableConnectionClosedWith1000IsNotRecoverable) {
  WsClientOptions o = WsOptions(WsClientKind::kReliable, Token("r", {}, {"g"}));
  o.auto_recover = false;
  WsClient& r = Client("r", o);
  r.Connect();
  Run();
  r.Close(1000);
  Run();
  ASSERT_EQ(ObservationsOf(r, Observation::Kind::kClosed).size(), 1u);
  Rest().Call("HEAD", "/api/hubs/hub/connections/" + r.connection_id(), "", "", "exists");
  Run();
  WsClient& again = Recoverer("again", r);
  again.Connect();
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{404});
  auto closed = ObservationsOf(again, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1008);
}

// REL-012
TEST_F(ServiceConformanceSim, AckIdCacheSurvivesRecovery) {
  WsClient& r = Client("r", WsClientKind::kReliable,
                       Token("r", {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}));
  r.Connect();
  Run();
  ASSERT_TRUE(r.JoinGroup("g", 1).ok());
  ASSERT_TRUE(r.SendToGroup("g", wps::Payload::Text("once"), 7, false).ok());
  Run();
  r.Kill();
  Run(5 * sim::kSecond);
  ASSERT_EQ(ObservationsOf(r, Observation::Kind::kRecovered).size(), 1u);
  ASSERT_TRUE(r.SendToGroup("g", wps::Payload::Text("once"), 7, false).ok());
  ASSERT_TRUE(r.SendToGroup("g", wps::Payload::Text("new"), 8, false).ok());
  Run();
  auto acks = ObservationsOf(r, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_TRUE(acks[1]->success);
  EXPECT_EQ(acks[2]->ack_id, 7u);
  EXPECT_FALSE(acks[2]->success);
  EXPECT_EQ(acks[2]->error_name, "Duplicate");
  EXPECT_TRUE(acks[3]->success);
  EXPECT_EQ(Texts(ObservationsOf(r, Observation::Kind::kGroupMessage)),
            (std::vector<std::string>{"once", "new"}));
}

// --- RESTOP: REST operations ----------------------------------------------------------------

// RESTOP-003
TEST_F(ServiceConformanceSim, AddingAnUnknownConnectionToAGroupIs404) {
  Rest().Call("PUT", "/api/hubs/hub/groups/g/connections/0123456789abcdef0123456789abcdef", "",
              "", "add");
  Run();
  ASSERT_EQ(RestStatuses(), std::vector<int>{404});
  EXPECT_NE(Rest().observations()[0].text.find("Error.Connection.NotExisted"), std::string::npos)
      << Rest().observations()[0].text;
}

// RESTOP-004
TEST_F(ServiceConformanceSim, RestAddAndRemoveConnectionChangeGroupDelivery) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("alice"));
  WsClient& b = Client("b", WsClientKind::kJson, Token("bob"));
  a.Connect();
  b.Connect();
  Run();
  Rest().Call("PUT", "/api/hubs/hub/groups/g/connections/" + a.connection_id(), "", "", "add");
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "one", "s1");
  Rest().Call("DELETE", "/api/hubs/hub/groups/g/connections/" + a.connection_id(), "", "",
              "remove");
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "two", "s2");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{200, 202, 204, 202}));
  EXPECT_EQ(Texts(ObservationsOf(a, Observation::Kind::kGroupMessage)),
            std::vector<std::string>{"one"});
  EXPECT_TRUE(ObservationsOf(b, Observation::Kind::kGroupMessage).empty());
}

// RESTOP-011
TEST_F(ServiceConformanceSim, RestUserGroupOperationsActOnEveryConnectionOfTheUser) {
  WsClient& a1 = Client("a1", WsClientKind::kJson, Token("alice"));
  WsClient& a2 = Client("a2", WsClientKind::kJson, Token("alice"));
  WsClient& b = Client("b", WsClientKind::kJson, Token("bob"));
  a1.Connect();
  a2.Connect();
  b.Connect();
  Run();
  Rest().Call("PUT", "/api/hubs/hub/users/alice/groups/g1", "", "", "add1");
  Rest().Call("PUT", "/api/hubs/hub/users/alice/groups/g2", "", "", "add2");
  Rest().Call("POST", "/api/hubs/hub/groups/g1/:send", "text/plain", "g1-a", "s");
  Rest().Call("POST", "/api/hubs/hub/groups/g2/:send", "text/plain", "g2-a", "s");
  Rest().Call("DELETE", "/api/hubs/hub/users/alice/groups", "", "", "removeall");
  Rest().Call("POST", "/api/hubs/hub/groups/g1/:send", "text/plain", "g1-b", "s");
  Rest().Call("POST", "/api/hubs/hub/groups/g2/:send", "text/plain", "g2-b", "s");
  Rest().Call("HEAD", "/api/hubs/hub/groups/g1", "", "", "exists");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{200, 200, 202, 202, 204, 202, 202, 404}));
  const std::vector<std::string> expected = {"g1-a", "g2-a"};
  EXPECT_EQ(Texts(ObservationsOf(a1, Observation::Kind::kGroupMessage)), expected);
  EXPECT_EQ(Texts(ObservationsOf(a2, Observation::Kind::kGroupMessage)), expected);
  EXPECT_TRUE(ObservationsOf(b, Observation::Kind::kGroupMessage).empty());
}

// RESTOP-012 (group)
TEST_F(ServiceConformanceSim, CloseGroupConnectionsClosesOnlyNonExcludedMembers) {
  WsClient& m1 = Client("m1", WsClientKind::kJson, Token("u1", {}, {"g"}));
  WsClient& m2 = Client("m2", WsClientKind::kJson, Token("u2", {}, {"g"}));
  WsClient& m3 = Client("m3", WsClientKind::kJson, Token("u3", {}, {"g"}));
  WsClient& out = Client("out", WsClientKind::kJson, Token("u4", {}, {"other"}));
  for (WsClient* c : {&m1, &m2, &m3, &out}) c->Connect();
  Run();
  Rest().Call("POST",
              "/api/hubs/hub/groups/g/:closeConnections?excluded=" + m2.connection_id() +
                  "&reason=bye",
              "", "", "close");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{204});
  for (WsClient* c : {&m1, &m3}) {
    auto closed = ObservationsOf(*c, Observation::Kind::kClosed);
    ASSERT_EQ(closed.size(), 1u) << c->name();
    EXPECT_EQ(closed[0]->close_code, 1000);
    auto disconnected = ObservationsOf(*c, Observation::Kind::kDisconnected);
    ASSERT_EQ(disconnected.size(), 1u) << c->name();
    EXPECT_EQ(disconnected[0]->text, "bye");
  }
  EXPECT_TRUE(m2.open());
  EXPECT_TRUE(out.open());
  EXPECT_TRUE(ObservationsOf(m2, Observation::Kind::kClosed).empty());
  EXPECT_TRUE(ObservationsOf(out, Observation::Kind::kClosed).empty());
}

// RESTOP-012 (user)
TEST_F(ServiceConformanceSim, CloseUserConnectionsClosesOnlyThatUsersNonExcludedConnections) {
  WsClient& a1 = Client("a1", WsClientKind::kJson, Token("alice"));
  WsClient& a2 = Client("a2", WsClientKind::kJson, Token("alice"));
  WsClient& a3 = Client("a3", WsClientKind::kJson, Token("alice"));
  WsClient& b = Client("b", WsClientKind::kJson, Token("bob"));
  for (WsClient* c : {&a1, &a2, &a3, &b}) c->Connect();
  Run();
  Rest().Call("POST", "/api/hubs/hub/users/alice/:closeConnections?excluded=" + a3.connection_id(),
              "", "", "close");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{204});
  for (WsClient* c : {&a1, &a2}) {
    auto closed = ObservationsOf(*c, Observation::Kind::kClosed);
    ASSERT_EQ(closed.size(), 1u) << c->name();
    EXPECT_EQ(closed[0]->close_code, 1000);
  }
  EXPECT_TRUE(a3.open());
  EXPECT_TRUE(b.open());
}

// RESTOP-012 (all)
TEST_F(ServiceConformanceSim, CloseAllConnectionsClosesEveryNonExcludedConnection) {
  WsClient& a = Client("a", WsClientKind::kJson, Token("alice"));
  WsClient& b = Client("b", WsClientKind::kRaw, Token("bob"));
  WsClient& c = Client("c", WsClientKind::kJson, Token("carol"));
  WsClient& d = Client("d", WsClientKind::kJson, Token("dave"));
  for (WsClient* x : {&a, &b, &c, &d}) x->Connect();
  Run();
  Rest().Call("POST",
              "/api/hubs/hub/:closeConnections?excluded=" + c.connection_id() +
                  "&excluded=" + d.connection_id(),
              "", "", "close");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{204});
  for (WsClient* x : {&a, &b}) {
    auto closed = ObservationsOf(*x, Observation::Kind::kClosed);
    ASSERT_EQ(closed.size(), 1u) << x->name();
    EXPECT_EQ(closed[0]->close_code, 1000);
  }
  EXPECT_TRUE(c.open());
  EXPECT_TRUE(d.open());
}

// --- RESTSVC ------------------------------------------------------------------------------

// RESTSVC-002 (400 part)
TEST_F(ServiceConformanceSim, InvalidJsonBodyWithJsonContentTypeIs400AndDeliversNothing) {
  WsClient& c = Client("c", WsClientKind::kJson, Token("a"));
  c.Connect();
  Run();
  Rest().Call("POST", "/api/hubs/hub/:send", "application/json", "{not json", "bad");
  Rest().Call("POST", "/api/hubs/hub/users/a/:send", "application/json", "{\"a\":", "bad2");
  Rest().Call("POST", "/api/hubs/hub/:send", "application/json", "[1,2]", "good");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{400, 400, 202}));
  auto msgs = ObservationsOf(c, Observation::Kind::kServerMessage);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]->payload, wps::Payload::Json("[1,2]"));
}

// RESTSVC-006 (reliable replay)
TEST_F(ServiceConformanceSim, MessageTtlDropsMessagesHeldForADetachedReliableConnection) {
  WsClientOptions o = WsOptions(WsClientKind::kReliable, Token("r", {}, {"g"}));
  o.auto_recover = false;
  WsClient& r = Client("r", o);
  r.Connect();
  Run();
  r.Kill();
  Run(100 * sim::kMillisecond);
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send?messageTtlSeconds=5", "text/plain", "short",
              "s1");
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send?messageTtlSeconds=60", "text/plain", "long",
              "s2");
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "forever", "s3");
  Run(10 * sim::kSecond);
  WsClient& again = Recoverer("again", r);
  again.Connect();
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{202, 202, 202}));
  EXPECT_TRUE(ObservationsOf(again, Observation::Kind::kClosed).empty());
  auto msgs = ObservationsOf(again, Observation::Kind::kGroupMessage);
  EXPECT_EQ(Texts(msgs), (std::vector<std::string>{"long", "forever"}));
  EXPECT_EQ(SequenceIds(msgs), (std::vector<uint64_t>{2, 3}));  // 1 ("short") is skipped
}

}  // namespace
}  // namespace wpsim::service
