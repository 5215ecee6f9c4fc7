// Simulation tests for issue 20 (hardening `wpsim serve`): input from outside the service (REST
// parameters, event-handler answers, client bytes) must never reach an assertion. Each test
// drives the service into a path that used to abort it and checks the documented answer, with a
// bystander connection that must stay open and keep receiving.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clients/app_server.h"
#include "clients/mqtt_client.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/webpubsub/payload.h"
#include "protocol/websocket/frame.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_test_util.h"

namespace wpsim::service {
namespace {

using clients::AppServer;
using clients::MqttClient;
using clients::MqttClientOptions;
using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
using testing::ObservationsOf;
namespace auth = protocol::auth;
namespace mqtt = protocol::mqtt;
namespace wps = protocol::webpubsub;

// 200 characters with 2-byte code points on either side of byte 123, so that a cut at a byte
// count rather than at a code point boundary would produce invalid UTF-8.
std::string LongReason() {
  std::string r(100, 'r');
  for (int i = 0; i < 50; ++i) r += "\xc3\xa9";  // "é"
  return r;
}

// Sends raw bytes on a fresh stream and collects everything the service answers.
class RawClient : public sim::StreamHandler {
 public:
  RawClient(sim::Runtime& runtime, std::string bytes) : runtime_(runtime), bytes_(std::move(bytes)) {}
  void Send() {
    runtime_.Dial(sim::Address{"service", 80}, [this](Result<std::unique_ptr<sim::Stream>> s) {
      ASSERT_TRUE(s.ok());
      stream_ = std::move(s.value());
      stream_->SetHandler(this);
      if (!bytes_.empty()) stream_->Write(AsBytes(bytes_));
    });
  }
  void Write(std::string_view more) { stream_->Write(AsBytes(more)); }
  void OnData(std::span<const uint8_t> data) override {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void OnEnd() override { ended = true; }
  void OnClosed(sim::CloseReason, std::string_view) override { ended = true; }
  // The status codes of the HTTP responses received so far, in order.
  std::vector<int> Statuses() const {
    std::vector<int> out;
    for (size_t at = received.find("HTTP/1.1 "); at != std::string::npos;
         at = received.find("HTTP/1.1 ", at + 1)) {
      out.push_back(std::stoi(received.substr(at + 9, 3)));
    }
    return out;
  }

  std::string received;
  bool ended = false;

 private:
  sim::Runtime& runtime_;
  std::string bytes_;
  std::unique_ptr<sim::Stream> stream_;
};

class HardeningSim : public ::testing::Test {
 protected:
  void SetUp() override {
    service_host_ = net_.AddHost("service").value();
    client_host_ = net_.AddHost("client").value();
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(kDefaultAccessKey);
  }

  void StartService() {
    service_ = std::make_unique<Service>(*service_host_, options_);
    ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
  }

  std::string Token(std::string hub, std::optional<std::string> user,
                    std::vector<std::string> groups = {},
                    auth::ClientType type = auth::ClientType::kDefault) {
    auth::ClientTokenOptions o;
    o.user_id = std::move(user);
    o.roles = std::vector<std::string>{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};
    if (!groups.empty()) o.groups = groups;
    o.issued_at = client_host_->UnixNow() / sim::kSecond;
    o.expires_at = o.issued_at + 3600;
    o.client_type = type;
    return auth::BuildClientToken(cs_, hub, o);
  }

  WsClient& Client(std::string name, std::string user, std::vector<std::string> groups = {},
                   std::string hub = "hub") {
    if (!service_) StartService();
    WsClientOptions o;
    o.kind = WsClientKind::kJson;
    o.service = sim::Address{"service", 80};
    o.hub = hub;
    o.access_token = Token(hub, std::move(user), std::move(groups));
    clients_.push_back(std::make_unique<WsClient>(*client_host_, std::move(name), std::move(o)));
    return *clients_.back();
  }

  clients::RestClient& Rest() {
    if (!service_) StartService();
    if (!rest_) {
      clients::RestClientOptions o;
      o.service = sim::Address{"service", 80};
      o.connection_string = cs_;
      rest_ = std::make_unique<clients::RestClient>(*client_host_, "rest", o);
    }
    return *rest_;
  }

  std::vector<int> RestStatuses() {
    std::vector<int> out;
    for (const Observation& o : Rest().observations()) out.push_back(o.http_status);
    return out;
  }

  void Run(sim::Nanos duration = sim::kSecond) { testing::RunNetwork(net_, duration); }

  RawClient& Raw(std::string bytes) {
    if (!service_) StartService();
    raw_.push_back(std::make_unique<RawClient>(*client_host_, std::move(bytes)));
    raw_.back()->Send();
    return *raw_.back();
  }

  // A WebSocket upgrade request for a json client of `hub` (raw bytes, for clients that then
  // misbehave: never answer pings, announce huge frames).
  std::string UpgradeRequest(const std::string& hub = "hub") {
    return "GET /client/hubs/" + hub + "?access_token=" + Token(hub, "raw") +
           " HTTP/1.1\r\nHost: service\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Protocol: json.webpubsub.azure.v1\r\n\r\n";
  }

  // A REST bearer token for `url` signed with the service's key.
  std::string RestToken(std::string_view url) {
    const int64_t now = client_host_->UnixNow() / sim::kSecond;
    return auth::BuildRestToken(url, now, now + 3600, kDefaultAccessKey);
  }

  // `c` was closed by the service with 1000, the `disconnected` message carries `reason` whole
  // and the Close frame its first 123 bytes, cut at a code point boundary.
  static void ExpectClosedWithReason(const WsClient& c, const std::string& reason) {
    auto disconnected = ObservationsOf(c, Observation::Kind::kDisconnected);
    ASSERT_EQ(disconnected.size(), 1u) << c.name();
    EXPECT_EQ(disconnected[0]->text, reason);
    auto closed = ObservationsOf(c, Observation::Kind::kClosed);
    ASSERT_EQ(closed.size(), 1u) << c.name();
    EXPECT_EQ(closed[0]->close_code, 1000);
    EXPECT_TRUE(closed[0]->by_peer);
    EXPECT_EQ(closed[0]->text, protocol::websocket::CloseReasonForFrame(reason));
    EXPECT_LE(closed[0]->text.size(), 123u);
  }

  // The bystander is still open and receives a message sent to the whole hub after the abuse.
  void ExpectBystanderServed(WsClient& bystander) {
    const size_t before = ObservationsOf(bystander, Observation::Kind::kServerMessage).size();
    Rest().Call("POST", "/api/hubs/" + bystander_hub_ + "/:send", "text/plain", "still here",
                "bystander");
    Run();
    EXPECT_TRUE(bystander.open());
    EXPECT_TRUE(ObservationsOf(bystander, Observation::Kind::kClosed).empty());
    auto msgs = ObservationsOf(bystander, Observation::Kind::kServerMessage);
    ASSERT_EQ(msgs.size(), before + 1);
    EXPECT_EQ(msgs.back()->payload.data.view(), "still here");
  }

  ServiceOptions options_;
  sim::SimNetwork net_;
  sim::SimRuntime* service_host_ = nullptr;
  sim::SimRuntime* client_host_ = nullptr;
  std::unique_ptr<Service> service_;
  auth::ConnectionString cs_;
  std::vector<std::unique_ptr<WsClient>> clients_;
  std::unique_ptr<clients::RestClient> rest_;
  std::vector<std::unique_ptr<RawClient>> raw_;
  std::string bystander_hub_ = "bystanders";
};

// --- close reasons longer than a Close frame carries ------------------------------------------

TEST_F(HardeningSim, RestCloseConnectionWithA200CharReasonIs204AndCutsOnlyTheCloseFrame) {
  WsClient& victim = Client("victim", "u1");
  WsClient& bystander = Client("bystander", "b", {}, bystander_hub_);
  victim.Connect();
  bystander.Connect();
  Run();
  const std::string reason = LongReason();
  Rest().Call("DELETE",
              "/api/hubs/hub/connections/" + victim.connection_id() +
                  "?reason=" + protocol::http::PercentEncode(reason),
              "", "", "close");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{204});
  ExpectClosedWithReason(victim, reason);
  ExpectBystanderServed(bystander);
}

TEST_F(HardeningSim, CloseConnectionsAtHubGroupAndUserScopeWithA200CharReasonCutOnlyTheCloseFrame) {
  WsClient& all = Client("all", "u1");
  WsClient& member = Client("member", "u2", {"g"});
  WsClient& user = Client("user", "u3");
  WsClient& bystander = Client("bystander", "b", {}, bystander_hub_);
  for (WsClient* c : {&all, &member, &user, &bystander}) c->Connect();
  Run();
  const std::string reason = LongReason();
  const std::string q = "?reason=" + protocol::http::PercentEncode(reason);
  Rest().Call("POST", "/api/hubs/hub/groups/g/:closeConnections" + q, "", "", "group");
  Run();
  Rest().Call("POST", "/api/hubs/hub/users/u3/:closeConnections" + q, "", "", "user");
  Run();
  Rest().Call("POST", "/api/hubs/hub/:closeConnections" + q, "", "", "hub");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{204, 204, 204}));
  for (WsClient* c : {&all, &member, &user}) ExpectClosedWithReason(*c, reason);
  ExpectBystanderServed(bystander);
}

TEST_F(HardeningSim, CloseReasonThatIsNotUtf8Is400AndClosesNothing) {
  WsClient& victim = Client("victim", "u1");
  WsClient& bystander = Client("bystander", "b", {}, bystander_hub_);
  victim.Connect();
  bystander.Connect();
  Run();
  Rest().Call("DELETE",
              "/api/hubs/hub/connections/" + victim.connection_id() + "?reason=bad%FF%FEend", "",
              "", "close");
  Rest().Call("POST", "/api/hubs/hub/:closeConnections?reason=%C3", "", "", "close-all");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{400, 400}));
  EXPECT_TRUE(victim.open());
  ExpectBystanderServed(bystander);
}

// The crash of issue 20: the event handler fails abuse-protection validation, the MQTT CONNECT
// is refused with a reason carrying the long validation error, and that reason reached the
// WebSocket close uncut.
TEST_F(HardeningSim, MqttConnectRefusedWithALongValidationErrorClosesOnlyThatConnection) {
  const std::string long_path(150, 'p');
  options_.hubs["hub"].event_handlers = {
      {"http://app/" + long_path + "/{event}", "*", {"connect", "connected", "disconnected"}}};
  sim::SimRuntime* app_host = net_.AddHost("app").value();
  clients::AppServerOptions app_options;
  app_options.access_keys = options_.access_keys;
  app_options.validation.status = 400;
  AppServer app(*app_host, "app", app_options);
  ASSERT_TRUE(app.Listen().ok());
  WsClient& bystander = Client("bystander", "b", {}, bystander_hub_);
  bystander.Connect();
  Run();

  MqttClientOptions o;
  o.service = sim::Address{"service", 80};
  o.access_token = Token("hub", "m", {}, auth::ClientType::kMqtt);
  o.version = mqtt::ProtocolVersion::kV5;
  o.connect.client_id = "mqttclient1";
  o.connect.keep_alive = 60;
  MqttClient client(*client_host_, "mqtt", std::move(o));
  client.Connect();
  Run(5 * sim::kSecond);

  auto refused = ObservationsOf(client, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_TRUE(refused[0]->mqtt.has_value());
  EXPECT_EQ(refused[0]->mqtt->packet, "connack");
  ASSERT_FALSE(refused[0]->mqtt->reason_codes.empty());
  EXPECT_GE(static_cast<int>(refused[0]->mqtt->reason_codes[0]), 0x80);
  const std::string connack_reason = refused[0]->mqtt->properties.reason_string.value_or("");
  EXPECT_GT(connack_reason.size(), 123u) << connack_reason;  // the CONNACK carries it whole
  EXPECT_NE(connack_reason.find(long_path), std::string::npos);
  auto closed = ObservationsOf(client, Observation::Kind::kClosed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]->close_code, 1000);
  EXPECT_LE(closed[0]->text.size(), 123u);
  EXPECT_EQ(closed[0]->text, protocol::websocket::CloseReasonForFrame(connack_reason));
  ExpectBystanderServed(bystander);
}

// --- HTTP framing (RFC 9112 §3.2, §3.2.2) -----------------------------------------------------

TEST_F(HardeningSim, AbsoluteFormRestTargetIsRoutedAndItsAudienceIsTheNormalisedUrl) {
  WsClient& c = Client("c", "u");
  c.Connect();
  Run();
  const std::string url = "http://service/api/hubs/hub/:send";
  auto send = [&](const std::string& token) {
    return "POST " + url + " HTTP/1.1\r\nHost: elsewhere\r\nAuthorization: Bearer " + token +
           "\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
  };
  RawClient& good = Raw(send(RestToken(url)));
  // A token for the doubled URL (what a router treating the target as a path would build).
  RawClient& bogus = Raw(send(RestToken("http://elsewhere" + url)));
  Run();
  EXPECT_EQ(good.Statuses(), std::vector<int>{202}) << good.received;
  EXPECT_EQ(bogus.Statuses(), std::vector<int>{401}) << bogus.received;
  auto msgs = ObservationsOf(c, Observation::Kind::kServerMessage);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]->payload.data.view(), "hi");
}

TEST_F(HardeningSim, AbsoluteFormWebSocketUpgradeIsAccepted) {
  StartService();
  const std::string token = Token("hub", "u");
  RawClient& up = Raw("GET http://service/client/hubs/hub?access_token=" + token +
                      " HTTP/1.1\r\nHost: service\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  Run();
  EXPECT_EQ(up.Statuses(), std::vector<int>{101}) << up.received;
}

TEST_F(HardeningSim, MissingEmptyRepeatedOrInvalidHostIs400) {
  WsClient& bystander = Client("bystander", "b", {}, bystander_hub_);
  bystander.Connect();
  Run();
  RawClient& missing = Raw("HEAD /api/health HTTP/1.1\r\n\r\n");
  RawClient& missing10 = Raw("HEAD /api/health HTTP/1.0\r\n\r\n");
  RawClient& empty = Raw("HEAD /api/health HTTP/1.1\r\nHost:\r\n\r\n");
  RawClient& twice = Raw("HEAD /api/health HTTP/1.1\r\nHost: service\r\nHost: service\r\n\r\n");
  RawClient& conflicting =
      Raw("HEAD /api/health HTTP/1.1\r\nHost: service\r\nHost: evil\r\n\r\n");
  RawClient& list = Raw("HEAD /api/health HTTP/1.1\r\nHost: service, evil\r\n\r\n");
  RawClient& fine = Raw("HEAD /api/health HTTP/1.1\r\nHost: service\r\n\r\n");
  Run();
  for (RawClient* r : {&missing, &missing10, &empty, &twice, &conflicting, &list}) {
    EXPECT_EQ(r->Statuses(), std::vector<int>{400}) << r->received;
    EXPECT_TRUE(r->ended);
  }
  EXPECT_EQ(fine.Statuses(), std::vector<int>{200}) << fine.received;
  ExpectBystanderServed(bystander);
}

// --- connection-level limits (ConnectionLimits) ---------------------------------------------

TEST_F(HardeningSim, PipelinedRequestsAnsweredAsTheyComeAreAllServed) {
  std::string forty;
  for (int i = 0; i < 40; ++i) forty += "HEAD /api/health HTTP/1.1\r\nHost: service\r\n\r\n";
  RawClient& c = Raw(forty);
  Run();
  EXPECT_EQ(c.Statuses(), std::vector<int>(40, 200));
  EXPECT_FALSE(c.ended);
}

TEST_F(HardeningSim, HalfSentRequestIsAnswered408AfterTheRequestReadTimeout) {
  options_.limits.request_read_timeout = 30 * sim::kSecond;
  WsClient& bystander = Client("bystander", "b", {}, bystander_hub_);
  bystander.Connect();
  RawClient& line = Raw("HEAD /api/health HTT");
  RawClient& headers = Raw("HEAD /api/health HTTP/1.1\r\nHost: service\r\nX-Slow: ");
  Run(29 * sim::kSecond);
  EXPECT_TRUE(line.Statuses().empty());
  EXPECT_FALSE(line.ended);
  Run(2 * sim::kSecond);
  for (RawClient* r : {&line, &headers}) {
    EXPECT_EQ(r->Statuses(), std::vector<int>{408}) << r->received;
    EXPECT_TRUE(r->ended);
  }
  ExpectBystanderServed(bystander);
}

TEST_F(HardeningSim, SilentConnectionIsClosedAfterTheIdleTimeoutButAnUpgradedOneIsNot) {
  options_.limits.http_idle_timeout = 120 * sim::kSecond;
  RawClient& silent = Raw("");
  RawClient& kept = Raw("HEAD /api/health HTTP/1.1\r\nHost: service\r\n\r\n");
  WsClient& ws = Client("ws", "u");
  ws.Connect();
  Run(119 * sim::kSecond);
  EXPECT_FALSE(silent.ended);
  EXPECT_FALSE(kept.ended);
  Run(2 * sim::kSecond);
  EXPECT_TRUE(silent.ended);
  EXPECT_TRUE(silent.received.empty());  // nothing was asked: closed without an answer
  EXPECT_TRUE(kept.ended);
  EXPECT_EQ(kept.Statuses(), std::vector<int>{200});
  EXPECT_TRUE(ws.open());  // the WebSocket phase has its own keepalive instead
}

TEST_F(HardeningSim, WebSocketThatAnswersNoPingIsClosedWith1001AfterThreeUnansweredPings) {
  options_.websocket_keepalive = 20 * sim::kSecond;
  options_.limits.websocket_pings_unanswered_max = 3;
  options_.limits.http_idle_timeout = 0;
  RawClient& mute = Raw(UpgradeRequest());
  WsClient& polite = Client("polite", "p");
  polite.Connect();
  Run(79 * sim::kSecond);  // pings at 20, 40, 60 s
  EXPECT_FALSE(mute.ended);
  Run(2 * sim::kSecond);  // the 4th keepalive finds 3 pings unanswered
  EXPECT_TRUE(mute.ended);
  EXPECT_NE(mute.received.find(std::string("\x88", 1) + static_cast<char>(2 + 36) + "\x03\xe9"),
            std::string::npos)
      << "a Close frame with 1001";
  EXPECT_TRUE(polite.open());  // the client library answers pings
}

TEST_F(HardeningSim, OversizedFrameHeaderIsAnswered1009WithoutWaitingForPayload) {
  RawClient& big = Raw(UpgradeRequest());
  Run();
  big.Write(std::string("\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14));
  Run(100 * sim::kMillisecond);
  EXPECT_NE(big.received.find("\x88"), std::string::npos);
  EXPECT_NE(big.received.find("\x03\xf1"), std::string::npos) << "close code 1009";
  EXPECT_TRUE(big.ended);
}

TEST_F(HardeningSim, PeerAtItsConnectionCapGets503WhileOtherPeersAreServed) {
  options_.limits.connections_per_peer_max = 50;
  sim::SimRuntime* greedy = net_.AddHost("greedy").value();
  StartService();
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 60; ++i) {
    held.push_back(std::make_unique<RawClient>(*greedy, ""));
    held.back()->Send();
  }
  Run();
  int refused = 0;
  for (const auto& r : held) {
    if (r->Statuses() == std::vector<int>{503}) ++refused;
  }
  EXPECT_EQ(refused, 10);
  EXPECT_EQ(service_->refused_connections(), 10u);
  // A legitimate client on another address: connect, join, send, REST.
  WsClient& legit = Client("legit", "l");
  legit.Connect();
  Run();
  ASSERT_TRUE(legit.open());
  ASSERT_TRUE(legit.JoinGroup("g", 1).ok());
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "to g", "send");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{202});
  auto msgs = ObservationsOf(legit, Observation::Kind::kGroupMessage);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]->payload.data.view(), "to g");
}

TEST_F(HardeningSim, ThousandSlowlorisConnectionsDoNotStopALegitimateClientAndAreReaped) {
  options_.limits.request_read_timeout = 10 * sim::kSecond;
  sim::SimRuntime* loris = net_.AddHost("loris").value();
  StartService();
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 1000; ++i) {
    slow.push_back(std::make_unique<RawClient>(*loris, "HEAD /api/health HTTP/1.1\r\nHost: s"));
    slow.back()->Send();
  }
  Run();
  EXPECT_EQ(service_->front_count(), 1000u);
  WsClient& legit = Client("legit", "l");
  legit.Connect();
  Run();
  ASSERT_TRUE(legit.open());
  ASSERT_TRUE(legit.JoinGroup("g", 1).ok());
  ASSERT_TRUE(legit.SendToGroup("g", wps::Payload::Text("self"), 2, false).ok());
  Rest().Call("HEAD", "/api/health", "", "", "health");
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>{200});
  EXPECT_EQ(ObservationsOf(legit, Observation::Kind::kAck).size(), 2u);
  EXPECT_EQ(ObservationsOf(legit, Observation::Kind::kGroupMessage).size(), 1u);
  Run(10 * sim::kSecond);
  size_t reaped = 0;
  for (const auto& r : slow) reaped += r->ended && r->Statuses() == std::vector<int>{408};
  EXPECT_EQ(reaped, 1000u);
  EXPECT_TRUE(legit.open());
}

TEST_F(HardeningSim, GroupsPerConnectionAreCappedWithAPreciseAnswer) {
  options_.limits.groups_per_connection_max = 3;
  WsClient& c = Client("c", "u");
  c.Connect();
  Run();
  for (uint64_t i = 1; i <= 4; ++i) ASSERT_TRUE(c.JoinGroup("g" + std::to_string(i), i).ok());
  ASSERT_TRUE(c.JoinGroup("g1", 5).ok());  // already a member: still fine
  Run();
  auto acks = ObservationsOf(c, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 5u);
  EXPECT_TRUE(acks[0]->success && acks[1]->success && acks[2]->success && acks[4]->success);
  EXPECT_FALSE(acks[3]->success);
  EXPECT_EQ(acks[3]->error_name, "BadRequest");
  Rest().Call("PUT", "/api/hubs/hub/groups/g9/connections/" + c.connection_id(), "", "", "add");
  Rest().Call("PUT", "/api/hubs/hub/groups/g2/connections/" + c.connection_id(), "", "", "again");
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{400, 200}));
}

TEST_F(HardeningSim, EmptyHubsAreReclaimed) {
  StartService();
  Run();
  for (int i = 0; i < 100; ++i) {
    Rest().Call("POST", "/api/hubs/h" + std::to_string(i) + "/:send", "text/plain", "x", "s");
  }
  Run();
  EXPECT_EQ(RestStatuses(), std::vector<int>(100, 202));
  EXPECT_EQ(service_->hub_count(), 0u);
  WsClient& c = Client("c", "u", {}, "visited");
  c.Connect();
  Run();
  EXPECT_EQ(service_->hub_count(), 1u);
  c.Close();
  Run();
  EXPECT_EQ(service_->hub_count(), 0u);
}

// --- REST and roles (issue 20, from the Microsoft emulator's tests) --------------------------

TEST_F(HardeningSim, AddToGroupsAndRemoveFromGroupsNeedAJsonContentType) {
  WsClient& c = Client("c", "u");
  c.Connect();
  Run();
  const std::string body = R"({"groups":["a"],"filter":"userId eq 'u'"})";
  for (const char* op : {":addToGroups", ":removeFromGroups"}) {
    for (const char* type : {"", "text/plain", "application/xml"}) {
      Rest().Call("POST", std::string("/api/hubs/hub/") + op, type, body, "bad");
    }
    Rest().Call("POST", std::string("/api/hubs/hub/") + op, "application/json; charset=utf-8", body,
                "good");
  }
  Run();
  EXPECT_EQ(RestStatuses(), (std::vector<int>{415, 415, 415, 200, 415, 415, 415, 200}));
}

TEST_F(HardeningSim, LongStarRunRoleAllowsSendingToANestedGroup) {  // ROLE-011, ROLE-013
  StartService();
  auth::ClientTokenOptions o;
  o.user_id = "s";
  o.roles = std::vector<std::string>{"webpubsub.sendToGroups.******"};
  o.issued_at = client_host_->UnixNow() / sim::kSecond;
  o.expires_at = o.issued_at + 3600;
  WsClientOptions wo;
  wo.kind = WsClientKind::kJson;
  wo.service = sim::Address{"service", 80};
  wo.hub = "hub";
  wo.access_token = auth::BuildClientToken(cs_, "hub", o);
  clients_.push_back(std::make_unique<WsClient>(*client_host_, "sender", wo));
  WsClient& sender = *clients_.back();
  WsClient& member = Client("member", "m", {"room.nested"});
  sender.Connect();
  member.Connect();
  Run();
  ASSERT_TRUE(sender.SendToGroup("room.nested", wps::Payload::Text("hi"), 1, false).ok());
  Run();
  auto acks = ObservationsOf(sender, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0]->success) << acks[0]->error_name << ": " << acks[0]->text;
  EXPECT_EQ(ObservationsOf(member, Observation::Kind::kGroupMessage).size(), 1u);
}

}  // namespace
}  // namespace wpsim::service
