// Simulated network throughput and footprint.
//  * Ping-pong: one 64-byte write per delivery, end to end (write, turn-end flush, arrival
//    event, OnData, echo) on 1 or 1000 stream pairs. The honest per-delivery cost.
//  * Streaming: a writer keeps a stream full of 64-byte writes; writes of one turn coalesce, so
//    this counts 64-byte writes delivered per second, not OnData calls.
//  * Idle pair: heap bytes per connected, idle stream pair (both Stream objects, the
//    connection, its registry entry), measured with mallinfo2.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <vector>

#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "sim/trace.h"

namespace wpsim::sim {
namespace {

struct Echo : StreamHandler {
  Stream* stream = nullptr;
  void OnData(std::span<const uint8_t> data) override { stream->Write(data); }
  void OnEnd() override {}
  void OnClosed(CloseReason, std::string_view) override {}
};

struct Pair {
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
  Echo client_echo;
  Echo server_echo;
};

NetworkOptions BenchOptions(Trace* trace = nullptr) {
  NetworkOptions o;
  o.default_link.latency = Distribution::Constant(1e5);  // 100 us
  o.trace = trace;
  return o;
}

// Connects `count` pairs between two hosts and runs until all are established.
std::vector<std::unique_ptr<Pair>> ConnectPairs(SimNetwork& net, SimRuntime& a, SimRuntime& b,
                                                size_t count) {
  std::vector<std::unique_ptr<Pair>> pairs;
  for (size_t i = 0; i < count; ++i) pairs.push_back(std::make_unique<Pair>());
  size_t accepted = 0;
  auto listener = b.Listen(Address{"b", 80}, [&](std::unique_ptr<Stream> s) {
    pairs[accepted++]->server = std::move(s);
  });
  size_t dialed = 0;
  for (size_t i = 0; i < count; ++i) {
    a.Dial(Address{"b", 80}, [&](Result<std::unique_ptr<Stream>> r) {
      pairs[dialed++]->client = std::move(r).value();
    });
  }
  (void)net.RunUntilIdle();
  return pairs;
}

void PingPong(benchmark::State& state, bool traced) {
  Trace trace(0);
  SimNetwork net(BenchOptions(traced ? &trace : nullptr));
  SimRuntime& a = *net.AddHost("a").value();
  SimRuntime& b = *net.AddHost("b").value();
  auto pairs = ConnectPairs(net, a, b, static_cast<size_t>(state.range(0)));
  const std::vector<uint8_t> msg(64, 'x');
  for (auto& p : pairs) {
    p->client_echo.stream = p->client.get();
    p->server_echo.stream = p->server.get();
    p->client->SetHandler(&p->client_echo);
    p->server->SetHandler(&p->server_echo);
    p->client->Write(msg);
  }
  const uint64_t before = net.stats().deliveries;
  for (auto _ : state) net.RunOne();
  const uint64_t deliveries = net.stats().deliveries - before;
  state.SetItemsProcessed(static_cast<int64_t>(deliveries));
  state.counters["deliveries/s"] =
      benchmark::Counter(static_cast<double>(deliveries), benchmark::Counter::kIsRate);
}

void BM_StreamPingPong64(benchmark::State& state) { PingPong(state, false); }
BENCHMARK(BM_StreamPingPong64)->Arg(1)->Arg(1000);

void BM_StreamPingPong64Traced(benchmark::State& state) { PingPong(state, true); }
BENCHMARK(BM_StreamPingPong64Traced)->Arg(1);

struct Writer : StreamHandler {
  Stream* stream = nullptr;
  const std::vector<uint8_t>* msg = nullptr;
  void Fill() {
    while (stream->Writable()) stream->Write(*msg);
  }
  void OnData(std::span<const uint8_t>) override {}
  void OnEnd() override {}
  void OnWritable() override { Fill(); }
  void OnClosed(CloseReason, std::string_view) override {}
};

struct Reader : StreamHandler {
  void OnData(std::span<const uint8_t> data) override { benchmark::DoNotOptimize(data.data()); }
  void OnEnd() override {}
  void OnClosed(CloseReason, std::string_view) override {}
};

void BM_StreamStreaming64(benchmark::State& state) {
  SimNetwork net(BenchOptions());
  SimRuntime& a = *net.AddHost("a").value();
  SimRuntime& b = *net.AddHost("b").value();
  auto pairs = ConnectPairs(net, a, b, 1);
  const std::vector<uint8_t> msg(64, 'y');
  Writer writer;
  Reader reader;
  writer.stream = pairs[0]->client.get();
  writer.msg = &msg;
  pairs[0]->client->SetHandler(&writer);
  pairs[0]->server->SetHandler(&reader);
  const uint64_t before = net.stats().bytes_delivered;
  writer.Fill();
  for (auto _ : state) net.RunOne();
  const uint64_t writes = (net.stats().bytes_delivered - before) / msg.size();
  state.SetItemsProcessed(static_cast<int64_t>(writes));
  state.counters["writes_delivered/s"] =
      benchmark::Counter(static_cast<double>(writes), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StreamStreaming64);

void BM_IdleStreamPairMemory(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  double per_pair = 0;
  for (auto _ : state) {
    SimNetwork net(BenchOptions());
    SimRuntime& a = *net.AddHost("a").value();
    SimRuntime& b = *net.AddHost("b").value();
    Reader reader;
    // Warm up what does not grow per pair (links, the event slab and heap, the block pool).
    {
      auto warm = ConnectPairs(net, a, b, count);
      for (auto& p : warm) {
        p->server->SetHandler(&reader);
        p->client->Write(AsBytes("ping"));
      }
      (void)net.RunUntilIdle();
    }
    (void)net.RunUntilIdle();
    malloc_trim(0);
    const size_t before = mallinfo2().uordblks;
    std::vector<std::unique_ptr<Stream>> clients;
    std::vector<std::unique_ptr<Stream>> servers;
    clients.reserve(count);
    servers.reserve(count);
    auto listener = b.Listen(Address{"b", 81}, [&](std::unique_ptr<Stream> s) {
      s->SetHandler(&reader);
      servers.push_back(std::move(s));
    });
    for (size_t i = 0; i < count; ++i) {
      a.Dial(Address{"b", 81}, [&](Result<std::unique_ptr<Stream>> r) {
        clients.push_back(std::move(r).value());
      });
    }
    (void)net.RunUntilIdle();
    // Exchange a little traffic so the pairs are idle after use, not just fresh.
    for (auto& c : clients) c->Write(AsBytes("ping"));
    (void)net.RunUntilIdle();
    const size_t after = mallinfo2().uordblks;
    // The two reserve()d vectors of unique_ptrs are the benchmark's, not the pairs'.
    const double vectors = 2.0 * static_cast<double>(count * sizeof(void*));
    per_pair = (static_cast<double>(after - before) - vectors) / static_cast<double>(count);
    benchmark::DoNotOptimize(per_pair);
  }
  state.counters["bytes_per_idle_pair"] = per_pair;
}
BENCHMARK(BM_IdleStreamPairMemory)->Arg(10'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wpsim::sim
