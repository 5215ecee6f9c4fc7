// websocket::Connection over the simulated network (SimRuntime): the client dials and
// upgrades with a subprotocol, the service side accepts through http::ServerConnection, and
// messages, fan-out frames, keepalive pings and the closing handshake flow through sim::Streams.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/http/server_connection.h"
#include "protocol/websocket/handshake.h"
#include "protocol/websocket/stream_connection.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::protocol::websocket {
namespace {

using sim::kSecond;

// Records what a Connection delivers; optionally echoes messages.
class Recorder : public ConnectionHandler {
 public:
  void OnOpen(Connection& c) override {
    opened = true;
    subprotocol = c.subprotocol();
    if (on_open) on_open(c);
  }
  void OnMessage(Connection& c, Opcode opcode, std::span<const uint8_t> payload) override {
    messages.push_back(std::string(OpcodeName(opcode)) + ":" + std::string(AsString(payload)));
    if (echo) {
      EXPECT_TRUE(c.session()->Send(opcode, payload).ok());
    }
  }
  void OnPing(Connection&, std::span<const uint8_t>) override { ++pings; }
  void OnClosed(Connection&, const CloseInfo& i) override {
    closed = true;
    info = i;
  }

  bool echo = false;
  bool opened = false;
  bool closed = false;
  int pings = 0;
  std::string subprotocol;
  std::vector<std::string> messages;
  CloseInfo info;
  std::function<void(Connection&)> on_open;
};

// The service side of one TCP connection: HTTP until the upgrade, then a websocket::Connection.
class ServiceSide : public sim::StreamHandler {
 public:
  ServiceSide(sim::Runtime& rt, std::unique_ptr<sim::Stream> s, SessionOptions options)
      : rt_(rt), stream_(std::move(s)), options_(options) {
    stream_->SetHandler(this);
  }
  void OnData(std::span<const uint8_t> data) override {
    http_.Receive(data);
    while (auto ev = http_.PollEvent()) {
      if (ev->kind != http::ServerEvent::Kind::kRequest) continue;
      const UpgradeOffer offer = ValidateUpgradeRequest(ev->request);
      if (!offer.ok) {
        http_.Respond(ev->request.id, RejectResponse(offer));
        continue;
      }
      // Pick the first subprotocol we support, as the reference emulator does (PROTOCOL.md §4.2).
      std::string chosen;
      for (const std::string& p : offer.subprotocols) {
        if (p == "json.webpubsub.azure.v1") chosen = p;
        if (!chosen.empty()) break;
      }
      std::vector<uint8_t> rest = http_.AcceptUpgrade(ev->request.id, AcceptResponse(offer, chosen));
      stream_->Write(AsBytes(http_.TakeOutput()));
      ws = std::make_unique<Connection>(rt_, std::move(stream_), &handler, options_, chosen, rest);
      return;
    }
    if (http_.HasOutput()) stream_->Write(AsBytes(http_.TakeOutput()));
    if (http_.WantsClose()) stream_->Close();
  }
  void OnEnd() override { http_.ReceiveEof(); }
  void OnClosed(sim::CloseReason, std::string_view) override {}

  Recorder handler;
  std::unique_ptr<Connection> ws;

 private:
  sim::Runtime& rt_;
  std::unique_ptr<sim::Stream> stream_;
  SessionOptions options_;
  http::ServerConnection http_;
};

struct World {
  sim::SimNetwork net;
  sim::SimRuntime* service;
  sim::SimRuntime* client;
  std::unique_ptr<sim::Listener> listener;
  std::vector<std::unique_ptr<ServiceSide>> accepted;
  Recorder client_handler;
  std::unique_ptr<Connection> client_ws;

  explicit World(SessionOptions service_options = {}, SessionOptions client_options = {},
                 std::vector<std::string> offer = {"json.webpubsub.azure.v1"}) {
    service = net.AddHost("service").value();
    client = net.AddHost("client").value();
    listener = std::move(service->Listen(sim::Address{"service", 80}, [this, service_options](
                                             std::unique_ptr<sim::Stream> s) {
                 accepted.push_back(std::make_unique<ServiceSide>(*service, std::move(s),
                                                                  service_options));
               }).value());
    client->Dial(sim::Address{"service", 80}, [this, client_options, offer](
                                                   Result<std::unique_ptr<sim::Stream>> r) {
      ASSERT_TRUE(r.ok());
      sim::Rng rng = client->ForkRng("ws");
      ClientHandshake hs = ClientHandshake::WithRng("service:80", "/client/hubs/chat", offer, rng);
      client_ws = std::make_unique<Connection>(*client, std::move(r.value()), &client_handler,
                                               client_options, std::move(hs), http::Headers{},
                                               client->ForkRng("ws-mask"));
    });
  }
  Connection& server_ws() { return *accepted.at(0)->ws; }
  Recorder& server_handler() { return accepted.at(0)->handler; }
};

TEST(WebSocketConnection, ClientUpgradesWithSubprotocolAndExchangesMessages) {
  World w;
  w.client_handler.on_open = [](Connection& c) { EXPECT_TRUE(c.SendText("hello").ok()); };
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  ASSERT_TRUE(w.client_handler.opened);
  EXPECT_EQ(w.client_handler.subprotocol, "json.webpubsub.azure.v1");
  ASSERT_EQ(w.accepted.size(), 1u);
  ASSERT_NE(w.accepted[0]->ws, nullptr);
  EXPECT_EQ(w.server_ws().subprotocol(), "json.webpubsub.azure.v1");
  EXPECT_EQ(w.server_handler().messages, std::vector<std::string>{"text:hello"});

  const uint8_t bin[] = {0, 1, 2};
  EXPECT_TRUE(w.server_ws().SendBinary(bin).ok());
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  EXPECT_EQ(w.client_handler.messages, std::vector<std::string>{std::string("binary:\0\1\2", 10)});
}

TEST(WebSocketConnection, FanOutFramesQueuedInOneLoopTurnLeaveInOneWrite) {
  World w;
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  ASSERT_TRUE(w.client_handler.opened);
  const SharedBytes a = EncodeServerFrame(Opcode::kText, "one");
  const SharedBytes b = EncodeServerFrame(Opcode::kText, "two");
  const uint64_t writes_before = w.server_ws().writes();
  // Outside any callback of this connection, as when another connection's message fans out.
  EXPECT_TRUE(w.server_ws().SendEncoded(a).ok());
  EXPECT_TRUE(w.server_ws().SendText("between").ok());
  EXPECT_TRUE(w.server_ws().SendEncoded(b).ok());
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  EXPECT_EQ(w.server_ws().writes(), writes_before + 1);
  EXPECT_EQ(w.client_handler.messages,
            (std::vector<std::string>{"text:one", "text:between", "text:two"}));
  // The session let go of the shared frames once written.
  EXPECT_EQ(a.use_count(), 1u);
  EXPECT_EQ(b.use_count(), 1u);
}

TEST(WebSocketConnection, KeepalivePingsFollowTheInterval) {
  SessionOptions service;
  service.keepalive_interval = 20 * kSecond;
  World w(service);
  ASSERT_TRUE(w.net.RunFor(61 * kSecond).ok());
  ASSERT_TRUE(w.client_handler.opened);
  EXPECT_EQ(w.client_handler.pings, 3);
  EXPECT_FALSE(w.client_handler.closed);
}

TEST(WebSocketConnection, CloseHandshakeEndsBothSidesCleanly) {
  World w;
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  w.client_ws->Close(close_code::kNormal, "done");
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  ASSERT_TRUE(w.server_handler().closed);
  EXPECT_EQ(w.server_handler().info.cause, CloseCause::kPeerClosed);
  EXPECT_EQ(w.server_handler().info.code, close_code::kNormal);
  EXPECT_EQ(w.server_handler().info.reason, "done");
  ASSERT_TRUE(w.client_handler.closed);
  EXPECT_EQ(w.client_handler.info.cause, CloseCause::kLocalClosed);
  EXPECT_TRUE(w.client_handler.info.clean);
}

TEST(WebSocketConnection, HandshakeWithoutSubprotocolOpensWithNone) {
  // The client offers nothing, so the service chooses nothing. (Refusing a subprotocol that
  // was not offered is covered by the handshake tests.)
  World w({}, {}, {});
  ASSERT_TRUE(w.net.RunFor(1 * kSecond).ok());
  ASSERT_TRUE(w.client_handler.opened);
  EXPECT_EQ(w.client_handler.subprotocol, "");
}

TEST(WebSocketConnection, IdleTimeoutClosesWith1001) {
  SessionOptions service;
  service.idle_timeout = 30 * kSecond;
  World w(service);
  ASSERT_TRUE(w.net.RunFor(31 * kSecond).ok());
  ASSERT_TRUE(w.server_handler().closed);
  EXPECT_EQ(w.server_handler().info.cause, CloseCause::kTimeout);
  EXPECT_EQ(w.server_handler().info.code, close_code::kGoingAway);
  ASSERT_TRUE(w.client_handler.closed);
  EXPECT_EQ(w.client_handler.info.code, close_code::kGoingAway);
}

}  // namespace
}  // namespace wpsim::protocol::websocket
