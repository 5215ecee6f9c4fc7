// `wpsim explore`: run one scenario under many seeds with scheduler perturbation to find failing
// interleavings, then shrink a failing case to a minimal scenario that still fails the same way.
//
// Theory of operation. A sim run is a pure function of (scenario, seed, perturb, injected bugs)
// (DESIGN.md §4), so exploring is a loop over seeds and every finding is reproducible from its
// seed alone. Failures are grouped by a *signature*: the set of failed expectations, each as its
// case id plus its message with source positions removed and numbers replaced by '#', so the
// same violated expectation groups together whatever counts or timestamps it printed and
// wherever it sits in the (shrinking) file.
//
// Shrinking works on the YAML node tree, not on the loaded Scenario, so every candidate is a
// scenario a person could have written: each candidate is re-emitted, re-loaded through
// LoadScenarioText (a candidate the loader rejects -- a dangling label, a client still in
// use -- is simply dropped) and run with the failing seed; it is kept only if it fails with the
// same signature -- and, when the original passes the *control* run (the same seed without
// perturbation and without injected bugs), only if the candidate passes it too: otherwise an
// in_order expectation would shrink to "no steps at all", which fails the same way for a
// trivial reason. Passes, repeated until none makes progress or the run budget is spent:
// delta-debugging removal over the expectation, invariant and threshold lists and over every
// step list (top level and inside parallel/repeat blocks), unwrapping parallel/repeat blocks,
// halving repeat and cohort counts, dropping clients, and dropping optional keys (network
// latency and jitter, upstream, service settings, tags, ...). Every pass visits candidates in a
// fixed order, so the same inputs always give the same minimal scenario.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "clients/observation.h"
#include "conformance/runner.h"
#include "conformance/scenario.h"
#include "reports/model.h"
#include "service/options.h"

namespace wpsim::conformance {

struct ExploreOptions {
  uint64_t start_seed = 1;
  uint64_t seeds = 100;  // seeds start_seed .. start_seed + seeds - 1
  bool perturb = true;
  std::set<service::Bug> extra_bugs;
  // Stop exploring once this many distinct signatures were found (0: explore every seed).
  size_t stop_after = 1;
  bool shrink = true;
  size_t shrink_budget = 400;  // scenario runs per shrink
  // After shrinking: how many seeds (from start_seed) the minimal scenario is tried under.
  uint64_t check_seeds = 10;
  uint64_t event_budget = 50'000'000;
  // Called with one line per finding as it happens (new failing seeds, shrink progress).
  std::function<void(std::string_view line)> progress;
  bool verbose = false;  // also report every accepted shrink step through `progress`
  // Outcome census: also describe every run's observable outcome (RunOutcome) and count the
  // distinct ones (ExploreResult::census).
  bool census = false;
  // Swarm faults: every seed also draws a fault plan (DrawSwarmPlan) from the scenario's `swarm:`
  // ranges; the seed runs the scenario with the plan written into its steps (WithSwarmPlan).
  bool swarm = false;
  // --match: the observed outcome (reports::ScenarioResult::observed of a real run) to find; the
  // seed loop stops at the first seed whose RunOutcome equals it (ExploreResult::matched_seed),
  // and shrinking keeps candidates whose outcome still equals it.
  std::string match;
  // Called after every seed with the seeds run and failed so far; returning false stops the
  // loop (ExploreResult::interrupted). `wpsim explore` draws its progress line and applies
  // --time-budget here (wall time stays out of this library).
  std::function<bool(uint64_t seeds_run, uint64_t seeds_failed)> on_seed;
};

// Swarm testing. A seed's fault plan is a pure function of (scenario, seed, window): the faults
// are drawn from sim::Rng::Derive(seed, "swarm") -- a generator of its own, so the plan does
// not change the run's other random choices -- and written into the scenario as an `async`
// parallel block before the first step, one `at`-timed step per fault start and one per heal:
//   latency       delay {client, latency: lognormal median=M sigma=0.8} .. delay {restore: true}
//   loss          delay {client, loss: F} .. delay {restore: true}
//   slow_reader   delay {client, receive_window: N} .. delay {restore: true}
//   service_delay delay {client: upstream, latency: ...} .. delay {restore: true}
//   partition     partition {client, direction: D} .. heal: client
//   clock_skew    set_clock_skew {client, skew: +-S} .. set_clock_skew {skew: 0ms}
//   reset         reset: client (no heal: the transport is gone)
// So the plan is part of the scenario: the shrinker drops its steps like any other (a fault and
// its heal are adjacent, so removing a pair drops one fault), and the minimal scenario replays
// with `wpsim run` without --swarm. Overlapping link faults on one client end at the first
// restore (restore sets every link setting back to the scenario's).
struct PlannedFault {
  SwarmFault kind = SwarmFault::kLatency;
  std::string client;  // member name, or "upstream" for service_delay
  int64_t at_ns = 0;
  int64_t duration_ns = 0;  // 0 for reset
  std::string detail;       // "lognormal median=7ms sigma=0.8", "service_to_client", ...
};
struct SwarmPlan {
  std::vector<PlannedFault> faults;
  // "none" or "partition sub service_to_client at 12ms for 30ms; loss pub 0.021 at 3ms for 9ms"
  std::string Describe() const;
};
// Draws seed's plan; faults start in [0, window_ns) (the swarm section's window wins).
SwarmPlan DrawSwarmPlan(const Scenario& scenario, uint64_t seed, int64_t window_ns);
// The scenario text with `plan` as its first step (the text unchanged for an empty plan).
Result<std::string> WithSwarmPlan(std::string_view yaml_text, const SwarmPlan& plan);

// One distinct observable outcome of a census: how many seeds reached it and the first one.
struct CensusEntry {
  std::string outcome;  // RunOutcome's description
  uint64_t count = 0;
  uint64_t first_seed = 0;
  bool failed = false;  // the first seed's run failed an expectation
};

// Collects a run's observable outcome through RunnerOptions::on_observation: per member, in
// order, what it observed that a race can change, without times or ids -- data messages
// (group/server, payload), replays it dropped, acks (id and result), closes (code), refused
// upgrades (status), MQTT PUBLISH (topic, payload), REST answers (status). Describe() gives
// "sub: g:m, ack 1 ok | w: g:m".
// Past max_events in all, the outcome is "too long" (Describe() then returns ""): `wpsim run`
// records one for every scenario on a real target, load scenarios included.
class RunOutcome {
 public:
  explicit RunOutcome(const Scenario& scenario, size_t max_events = SIZE_MAX);
  void Observe(uint32_t member, const clients::Observation& o);
  std::string Describe() const;
  bool too_long() const { return too_long_; }

 private:
  const Scenario& scenario_;
  std::vector<std::vector<std::string>> events_;  // per member
  size_t max_events_;
  size_t events_total_ = 0;
  bool too_long_ = false;
};
inline constexpr size_t kRecordedOutcomeEventsMax = 4096;

// Runs `scenario` into `result` and returns its RunOutcome description ("" past max_events).
std::string RunAndDescribe(const Scenario& scenario, RunnerOptions options, reports::ScenarioResult& result,
                           size_t max_events = SIZE_MAX);

// The size of a scenario as the shrinker reports it.
struct ScenarioSize {
  size_t steps = 0;  // every step, nested ones included
  size_t clients = 0;
  size_t members = 0;
  size_t expectations = 0;
  bool operator==(const ScenarioSize&) const = default;
  // "steps 12, clients 6, members 9, expectations 3"
  std::string ToString() const;
};
ScenarioSize MeasureScenario(const Scenario& scenario);

// "" for a passing or skipped result; otherwise the sorted, '|'-joined set of normalized
// failures (see the theory of operation).
std::string FailureSignature(const reports::ScenarioResult& result);

struct ShrinkStep {
  std::string what;  // e.g. "removed 2 step(s) from steps[6].parallel"
  ScenarioSize after;
};

struct ShrinkResult {
  std::string yaml;  // the minimal scenario (no header comment)
  ScenarioSize before;
  ScenarioSize after;
  std::vector<ShrinkStep> steps;
  size_t runs = 0;
  bool budget_exhausted = false;
  // False when even the re-emitted original did not fail the same way (nothing was shrunk).
  bool reproduced = false;
  // True when the original passed the control run (same seed, no perturbation, no injected
  // bugs); every accepted candidate then passed it too, so the minimal scenario still needs
  // the perturbation or the bug to fail.
  bool control_required = false;
};

// Shrinks `yaml_text` (one scenario) while a run with `seed` keeps failing with `signature` (with
// options.match set: while its outcome stays options.match; `signature` is then unused).
ShrinkResult ShrinkScenario(std::string_view yaml_text, const std::string& file_name, uint64_t seed,
                            const std::string& signature, const ExploreOptions& options);

struct FoundFailure {
  std::string signature;
  // --swarm: the first failing seed's fault plan and the scenario text it ran (what is shrunk).
  std::optional<SwarmPlan> swarm_plan;
  std::string swarm_yaml;
  std::string first_message;  // the first failure's message of the first failing seed
  std::vector<uint64_t> seeds;  // failing seeds with this signature, ascending
  std::optional<ShrinkResult> shrunk;
  // Seed dependence of the minimal scenario (only when shrunk and reproduced).
  bool fails_without_perturbation = false;
  uint64_t check_seeds_failed = 0;
  uint64_t check_seeds_run = 0;
};

struct ExploreResult {
  std::string scenario_name;
  uint64_t seeds_run = 0;
  uint64_t seeds_failed = 0;
  std::vector<FoundFailure> failures;  // in order of discovery
  bool stopped_early = false;          // stop_after reached before the last seed
  bool interrupted = false;            // options.on_seed stopped the loop
  // One ScenarioResult per failing seed (named "<name> [seed N]"), sim target, virtual clock;
  // with census, also the first run of every distinct outcome ("<name> [outcome K: N seeds]").
  reports::RunReport report;
  // options.census: the distinct outcomes, most frequent first (ties: lower first seed).
  std::vector<CensusEntry> census;
  // options.match: the first seed whose outcome equals it; its swarm plan and scenario text.
  std::optional<uint64_t> matched_seed;
  std::optional<SwarmPlan> matched_plan;
  std::string matched_yaml;
  // options.match: the closest outcomes seen (most frequent first, at most 5) when none matched.
  std::vector<CensusEntry> near_misses;
};

// Explores one scenario given as YAML text: ExploreSeeds, then (options.shrink) ShrinkFailures.
// An error (code "scenario") when the text does not load; the loader's diagnostics are in the
// message.
Result<ExploreResult> Explore(std::string_view yaml_text, const std::string& file_name,
                              const ExploreOptions& options);
// The seed loop alone (no shrinking).
Result<ExploreResult> ExploreSeeds(std::string_view yaml_text, const std::string& file_name,
                                   const ExploreOptions& options);
// Shrinks every failure of `result` with its first failing seed and checks the minimal
// scenario's seed dependence (fills FoundFailure::shrunk and the check_* fields).
void ShrinkFailures(std::string_view yaml_text, const std::string& file_name, const ExploreOptions& options,
                    ExploreResult& result);

// The YAML text the shrinker writes for `yaml_text` unchanged (comments dropped, quoted scalars
// kept quoted): it loads to the same scenario.
Result<std::string> CanonicalYaml(std::string_view yaml_text);

// The command line that reproduces a failure of the scenario file `path` with `seed`.
std::vector<std::string> ReproduceArgv(const std::string& path, uint64_t seed, const ExploreOptions& options);

// Loads the scenario file `path`, runs it with `seed` as ReproduceArgv would, and fills
// `result`; true when it failed with `signature`.
bool Reproduces(const std::string& path, uint64_t seed, const std::string& signature,
                const ExploreOptions& options, reports::ScenarioResult& result);

}  // namespace wpsim::conformance
