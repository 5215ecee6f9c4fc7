// Loopback TCP throughput of 64-byte messages through UvRuntime, with and without per-turn
// write coalescing, plus the same over TLS. Each benchmark reports messages/s (items_per_second)
// and x_baseline: its rate divided by the baseline's (one write system call per message),
// measured in the same run. Run the baseline first (it is registered first).
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <vector>

#include "sim/tls/tls.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::sim {
namespace {

constexpr size_t kMessageBytes = 64;
constexpr uint64_t kMessagesPerIteration = 20'000;

double g_baseline_rate = 0;

class CountingReader : public StreamHandler {
 public:
  void OnData(std::span<const uint8_t> data) override { bytes += data.size(); }
  void OnEnd() override {}
  void OnClosed(CloseReason, std::string_view) override { closed = true; }
  uint64_t bytes = 0;
  bool closed = false;
};

class Writer : public StreamHandler {
 public:
  void OnData(std::span<const uint8_t>) override {}
  void OnEnd() override {}
  void OnWritable() override {
    if (waiting_writable) {
      waiting_writable = false;
      Turn();
    }
  }
  void OnClosed(CloseReason, std::string_view) override {}

  // Writes `batch` messages in this turn, then continues on the next turn.
  void Turn() {
    for (uint32_t i = 0; i < batch && sent < goal; ++i) {
      if (!stream->Writable()) {
        waiting_writable = true;
        return;
      }
      stream->Write(std::span<const uint8_t>(message, kMessageBytes));
      ++sent;
    }
    if (sent < goal) rt->Post([this] { Turn(); });
  }

  Runtime* rt = nullptr;
  Stream* stream = nullptr;
  uint32_t batch = 1;
  uint64_t sent = 0;
  uint64_t goal = 0;
  bool waiting_writable = false;
  uint8_t message[kMessageBytes] = {};
};

struct Setup {
  std::unique_ptr<UvRuntime> rt;
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
  CountingReader reader;
  Writer writer;
};

// Connects a loopback pair (TLS when `tls`); returns nullptr on failure.
std::unique_ptr<Setup> Connect(bool coalesce, bool tls) {
  auto s = std::make_unique<Setup>();
  s->rt = std::make_unique<UvRuntime>(UvRuntimeOptions{.seed = 1, .coalesce_writes = coalesce});
  Setup* p = s.get();
  AcceptFn on_accept = [p](std::unique_ptr<Stream> st) {
    p->server = std::move(st);
    p->server->SetHandler(&p->reader);
  };
  DialFn on_dial = [p](Result<std::unique_ptr<Stream>> r) {
    if (r.ok()) p->client = std::move(r.value());
  };
  if (tls) {
    Rng rng(2);
    auto cert = GenerateSelfSignedCert("bench", {"localhost"}, rng);
    auto server_config =
        TlsConfig::Server(TlsServerOptions{.cert_pem = cert->cert_pem, .key_pem = cert->key_pem});
    auto client_config =
        TlsConfig::Client(TlsClientOptions{.server_name = "localhost", .ca_pem = cert->cert_pem});
    auto l = ListenTls(*s->rt, Address{"127.0.0.1", 0}, server_config.value(), on_accept);
    if (!l.ok()) return nullptr;
    s->listener = std::move(l.value());
    DialTls(*s->rt, s->listener->address(), client_config.value(), on_dial);
  } else {
    auto l = s->rt->Listen(Address{"127.0.0.1", 0}, on_accept);
    if (!l.ok()) return nullptr;
    s->listener = std::move(l.value());
    s->rt->Dial(s->listener->address(), on_dial);
  }
  if (!s->rt->RunUntil([p] { return p->client != nullptr && p->server != nullptr; },
                       10 * kSecond)) {
    return nullptr;
  }
  s->writer.rt = s->rt.get();
  s->writer.stream = s->client.get();
  s->client->SetHandler(&s->writer);
  return s;
}

void RunDeliveries(benchmark::State& state, bool coalesce, uint32_t batch, bool tls,
                   bool is_baseline) {
  auto s = Connect(coalesce, tls);
  if (s == nullptr) {
    state.SkipWithError("could not connect a loopback pair");
    return;
  }
  s->writer.batch = batch;
  const UvStats before = s->rt->stats();
  const Nanos start = s->rt->Now();
  for (auto _ : state) {
    const uint64_t target_bytes = s->reader.bytes + kMessagesPerIteration * kMessageBytes;
    s->writer.goal += kMessagesPerIteration;
    s->writer.Turn();
    Setup* p = s.get();
    if (!s->rt->RunUntil([p, target_bytes] { return p->reader.bytes >= target_bytes; },
                         60 * kSecond)) {
      state.SkipWithError("messages did not arrive");
      return;
    }
  }
  const double seconds = static_cast<double>(s->rt->Now() - start) / kSecond;
  const uint64_t messages = state.iterations() * kMessagesPerIteration;
  state.SetItemsProcessed(static_cast<int64_t>(messages));
  state.SetBytesProcessed(static_cast<int64_t>(messages * kMessageBytes));
  const UvStats& after = s->rt->stats();
  // Write system calls per message, from the runtime's own counters (both directions' flushes
  // counted; the reader writes nothing).
  state.counters["flushes_per_msg"] =
      static_cast<double>(after.flushes - before.flushes) / static_cast<double>(messages);
  const double rate = static_cast<double>(messages) / seconds;
  state.counters["msgs_per_s"] = rate;
  if (is_baseline) g_baseline_rate = rate;
  // The speed-up over one write per message, both measured in this run (0 if the baseline
  // was filtered out).
  state.counters["x_baseline"] = g_baseline_rate > 0 ? rate / g_baseline_rate : 0;
}

void BM_OneWritePerMessage_Baseline(benchmark::State& state) {
  RunDeliveries(state, /*coalesce=*/false, /*batch=*/1, /*tls=*/false, true);
}
void BM_Uncoalesced_10PerTurn(benchmark::State& state) {
  RunDeliveries(state, false, 10, false, false);
}
void BM_Coalesced_1PerTurn(benchmark::State& state) { RunDeliveries(state, true, 1, false, false); }
void BM_Coalesced_10PerTurn(benchmark::State& state) {
  RunDeliveries(state, true, 10, false, false);
}
void BM_Coalesced_100PerTurn(benchmark::State& state) {
  RunDeliveries(state, true, 100, false, false);
}
void BM_Tls_Coalesced_10PerTurn(benchmark::State& state) {
  RunDeliveries(state, true, 10, true, false);
}

BENCHMARK(BM_OneWritePerMessage_Baseline)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Uncoalesced_10PerTurn)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Coalesced_1PerTurn)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Coalesced_10PerTurn)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Coalesced_100PerTurn)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Tls_Coalesced_10PerTurn)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wpsim::sim
