// Determinism: the same seed gives the same trace; perturbation explores interleavings.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/sim/determinism_scenario.h"
#include "tests/sim/sim_test_util.h"

namespace wpsim::sim {
namespace {

TEST(SimDeterminism, SameSeedGivesTheSameTraceHashOverThreeRuns) {
  const scenario::Outcome first = scenario::Run(7);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_GT(first.trace_events, 1000u);
  for (int i = 0; i < 2; ++i) {
    const scenario::Outcome again = scenario::Run(7);
    EXPECT_EQ(again.trace_hash, first.trace_hash);
    EXPECT_EQ(again.trace_events, first.trace_events);
    EXPECT_EQ(again.scheduler_events, first.scheduler_events);
  }
}

TEST(SimDeterminism, DifferentSeedsGiveDifferentTraces) {
  std::set<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= 5; ++seed) hashes.insert(scenario::Run(seed).trace_hash);
  EXPECT_EQ(hashes.size(), 5u);
}

// Two clients write at the same virtual instant to one server over identical constant-latency
// links; the order in which the server sees them is a race.
std::string TwoWriterRace(bool perturb, uint64_t seed) {
  NetworkOptions o;
  o.seed = seed;
  o.perturb = perturb;
  o.default_link.latency = Distribution::Constant(1e6);
  SimNetwork net(o);
  SimRuntime* server = net.AddHost("server").value();
  std::vector<SimRuntime*> writers = {net.AddHost("w1").value(), net.AddHost("w2").value()};
  std::string order;
  struct Sink : StreamHandler {
    std::string* order;
    std::unique_ptr<Stream> stream;
    void OnData(std::span<const uint8_t> d) override { order->append(AsString(d)); }
    void OnEnd() override {}
    void OnClosed(CloseReason, std::string_view) override {}
  };
  std::vector<std::unique_ptr<Sink>> sinks;
  auto listener = server->Listen(Address{"server", 80}, [&](std::unique_ptr<Stream> s) {
    auto sink = std::make_unique<Sink>();
    sink->order = &order;
    sink->stream = std::move(s);
    sink->stream->SetHandler(sink.get());
    sinks.push_back(std::move(sink));
  });
  EXPECT_TRUE(listener.ok());
  std::vector<std::unique_ptr<Stream>> clients;
  for (SimRuntime* w : writers) {
    w->Dial(Address{"server", 80}, [&, w](Result<std::unique_ptr<Stream>> r) {
      ASSERT_TRUE(r.ok());
      clients.push_back(std::move(r).value());
      // Both writers fire at the same deadline on their own clocks.
      Stream* s = clients.back().get();
      w->SetTimer(10 * kMillisecond, [s, w] { s->Write(AsBytes(std::string(w->HostName()) + ";")); });
    });
  }
  EXPECT_TRUE(net.RunUntilIdle().ok());
  return order;
}

TEST(SimDeterminism, PerturbationGivesDifferentSeedsDifferentInterleavingsOfATwoWriterRace) {
  std::set<std::string> orders;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    const std::string order = TwoWriterRace(true, seed);
    EXPECT_EQ(order.size(), 6u);
    EXPECT_EQ(TwoWriterRace(true, seed), order);  // still deterministic per seed
    orders.insert(order);
  }
  EXPECT_EQ(orders, (std::set<std::string>{"w1;w2;", "w2;w1;"}));
}

TEST(SimDeterminism, WithoutPerturbationTheTwoWriterRaceAlwaysEndsTheSameWay) {
  const std::string first = TwoWriterRace(false, 1);
  EXPECT_EQ(first.size(), 6u);
  for (uint64_t seed = 2; seed <= 16; ++seed) EXPECT_EQ(TwoWriterRace(false, seed), first);
}

TEST(SimDeterminism, TraceRecordsConnectSendDeliverAndClose) {
  Trace trace;
  NetworkOptions o;
  o.trace = &trace;
  SimNetwork net(o);
  SimRuntime* a = net.AddHost("a").value();
  SimRuntime* b = net.AddHost("b").value();
  testing::StreamPair p = testing::Connect(net, *a, *b, 9);
  testing::Recorder r;
  p.server->SetHandler(&r);
  ASSERT_TRUE(p.client->Write(AsBytes("abc")));
  p.client->Close();
  ASSERT_TRUE(net.RunUntilIdle().ok());
  std::map<std::string, int> kinds;
  for (const TraceEvent& e : trace.events()) ++kinds[e.kind];
  EXPECT_EQ(kinds["net.listen"], 1);
  EXPECT_EQ(kinds["net.dial"], 1);
  EXPECT_EQ(kinds["net.accept"], 1);
  EXPECT_EQ(kinds["net.connect"], 1);
  EXPECT_EQ(kinds["net.send"], 1);
  EXPECT_EQ(kinds["net.deliver"], 1);
  EXPECT_EQ(kinds["net.close"], 1);
  EXPECT_EQ(kinds["net.end"], 1);
  for (const TraceEvent& e : trace.events()) {
    if (e.kind == "net.deliver") {
      EXPECT_EQ(e.host, "b");
      EXPECT_EQ(e.bytes, 3u);
      EXPECT_EQ(e.digest, Trace::Digest(AsBytes("abc")));
      EXPECT_EQ(e.stream, p.server->Id());
    }
  }
}

}  // namespace
}  // namespace wpsim::sim
