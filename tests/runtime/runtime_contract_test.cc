// One set of test bodies for the runtime seam, run on every runtime: UvRuntime over 127.0.0.1,
// SimRuntime driven directly (virtual time), and SimRuntime pumped from a libuv loop by SimPump.
// The bodies see only sim::Runtime / sim::Stream (plus TLS on top), so a behaviour difference
// between the runtimes fails here.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/seam.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "sim/tls/tls.h"
#include "sim/uv/sim_pump.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::sim {
namespace {

// A server runtime and a client runtime (the same one on UvRuntime) and a way to run them.
class World {
 public:
  virtual ~World() = default;
  virtual Runtime& server() = 0;
  virtual Runtime& client() = 0;
  // Where the server listens (port 0: any free port).
  virtual Address listen_address() = 0;
  // The name a TLS client verifies; the test certificate carries it.
  virtual std::string tls_name() = 0;
  // Runs until done() holds; false if the runtime's budget of time (virtual or real) ran out.
  virtual bool RunUntil(const std::function<bool()>& done, Nanos budget) = 0;
};

class UvWorld final : public World {
 public:
  Runtime& server() override { return rt_; }
  Runtime& client() override { return rt_; }
  Address listen_address() override { return Address{"127.0.0.1", 0}; }
  std::string tls_name() override { return "localhost"; }
  bool RunUntil(const std::function<bool()>& done, Nanos budget) override {
    return rt_.RunUntil(done, budget);
  }

 private:
  UvRuntime rt_{UvRuntimeOptions{.seed = 5}};
};

class SimWorld : public World {
 public:
  SimWorld() : net_(NetworkOptions{.seed = 5}) {
    server_ = net_.AddHost("service").value();
    client_ = net_.AddHost("client-1").value();
  }
  Runtime& server() override { return *server_; }
  Runtime& client() override { return *client_; }
  Address listen_address() override { return Address{"service", 0}; }
  std::string tls_name() override { return "service"; }
  bool RunUntil(const std::function<bool()>& done, Nanos budget) override {
    const Nanos deadline = net_.now() + budget;
    while (!done()) {
      const std::optional<Nanos> next = net_.NextEventTime();
      if (!next.has_value() || *next > deadline) return false;
      net_.RunOne();
    }
    return true;
  }

 protected:
  SimNetwork net_;
  SimRuntime* server_;
  SimRuntime* client_;
};

// The simulation run from a libuv loop, as fast as possible, next to real I/O.
class PumpedSimWorld final : public SimWorld {
 public:
  PumpedSimWorld() : pump_(uv_.loop(), net_) { pump_.Start(); }
  bool RunUntil(const std::function<bool()>& done, Nanos budget) override {
    // The budget is virtual time here too; the real-time limit only catches a stuck pump. A
    // simulation with nothing left to do before the deadline cannot make done() true.
    const Nanos deadline = net_.now() + budget;
    auto hopeless = [&] {
      const std::optional<Nanos> next = net_.NextEventTime();
      return !next.has_value() || *next > deadline;
    };
    uv_.RunUntil([&] { return done() || hopeless(); }, 60 * kSecond);
    return done();
  }

 private:
  UvRuntime uv_;
  SimPump pump_;
};

struct WorldParam {
  std::string name;
  std::function<std::unique_ptr<World>()> make;
};

void PrintTo(const WorldParam& p, std::ostream* os) { *os << p.name; }

class RuntimeContract : public ::testing::TestWithParam<WorldParam> {
 protected:
  void SetUp() override { world_ = GetParam().make(); }
  World& w() { return *world_; }
  std::unique_ptr<World> world_;
};

// Records one stream's events.
class Recorder : public StreamHandler {
 public:
  void OnData(std::span<const uint8_t> b) override {
    data.append(AsString(b));
    if (on_data) on_data(b);
  }
  void OnEnd() override {
    ended = true;
    if (on_end) on_end();
  }
  void OnWritable() override {
    ++writable_calls;
    if (on_writable) on_writable();
  }
  void OnClosed(CloseReason r, std::string_view d) override {
    closed = true;
    reason = r;
    detail = std::string(d);
  }
  std::string data;
  bool ended = false;
  bool closed = false;
  CloseReason reason = CloseReason::kError;
  std::string detail;
  int writable_calls = 0;
  std::function<void(std::span<const uint8_t>)> on_data;
  std::function<void()> on_end;
  std::function<void()> on_writable;
};

// A server that keeps every accepted stream; optionally echoes and closes after the peer's end.
struct Server {
  std::unique_ptr<Listener> listener;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Recorder>> recorders;
  bool echo = true;

  AcceptFn Acceptor() {
    return [this](std::unique_ptr<Stream> s) {
      auto rec = std::make_unique<Recorder>();
      Stream* raw = s.get();
      if (echo) {
        rec->on_data = [raw](std::span<const uint8_t> b) { raw->Write(b); };
        rec->on_end = [raw] { raw->Close(); };
      }
      s->SetHandler(rec.get());
      streams.push_back(std::move(s));
      recorders.push_back(std::move(rec));
    };
  }
};

struct TlsSetup {
  std::shared_ptr<const TlsConfig> server;
  std::shared_ptr<const TlsConfig> client;
};

TlsSetup MakeTls(World& w) {
  Rng rng = w.server().ForkRng("test-cert");
  auto cert = GenerateSelfSignedCert("wpsim contract test", {"localhost", w.tls_name()}, rng);
  EXPECT_TRUE(cert.ok());
  auto server =
      TlsConfig::Server(TlsServerOptions{.cert_pem = cert->cert_pem, .key_pem = cert->key_pem});
  auto client =
      TlsConfig::Client(TlsClientOptions{.server_name = w.tls_name(), .ca_pem = cert->cert_pem});
  EXPECT_TRUE(server.ok() && client.ok());
  return TlsSetup{server.value(), client.value()};
}

// Listens (plain or TLS) on the server and dials it from the client; runs until connected.
std::unique_ptr<Stream> Connect(World& w, Server& server, const TlsSetup* tls) {
  auto listener = tls != nullptr
                      ? ListenTls(w.server(), w.listen_address(), tls->server, server.Acceptor())
                      : w.server().Listen(w.listen_address(), server.Acceptor());
  if (!listener.ok()) {
    ADD_FAILURE() << listener.error().message;
    return nullptr;
  }
  server.listener = std::move(listener.value());
  EXPECT_NE(server.listener->address().port, 0);
  std::optional<Result<std::unique_ptr<Stream>>> dialed;
  auto on_done = [&](Result<std::unique_ptr<Stream>> r) { dialed.emplace(std::move(r)); };
  if (tls != nullptr) {
    DialTls(w.client(), server.listener->address(), tls->client, on_done);
  } else {
    w.client().Dial(server.listener->address(), on_done);
  }
  if (!w.RunUntil([&] { return dialed.has_value() && !server.streams.empty(); }, 30 * kSecond)) {
    ADD_FAILURE() << "connect did not complete";
    return nullptr;
  }
  if (!dialed->ok()) {
    ADD_FAILURE() << dialed->error().code << ": " << dialed->error().message;
    return nullptr;
  }
  return std::move(dialed->value());
}

// The ping-pong body: 100 round trips of one line each, then half-close and close.
void PingPong(World& w, const TlsSetup* tls) {
  Server server;
  std::unique_ptr<Stream> client = Connect(w, server, tls);
  ASSERT_NE(client, nullptr);
  Recorder rec;
  int pongs = 0;
  std::string expected_transcript;
  auto send_ping = [&](int i) {
    const std::string line = "ping " + std::to_string(i) + "\n";
    expected_transcript += line;
    ASSERT_TRUE(client->Write(AsBytes(line)));
  };
  rec.on_data = [&](std::span<const uint8_t>) {
    // A pong is complete when the echoed transcript caught up with what was sent.
    if (rec.data.size() != expected_transcript.size()) return;
    ++pongs;
    if (pongs < 100) {
      send_ping(pongs);
    } else {
      client->Shutdown();
    }
  };
  client->SetHandler(&rec);
  send_ping(0);
  ASSERT_TRUE(w.RunUntil([&] { return rec.ended; }, 60 * kSecond));
  EXPECT_EQ(pongs, 100);
  EXPECT_EQ(rec.data, expected_transcript);
  EXPECT_FALSE(rec.closed) << rec.detail;
  ASSERT_EQ(server.recorders.size(), 1u);
  EXPECT_TRUE(server.recorders[0]->ended);
  EXPECT_EQ(server.recorders[0]->data, expected_transcript);
  client->Close();
  client.reset();
  // Give both sides time to finish closing (a no-op budget check on the simulation).
  w.RunUntil([] { return false; }, 50 * kMillisecond);
}

TEST_P(RuntimeContract, EchoPingPongCompletesOneHundredRoundTrips) { PingPong(w(), nullptr); }

TEST_P(RuntimeContract, EchoPingPongCompletesOneHundredRoundTripsOverTls) {
  const TlsSetup tls = MakeTls(w());
  PingPong(w(), &tls);
}

// A paused reader makes the writer unwritable; resuming delivers every byte in order.
void Backpressure(World& w, const TlsSetup* tls) {
  Server server;
  server.echo = false;
  std::unique_ptr<Stream> client = Connect(w, server, tls);
  ASSERT_NE(client, nullptr);
  Stream& reader = *server.streams[0];
  Recorder& reader_rec = *server.recorders[0];
  reader.SetReadPaused(true);
  Recorder writer_rec;
  client->SetHandler(&writer_rec);
  constexpr uint64_t kTotal = 8u << 20;
  uint64_t sent = 0, sent_sum = 0;
  bool went_unwritable = false;
  Rng rng(3);
  std::vector<uint8_t> block(16 * 1024);
  auto pump = [&] {
    while (sent < kTotal) {
      if (!client->Writable()) {
        went_unwritable = true;
        return;
      }
      for (auto& b : block) {
        b = static_cast<uint8_t>(rng.Next());
        sent_sum = sent_sum * 31 + b;
      }
      ASSERT_TRUE(client->Write(block));
      sent += block.size();
    }
  };
  writer_rec.on_writable = pump;
  pump();
  // Let everything that fits into buffers move; the writer must stay stuck.
  w.RunUntil([] { return false; }, 300 * kMillisecond);
  EXPECT_TRUE(went_unwritable);
  EXPECT_LT(sent, kTotal);
  EXPECT_TRUE(reader_rec.data.empty());
  uint64_t received = 0, received_sum = 0;
  reader_rec.on_data = [&](std::span<const uint8_t> b) {
    for (uint8_t c : b) received_sum = received_sum * 31 + c;
    received += b.size();
    reader_rec.data.clear();
  };
  reader.SetReadPaused(false);
  ASSERT_TRUE(w.RunUntil([&] { return sent == kTotal && received == kTotal; }, 120 * kSecond));
  EXPECT_EQ(received_sum, sent_sum);
  EXPECT_GT(writer_rec.writable_calls, 0);
}

TEST_P(RuntimeContract, PausedReaderPushesBackAndEveryByteArrivesInOrder) {
  Backpressure(w(), nullptr);
}

TEST_P(RuntimeContract, PausedReaderPushesBackAndEveryByteArrivesInOrderOverTls) {
  const TlsSetup tls = MakeTls(w());
  Backpressure(w(), &tls);
}

TEST_P(RuntimeContract, ResetIsSeenByThePeerAsReset) {
  Server server;
  std::unique_ptr<Stream> client = Connect(w(), server, nullptr);
  ASSERT_NE(client, nullptr);
  Recorder rec;
  client->SetHandler(&rec);
  server.streams[0]->Reset();
  ASSERT_TRUE(w().RunUntil([&] { return rec.closed; }, 10 * kSecond));
  EXPECT_EQ(rec.reason, CloseReason::kReset);
  EXPECT_FALSE(rec.ended);
  EXPECT_FALSE(server.recorders[0]->closed);  // no calls after a local Reset
}

TEST_P(RuntimeContract, DestroyingAfterCloseStillDeliversEverything) {
  Server server;
  server.echo = false;
  std::unique_ptr<Stream> client = Connect(w(), server, nullptr);
  ASSERT_NE(client, nullptr);
  std::string payload(2 << 20, '\0');
  Rng rng(9);
  for (auto& c : payload) c = static_cast<char>(rng.Next());
  client->Write(AsBytes(payload));
  client->Close();
  client.reset();
  ASSERT_TRUE(w().RunUntil([&] { return server.recorders[0]->ended; }, 60 * kSecond));
  EXPECT_TRUE(server.recorders[0]->data == payload);
  EXPECT_FALSE(server.recorders[0]->closed);
}

TEST_P(RuntimeContract, DialToAPortNobodyListensOnIsRefused) {
  uint16_t port = 0;
  {
    auto listener = w().server().Listen(w().listen_address(), [](std::unique_ptr<Stream>) {});
    ASSERT_TRUE(listener.ok());
    port = (*listener)->address().port;
  }
  Address target = w().listen_address();
  target.port = port;
  std::optional<Error> error;
  bool returned = false;
  w().client().Dial(target, [&](Result<std::unique_ptr<Stream>> r) {
    EXPECT_TRUE(returned) << "Dial called back synchronously";
    ASSERT_FALSE(r.ok());
    error = r.error();
  });
  returned = true;
  ASSERT_TRUE(w().RunUntil([&] { return error.has_value(); }, 60 * kSecond));
  EXPECT_EQ(error->code, "connection_refused");
}

TEST_P(RuntimeContract, EqualDeadlinesFireInSetOrderAndPostRunsAfterTheCaller) {
  Runtime& rt = w().client();
  std::vector<int> order;
  const Nanos deadline = rt.Now() + 3 * kMillisecond;
  for (int i = 0; i < 10; ++i) rt.SetTimer(deadline, [&order, i] { order.push_back(i); });
  const TimerId cancelled = rt.SetTimer(deadline, [&order] { order.push_back(-1); });
  rt.CancelTimer(cancelled);
  bool inside = true;
  rt.Post([&] {
    EXPECT_FALSE(inside);
    order.insert(order.begin(), 100);
  });
  inside = false;
  ASSERT_TRUE(w().RunUntil([&] { return order.size() == 11; }, 5 * kSecond));
  EXPECT_EQ(order, (std::vector<int>{100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_GE(rt.Now(), deadline);
}

INSTANTIATE_TEST_SUITE_P(
    Runtimes, RuntimeContract,
    ::testing::Values(WorldParam{"UvRuntime", [] { return std::unique_ptr<World>(new UvWorld); }},
                      WorldParam{"SimRuntime", [] { return std::unique_ptr<World>(new SimWorld); }},
                      WorldParam{"SimRuntimePumpedByUv",
                                 [] { return std::unique_ptr<World>(new PumpedSimWorld); }}),
    [](const ::testing::TestParamInfo<WorldParam>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace wpsim::sim
