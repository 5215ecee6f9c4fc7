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
};

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
class RunOutcome {
 public:
  explicit RunOutcome(const Scenario& scenario);
  void Observe(uint32_t member, const clients::Observation& o);
  std::string Describe() const;

 private:
  const Scenario& scenario_;
  std::vector<std::vector<std::string>> events_;  // per member
};

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

// Shrinks `yaml_text` (one scenario) while a run with `seed` keeps failing with `signature`.
ShrinkResult ShrinkScenario(std::string_view yaml_text, const std::string& file_name, uint64_t seed,
                            const std::string& signature, const ExploreOptions& options);

struct FoundFailure {
  std::string signature;
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
  // One ScenarioResult per failing seed (named "<name> [seed N]"), sim target, virtual clock;
  // with census, also the first run of every distinct outcome ("<name> [outcome K: N seeds]").
  reports::RunReport report;
  // options.census: the distinct outcomes, most frequent first (ties: lower first seed).
  std::vector<CensusEntry> census;
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
