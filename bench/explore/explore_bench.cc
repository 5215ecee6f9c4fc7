// Exploration speed: how many seeds per second `wpsim explore` runs on a 4-client race
// (scenarios/races/rest-remove-vs-add-same-pair: a subscriber, a witness and two REST callers,
// perturbation on), with and without --swarm. A shared machine's wall-clock speed varies by a
// factor of several with load, so every benchmark reports seeds per wall second (`seeds/s`, what
// a user waits for), seeds per CPU second of this process (`seeds/cpu_s`, one core's worth) and
// `vs_baseline`: seeds/cpu_s divided by the CPU rate of a fixed workload (one million simulator
// scheduler events, measured in the same process just before), per million events.
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/explore.h"
#include "sim/scheduler.h"

namespace wpsim::conformance {
namespace {

const std::string kRace = std::string(WPSIM_SOURCE_DIR) + "/scenarios/races/rest-remove-vs-add-same-pair.yaml";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// This process's CPU time in seconds (on a shared machine, wall time also counts other work).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Scheduler events per CPU second: one million self-rescheduling events.
double BaselineEventsPerSecond() {
  sim::Scheduler scheduler(sim::SchedulerOptions{false, 42});
  uint64_t fired = 0;
  struct Churn {
    sim::Scheduler* s;
    uint64_t state;
    uint64_t* fired;
    void Fire() {
      ++*fired;
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      s->ScheduleAfter(static_cast<sim::Nanos>(state % 1'000'000), [this] { Fire(); });
    }
  };
  std::vector<Churn> churn(1000);
  for (size_t i = 0; i < churn.size(); ++i) {
    churn[i] = Churn{&scheduler, 0x9e3779b97f4a7c15ULL * (i + 1), &fired};
    churn[i].Fire();
  }
  const double t0 = CpuSeconds();
  for (int i = 0; i < 1'000'000; ++i) scheduler.Step();
  return static_cast<double>(fired) / (CpuSeconds() - t0);
}

void Explore(benchmark::State& state, bool swarm) {
  const std::string text = ReadFile(kRace);
  const double baseline = BaselineEventsPerSecond();
  ExploreOptions o;
  o.seeds = static_cast<uint64_t>(state.range(0));
  o.stop_after = 0;
  o.shrink = false;
  o.swarm = swarm;
  uint64_t seeds = 0;
  uint64_t start = 1;
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  for (auto _ : state) {
    o.start_seed = start;
    start += o.seeds;
    Result<ExploreResult> r = ExploreSeeds(text, kRace, o);
    if (!r.ok() || r.value().seeds_failed != 0) {
      state.SkipWithError("the race failed or did not load");
      return;
    }
    seeds += r.value().seeds_run;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_rate = static_cast<double>(seeds) / (CpuSeconds() - cpu0);
  state.counters["seeds/s"] = static_cast<double>(seeds) / secs;  // wall: what a user waits
  state.counters["seeds/cpu_s"] = cpu_rate;                        // one core's worth
  // Seeds per million baseline events (both per CPU second): comparable between machines.
  state.counters["vs_baseline"] = cpu_rate / baseline * 1e6;
  state.counters["baseline_Mevents/s"] = baseline / 1e6;
}

void BM_ExploreFourClientRace(benchmark::State& state) { Explore(state, false); }
BENCHMARK(BM_ExploreFourClientRace)->Arg(200)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ExploreFourClientRaceSwarm(benchmark::State& state) { Explore(state, true); }
BENCHMARK(BM_ExploreFourClientRaceSwarm)->Arg(200)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace wpsim::conformance
