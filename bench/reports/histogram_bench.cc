// Latency histogram throughput: recording (the runner's per-delivery cost), coordinated-omission
// correction, merging (per series per shard in `wpsim report merge`), percentile queries and the
// compact JSON form.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "reports/histogram.h"
#include "reports/json_report.h"

namespace wpsim::reports {
namespace {

// Latencies spread log-uniformly over 10 µs .. 1 s, precomputed so the loop measures Record.
std::vector<int64_t> Values(size_t n) {
  std::vector<int64_t> v(n);
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    const int shift = static_cast<int>(s % 17);  // 2^13 .. 2^30 ns
    x = static_cast<int64_t>((int64_t{1} << (13 + shift)) + static_cast<int64_t>(s >> 40));
  }
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  Histogram h(static_cast<int>(state.range(0)));
  const std::vector<int64_t> values = Values(1 << 16);
  size_t i = 0;
  for (auto _ : state) {
    h.Record(values[i++ & 0xFFFF]);
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord)->Arg(2)->Arg(3)->Arg(4)->Arg(5);

void BM_HistogramRecordCorrected(benchmark::State& state) {
  Histogram h(3);
  const std::vector<int64_t> values = Values(1 << 16);
  size_t i = 0;
  for (auto _ : state) {
    h.RecordCorrected(values[i++ & 0xFFFF], 1'000'000);  // 1 ms intended interval
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordCorrected);

void BM_HistogramMerge(benchmark::State& state) {
  const int digits = static_cast<int>(state.range(0));
  Histogram a(digits), b(digits);
  for (int64_t v : Values(100'000)) b.Record(v);
  for (auto _ : state) {
    benchmark::DoNotOptimize(a.Merge(b).ok());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.counts_length() * 8));
}
BENCHMARK(BM_HistogramMerge)->Arg(2)->Arg(3)->Arg(4);

void BM_HistogramReportPercentiles(benchmark::State& state) {
  Histogram h(3);
  for (int64_t v : Values(100'000)) h.Record(v);
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.ValuesAtPercentiles(kReportPercentiles));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramReportPercentiles);

void BM_HistogramJsonRoundTrip(benchmark::State& state) {
  Histogram h(3);
  for (int64_t v : Values(100'000)) h.Record(v);
  for (auto _ : state) {
    Result<Histogram> back = HistogramFromJson(HistogramToJson(h));
    benchmark::DoNotOptimize(back.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramJsonRoundTrip);

}  // namespace
}  // namespace wpsim::reports
