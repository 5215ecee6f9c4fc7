// Scheduler throughput: events run per second with a steady population of pending events, each
// rescheduling itself at a pseudo-random later time (the shape of a busy simulation).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "sim/scheduler.h"

namespace wpsim::sim {
namespace {

struct Churn {
  Scheduler* scheduler;
  uint64_t state;
  void Fire() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const Nanos delay = static_cast<Nanos>(state % 1'000'000);  // within 1 ms
    scheduler->ScheduleAfter(delay, [this] { Fire(); });
  }
};

void RunChurn(benchmark::State& state, bool perturb) {
  Scheduler scheduler(SchedulerOptions{perturb, 42});
  const auto population = static_cast<size_t>(state.range(0));
  std::vector<Churn> churn(population);
  for (size_t i = 0; i < population; ++i) {
    churn[i] = Churn{&scheduler, 0x9e3779b97f4a7c15ULL * (i + 1)};
    churn[i].Fire();
  }
  for (auto _ : state) scheduler.Step();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_SchedulerEvents(benchmark::State& state) { RunChurn(state, false); }
BENCHMARK(BM_SchedulerEvents)->Arg(16)->Arg(1'000)->Arg(10'000)->Arg(100'000);

void BM_SchedulerEventsPerturbed(benchmark::State& state) { RunChurn(state, true); }
BENCHMARK(BM_SchedulerEventsPerturbed)->Arg(1'000);

// A timer that is set and cancelled again before it fires (keepalive and ack timers).
void BM_SchedulerSetAndCancel(benchmark::State& state) {
  Scheduler scheduler;
  for (auto _ : state) {
    const EventId id = scheduler.ScheduleAfter(kSecond, [] {});
    scheduler.Cancel(id);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SchedulerSetAndCancel);

}  // namespace
}  // namespace wpsim::sim
