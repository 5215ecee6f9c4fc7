// The reference service in-process on UvRuntime (what `wpsim serve` runs), bound to
// 127.0.0.1:0, with raw, JSON and reliable WebSocket clients and a REST client connecting over
// real TCP — and once over TLS (self-signed certificate, clients dialling with sim::DialTls).
// Real time: every wait is bounded (kWait) and polled once per loop turn.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "service/service.h"
#include "sim/tls/tls.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::service {
namespace {

using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;

constexpr sim::Nanos kWait = 10 * sim::kSecond;

class ServiceUv : public ::testing::Test {
 protected:
  // `tls`: serve https/wss with a fresh self-signed certificate for "localhost".
  void Start(bool tls) {
    sim::UvRuntimeOptions ro;
    ro.seed = 5;
    runtime_ = std::make_unique<sim::UvRuntime>(ro);
    ServiceOptions options;
    options.tls = tls;
    if (tls) {
      sim::Rng rng(42);
      auto cert = sim::GenerateSelfSignedCert("localhost", {"localhost"}, rng);
      ASSERT_TRUE(cert.ok()) << cert.error().message;
      sim::TlsServerOptions so;
      so.cert_pem = cert.value().cert_pem;
      so.key_pem = cert.value().key_pem;
      auto server = sim::TlsConfig::Server(so);
      ASSERT_TRUE(server.ok()) << server.error().message;
      sim::TlsClientOptions co;
      co.server_name = "localhost";
      co.ca_pem = cert.value().cert_pem;
      auto client = sim::TlsConfig::Client(co);
      ASSERT_TRUE(client.ok()) << client.error().message;
      server_tls_ = server.value();
      client_tls_ = client.value();
    }
    service_ = std::make_unique<Service>(*runtime_, options);
    if (tls) {
      service_->wrap_accepted = [this](std::unique_ptr<sim::Stream> s) {
        sim::Rng rng = sim::TlsRngFor(*runtime_, *s);
        return std::unique_ptr<sim::Stream>(
            std::make_unique<sim::TlsStream>(*runtime_, std::move(s), server_tls_, rng));
      };
    }
    ASSERT_TRUE(service_->Listen(sim::Address{"127.0.0.1", 0}).ok());
    address_ = *service_->listen_address();
    ASSERT_NE(address_.port, 0);
    cs_.scheme = tls ? "https" : "http";
    cs_.host = "127.0.0.1";
    cs_.port = address_.port;
    cs_.access_key = std::string(kDefaultAccessKey);
  }

  void TearDown() override {
    clients_.clear();
    rest_.reset();
    service_.reset();
    if (runtime_) runtime_->RunFor(50 * sim::kMillisecond);  // let closed handles go
  }

  std::function<void(const sim::Address&, sim::DialFn)> Dialer() {
    if (!client_tls_) return nullptr;
    return [this](const sim::Address& a, sim::DialFn done) {
      sim::DialTls(*runtime_, a, client_tls_, std::move(done));
    };
  }

  std::string Token(std::string user, std::vector<std::string> roles = {}) {
    auth::ClientTokenOptions o;
    o.user_id = std::move(user);
    if (!roles.empty()) o.roles = std::move(roles);
    o.issued_at = runtime_->UnixNow() / sim::kSecond;
    o.expires_at = o.issued_at + 3600;
    return auth::BuildClientToken(cs_, "hub", o);
  }

  WsClient& Client(std::string name, WsClientKind kind, std::string token) {
    clients::WsClientOptions o;
    o.kind = kind;
    o.service = address_;
    o.hub = "hub";
    o.access_token = std::move(token);
    o.dial = Dialer();
    clients_.push_back(std::make_unique<WsClient>(*runtime_, std::move(name), o));
    return *clients_.back();
  }

  clients::RestClient& Rest() {
    if (!rest_) {
      clients::RestClientOptions o;
      o.service = address_;
      o.connection_string = cs_;
      o.dial = Dialer();
      rest_ = std::make_unique<clients::RestClient>(*runtime_, "rest", o);
    }
    return *rest_;
  }

  static std::vector<const Observation*> Of(const WsClient& c, Observation::Kind kind) {
    std::vector<const Observation*> out;
    for (const Observation& o : c.observations()) {
      if (o.kind == kind) out.push_back(&o);
    }
    return out;
  }
  static size_t Count(const WsClient& c, Observation::Kind kind) { return Of(c, kind).size(); }

  // Runs the loop until `done` or kWait; fails the test on timeout.
  void Await(const std::function<bool()>& done, const char* what) {
    EXPECT_TRUE(runtime_->RunUntil(done, kWait)) << "timed out waiting for " << what;
  }

  // REST call, waiting for its answer; returns the status.
  int Call(std::string method, std::string path, std::string type, std::string body) {
    int status = -1;
    Rest().Call(std::move(method), std::move(path), std::move(type), std::move(body), "call",
                [&status](const protocol::http::Response& r) { status = r.status; });
    Await([&] { return status != -1; }, "a REST response");
    return status;
  }

  std::unique_ptr<sim::UvRuntime> runtime_;
  std::shared_ptr<const sim::TlsConfig> server_tls_;
  std::shared_ptr<const sim::TlsConfig> client_tls_;
  std::unique_ptr<Service> service_;
  sim::Address address_;
  auth::ConnectionString cs_;
  std::vector<std::unique_ptr<WsClient>> clients_;
  std::unique_ptr<clients::RestClient> rest_;
};

TEST_F(ServiceUv, RawJsonReliableAndRestClientsInteroperateOverLoopbackTcp) {
  Start(/*tls=*/false);
  WsClient& raw = Client("raw", WsClientKind::kRaw, Token("r"));
  WsClient& sub = Client("sub", WsClientKind::kJson, Token("s", {"webpubsub.joinLeaveGroup"}));
  WsClient& rel = Client("rel", WsClientKind::kReliable, Token("l", {"webpubsub.joinLeaveGroup"}));
  WsClient& pub = Client("pub", WsClientKind::kJson, Token("p", {"webpubsub.sendToGroup.g"}));
  for (WsClient* c : {&raw, &sub, &rel, &pub}) c->Connect();
  Await([&] {
    return Count(raw, Observation::Kind::kOpened) == 1 &&
           Count(sub, Observation::Kind::kConnected) == 1 &&
           Count(rel, Observation::Kind::kConnected) == 1 &&
           Count(pub, Observation::Kind::kConnected) == 1;
  }, "four connections");
  EXPECT_FALSE(Of(rel, Observation::Kind::kConnected)[0]->reconnection_token.empty());
  EXPECT_EQ(Of(sub, Observation::Kind::kConnected)[0]->user_id, "s");

  // join with acks
  ASSERT_TRUE(sub.JoinGroup("g", 1).ok());
  ASSERT_TRUE(rel.JoinGroup("g", 1).ok());
  Await([&] {
    return Count(sub, Observation::Kind::kAck) == 1 && Count(rel, Observation::Kind::kAck) == 1;
  }, "join acks");
  EXPECT_TRUE(Of(sub, Observation::Kind::kAck)[0]->success);

  // client sendToGroup: acked to the publisher, delivered to both members
  ASSERT_TRUE(pub.SendToGroup("g", wps::Payload::Text("hi"), 7, /*no_echo=*/false).ok());
  Await([&] {
    return Count(pub, Observation::Kind::kAck) == 1 &&
           Count(sub, Observation::Kind::kGroupMessage) == 1 &&
           Count(rel, Observation::Kind::kGroupMessage) == 1;
  }, "group delivery");
  const Observation* ack = Of(pub, Observation::Kind::kAck)[0];
  EXPECT_EQ(ack->ack_id, 7u);
  EXPECT_TRUE(ack->success);
  const Observation* m = Of(sub, Observation::Kind::kGroupMessage)[0];
  EXPECT_EQ(m->group, "g");
  EXPECT_EQ(m->from_user_id, "p");
  EXPECT_EQ(m->payload, wps::Payload::Text("hi"));
  EXPECT_EQ(m->sequence_id, std::nullopt);
  EXPECT_EQ(Of(rel, Observation::Kind::kGroupMessage)[0]->sequence_id, 1u);

  // REST sendToAll and sendToGroup
  EXPECT_EQ(Call("POST", "/api/hubs/hub/:send", "text/plain", "to all"), 202);
  EXPECT_EQ(Call("POST", "/api/hubs/hub/groups/g/:send", "application/json", "{\"n\":1}"), 202);
  Await([&] {
    return Count(raw, Observation::Kind::kRawMessage) == 1 &&
           Count(sub, Observation::Kind::kServerMessage) == 1 &&
           Count(sub, Observation::Kind::kGroupMessage) == 2 &&
           Count(rel, Observation::Kind::kGroupMessage) == 2;
  }, "REST deliveries");
  EXPECT_EQ(Of(raw, Observation::Kind::kRawMessage)[0]->payload, wps::Payload::Text("to all"));
  EXPECT_EQ(Of(sub, Observation::Kind::kGroupMessage)[1]->payload, wps::Payload::Json("{\"n\":1}"));
  // the reliable client got sendToAll as seq 2 (server message) and the group send as seq 3
  EXPECT_EQ(Of(rel, Observation::Kind::kGroupMessage)[1]->sequence_id, 3u);

  // existence, then close: the connection is gone
  const std::string id = sub.connection_id();
  EXPECT_EQ(Call("HEAD", "/api/hubs/hub/connections/" + id, "", ""), 200);
  EXPECT_EQ(Call("HEAD", "/api/hubs/hub/groups/g", "", ""), 200);
  sub.Close();
  Await([&] { return Count(sub, Observation::Kind::kClosed) == 1; }, "close");
  EXPECT_EQ(Of(sub, Observation::Kind::kClosed)[0]->close_code, 1000);
  Await([&] { return service_->FindHub("hub")->Find(id) == nullptr; }, "the service to drop it");
  EXPECT_EQ(Call("HEAD", "/api/hubs/hub/connections/" + id, "", ""), 404);
}

TEST_F(ServiceUv, RestCloseConnectionSendsDisconnectedWithTheReasonOverTcp) {
  Start(/*tls=*/false);
  WsClient& c = Client("c", WsClientKind::kJson, Token("c"));
  c.Connect();
  Await([&] { return Count(c, Observation::Kind::kConnected) == 1; }, "connected");
  EXPECT_EQ(Call("DELETE", "/api/hubs/hub/connections/" + c.connection_id() + "?reason=bye", "",
                 ""),
            204);
  Await([&] { return Count(c, Observation::Kind::kClosed) == 1; }, "close");
  ASSERT_EQ(Count(c, Observation::Kind::kDisconnected), 1u);
  EXPECT_EQ(Of(c, Observation::Kind::kDisconnected)[0]->text, "bye");
}

TEST_F(ServiceUv, JsonAndRestClientsInteroperateOverTls) {
  Start(/*tls=*/true);
  WsClient& sub = Client("sub", WsClientKind::kJson,
                         Token("s", {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}));
  sub.Connect();
  Await([&] { return Count(sub, Observation::Kind::kConnected) == 1; }, "connected over wss");
  ASSERT_TRUE(sub.JoinGroup("g", 1).ok());
  Await([&] { return Count(sub, Observation::Kind::kAck) == 1; }, "join ack");
  ASSERT_TRUE(sub.SendToGroup("g", wps::Payload::Text("echo"), 2, /*no_echo=*/false).ok());
  EXPECT_EQ(Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "via https"), 202);
  Await([&] { return Count(sub, Observation::Kind::kGroupMessage) == 2; }, "deliveries");
  auto msgs = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]->payload, wps::Payload::Text("echo"));
  EXPECT_EQ(msgs[1]->payload, wps::Payload::Text("via https"));
  EXPECT_EQ(Count(sub, Observation::Kind::kAck), 2u);
}

TEST_F(ServiceUv, PlainTcpClientCannotTalkToTheTlsListener) {
  Start(/*tls=*/true);
  clients::WsClientOptions o;
  o.kind = WsClientKind::kJson;
  o.service = address_;
  o.access_token = Token("x");
  WsClient c(*runtime_, "plain", o);  // no TLS dialer
  c.Connect();
  Await([&] { return Count(c, Observation::Kind::kHandshakeFailed) +
                     Count(c, Observation::Kind::kClosed) >= 1; }, "failure");
  EXPECT_EQ(Count(c, Observation::Kind::kConnected), 0u);
}

}  // namespace
}  // namespace wpsim::service
