#include <benchmark/benchmark.h>

#include <vector>

#include "base/shared_bytes.h"

namespace {

// Baseline: copying a 64-byte message into a fresh vector per subscriber.
void BM_CopyPerSubscriber(benchmark::State& state) {
  std::vector<uint8_t> msg(64, 'x');
  for (auto _ : state) {
    std::vector<uint8_t> copy(msg);
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CopyPerSubscriber);

// Fan-out path: sharing one encoded buffer costs a counter increment.
void BM_SharePerSubscriber(benchmark::State& state) {
  wpsim::SharedBytes msg = wpsim::SharedBytes::Copy(std::string_view(
      "0123456789012345678901234567890123456789012345678901234567890123"));
  for (auto _ : state) {
    wpsim::SharedBytes ref(msg);
    benchmark::DoNotOptimize(ref.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharePerSubscriber);

}  // namespace
