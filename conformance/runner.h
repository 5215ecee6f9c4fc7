// The conformance runner: executes one scenario (conformance/scenario.h) against a target and
// fills a reports::ScenarioResult with the verdict, failures (expected vs actual), latencies,
// the seed and the trace hash.
//
// Theory of operation. A run owns an Environment (conformance/targets.h): for the sim target a
// SimNetwork with one host for the service and one per client member, all in virtual time; for
// real targets a UvRuntime. The runner is a driver (conformance/driver.h): it executes the steps
// in order, handing each to its step family (conformance/steps/<family>.cc), which makes the client
// call (*issues* it); the driver then *awaits* it: the environment runs until the step's
// completion predicate holds (the ack, the REST response, the connection outcome...) or its
// timeout passes. Every client observation is handed, as it happens, to the evaluators of the
// scenario's expectations and invariants, which keep only what their verdict needs and judge
// once the run has settled (an observation stream: nothing keeps every observation). Nothing
// here reads a wall clock except the real-time environment, so a sim run is a pure function of
// the scenario and the seed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clients/observation.h"
#include "conformance/scenario.h"
#include "reports/model.h"
#include "service/options.h"

namespace wpsim::conformance {

inline constexpr uint64_t kDefaultSeed = 1;

struct RunnerOptions {
  Target target = Target::kSim;
  std::optional<uint64_t> seed;  // overrides the scenario's seed
  std::optional<bool> perturb;   // overrides run.perturb (explore)
  // Real targets: where the service is. Empty for local means "start one in-process".
  std::string connection_string;
  std::string ca_file;  // remote: extra CA certificates (PEM) for wss://
  // Local in-process service: HOST:PORT it listens on (port 0: an ephemeral port).
  std::string listen = "127.0.0.1:0";
  // Real targets: appended to every scenario's hub name (isolates runs on a shared service).
  std::string hub_suffix;
  // Real targets: HOST:PORT where event-handler scenarios host their scripted application
  // server (conformance/real_environment.h). Empty: 127.0.0.1:0 for the in-process service;
  // an external service then skips them.
  std::string upstream_listen;
  // Real targets: skip scenarios whose declared waits exceed this much real time (0: no limit).
  int64_t max_real_wait_ns = 0;
  // Mutation runs: bugs switched on in addition to the scenario's own inject_bug.
  std::set<service::Bug> extra_bugs;
  bool verbose = false;
  // argv prefix of the reproduce command (e.g. {"wpsim", "run"}); the runner appends the file,
  // --filter, --seed and --target.
  std::vector<std::string> reproduce_prefix = {"wpsim", "run"};
  // Latency histograms (connect, ack RTT, publish-to-receive, REST): false leaves them out, for
  // `wpsim explore` on a scenario without thresholds (allocating them was ~40 % of a seed).
  bool record_latency = true;
  // Sim: how many simulator events one scenario may use before it is stopped.
  uint64_t event_budget = 50'000'000;
  // Called with every client observation of the run (member index, as it happens), after the
  // runner's own bookkeeping; `wpsim explore --census` builds a run's outcome from it.
  std::function<void(uint32_t member, const clients::Observation&)> on_observation;
};

// Runs `scenario` and records everything into `result` (which the caller created with
// RunReport::AddScenario). Scenarios the target cannot run are marked skipped with the reason.
void RunScenario(const Scenario& scenario, const RunnerOptions& options,
                 reports::ScenarioResult& result);

// The seed a scenario runs with under `options`.
uint64_t EffectiveSeed(const Scenario& scenario, const RunnerOptions& options);

// Why this build of the runner cannot run the scenario on `options.target` at all (clients or
// features not available yet, or requirements a real target cannot meet: see
// conformance/real_environment.h); empty when it can.
std::vector<std::string> SkipReasons(const Scenario& scenario, const RunnerOptions& options);
// The same with default options for `target` (local: the in-process service, no wait limit).
std::vector<std::string> SkipReasons(const Scenario& scenario, Target target);

}  // namespace wpsim::conformance
