#include "conformance/explore.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <map>
#include <optional>
#include <utility>
#include <variant>

#include "conformance/explore_yaml.h"
#include "conformance/loader.h"
#include "conformance/runner.h"
#include "conformance/shape/emit.h"
#include "conformance/units.h"
#include "sim/rng.h"

namespace wpsim::conformance {

// YAML emission that loads back to the same scenario (conformance/shape/emit.h).
using shape::EmitYaml;

std::string RunAndDescribe(const Scenario& scenario, RunnerOptions options, reports::ScenarioResult& result,
                           size_t max_events) {
  RunOutcome outcome(scenario, max_events);
  options.on_observation = [&outcome](uint32_t m, const clients::Observation& o) { outcome.Observe(m, o); };
  RunScenario(scenario, options, result);
  return outcome.Describe();
}

namespace {

RunnerOptions RunnerOptionsFor(const ExploreOptions& o, uint64_t seed, bool perturb, const Scenario& scenario) {
  RunnerOptions ro;
  // Latency histograms only matter to thresholds (and cost ~40 % of a seed to allocate).
  ro.record_latency = !scenario.thresholds.empty();
  ro.seed = seed;
  ro.perturb = perturb;
  ro.extra_bugs = o.extra_bugs;
  ro.event_budget = o.event_budget;
  return ro;
}


// ---------------------------------------------------------------------------------------------
// Swarm plans

YAML::Node FlowMap() {
  YAML::Node n(YAML::NodeType::Map);
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

YAML::Node TimedStep(const std::string& kind, const YAML::Node& value, int64_t at_ns) {
  YAML::Node step(YAML::NodeType::Map);
  step[kind] = value;
  step["at"] = FormatDuration(at_ns);
  return step;
}

YAML::Node LinkChange(const std::string& client, const std::string& key, const std::string& value) {
  YAML::Node v = FlowMap();
  v["client"] = client;
  if (key == "restore") {
    v["restore"] = true;
  } else {
    v[key] = value;
  }
  return v;
}

// The steps of one fault: its start, then (except reset) its heal.
void FaultSteps(const PlannedFault& f, YAML::Node& out) {
  const int64_t end = f.at_ns + f.duration_ns;
  switch (f.kind) {
    case SwarmFault::kLatency:
    case SwarmFault::kServiceDelay:
      out.push_back(TimedStep("delay", LinkChange(f.client, "latency", f.detail), f.at_ns));
      out.push_back(TimedStep("delay", LinkChange(f.client, "restore", ""), end));
      return;
    case SwarmFault::kLoss:
      out.push_back(TimedStep("delay", LinkChange(f.client, "loss", f.detail), f.at_ns));
      out.push_back(TimedStep("delay", LinkChange(f.client, "restore", ""), end));
      return;
    case SwarmFault::kSlowReader:
      out.push_back(TimedStep("delay", LinkChange(f.client, "receive_window", f.detail), f.at_ns));
      out.push_back(TimedStep("delay", LinkChange(f.client, "restore", ""), end));
      return;
    case SwarmFault::kPartition: {
      YAML::Node v = FlowMap();
      v["client"] = f.client;
      v["direction"] = f.detail;
      out.push_back(TimedStep("partition", v, f.at_ns));
      out.push_back(TimedStep("heal", YAML::Node(f.client), end));
      return;
    }
    case SwarmFault::kClockSkew: {
      YAML::Node v = FlowMap();
      v["client"] = f.client;
      v["skew"] = f.detail;
      out.push_back(TimedStep("set_clock_skew", v, f.at_ns));
      YAML::Node back = FlowMap();
      back["client"] = f.client;
      back["skew"] = "0ms";
      out.push_back(TimedStep("set_clock_skew", back, end));
      return;
    }
    case SwarmFault::kReset: out.push_back(TimedStep("reset", YAML::Node(f.client), f.at_ns)); return;
  }
}

int64_t Between(sim::Rng& rng, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(hi - lo) + 1));
}

}  // namespace

std::string SwarmPlan::Describe() const {
  if (faults.empty()) return "none";
  std::string out;
  for (const PlannedFault& f : faults) {
    if (!out.empty()) out += "; ";
    out += std::string(SwarmFaultName(f.kind)) + " " + f.client + (f.detail.empty() ? "" : " " + f.detail) +
           " at " + FormatTime(f.at_ns);
    if (f.kind != SwarmFault::kReset) out += " for " + FormatTime(f.duration_ns);
  }
  return out;
}

SwarmPlan DrawSwarmPlan(const Scenario& scenario, uint64_t seed, int64_t window_ns) {
  const SwarmSettings& s = scenario.swarm;
  constexpr int64_t kMs = 1'000'000;
  std::vector<SwarmFault> kinds = s.faults;
  if (kinds.empty()) {
    kinds = {SwarmFault::kLatency, SwarmFault::kLoss, SwarmFault::kPartition, SwarmFault::kSlowReader,
             SwarmFault::kServiceDelay};
  }
  // service_delay needs the application server's link.
  if (!scenario.upstream.present) std::erase(kinds, SwarmFault::kServiceDelay);
  std::vector<std::string> targets;
  if (s.clients) {
    for (uint32_t m : s.clients->members) targets.push_back(scenario.members[m].name);
  } else {
    for (uint32_t m = 0; m < scenario.members.size(); ++m) {
      if (scenario.ClientOf(m).kind != ClientKind::kRest) targets.push_back(scenario.members[m].name);
    }
  }
  SwarmPlan plan;
  if (kinds.empty() || (targets.empty() && kinds != std::vector<SwarmFault>{SwarmFault::kServiceDelay})) return plan;
  sim::Rng rng = sim::Rng::Derive(seed, "swarm");
  const int64_t window = std::max<int64_t>(kMs, s.window_ns.value_or(window_ns));
  const uint64_t n = rng.Below(s.max_faults + 1);
  for (uint64_t i = 0; i < n; ++i) {
    PlannedFault f;
    f.kind = kinds[rng.Below(kinds.size())];
    if (f.kind == SwarmFault::kServiceDelay) {
      f.client = "upstream";
    } else {
      if (targets.empty()) continue;
      f.client = targets[rng.Below(targets.size())];
    }
    f.at_ns = Between(rng, 0, window - 1) / 1000 * 1000;  // whole microseconds
    f.duration_ns = Between(rng, kMs, std::max(kMs, s.max_duration_ns)) / 1000 * 1000;
    switch (f.kind) {
      case SwarmFault::kLatency:
      case SwarmFault::kServiceDelay: {
        const int64_t median = Between(rng, kMs, std::max(kMs, s.max_latency_ns)) / 1000 * 1000;
        f.detail = "lognormal median=" + FormatDuration(median) + " sigma=0.8";
        break;
      }
      case SwarmFault::kLoss: {
        // 0.5% .. max_loss, in tenths of a percent.
        const uint64_t hi = std::max<uint64_t>(5, static_cast<uint64_t>(s.max_loss * 1000 + 0.5));
        const uint64_t permille = 5 + rng.Below(hi - 5 + 1);
        f.detail = std::to_string(permille / 10) + "." + std::to_string(permille % 10) + "%";
        break;
      }
      case SwarmFault::kSlowReader: {
        const uint64_t lo = std::max<uint64_t>(1, s.min_receive_window);
        const uint64_t hi = std::max<uint64_t>(lo, 64 * 1024);
        f.detail = std::to_string(lo + rng.Below(hi - lo + 1));
        break;
      }
      case SwarmFault::kPartition: {
        static const char* const kDirs[] = {"both", "client_to_service", "service_to_client"};
        f.detail = kDirs[rng.Below(3)];
        break;
      }
      case SwarmFault::kClockSkew: {
        const int64_t ms = Between(rng, 1, std::max<int64_t>(1, s.max_clock_skew_ns / kMs));
        f.detail = (rng.Below(2) ? "+" : "-") + std::to_string(ms) + "ms";
        break;
      }
      case SwarmFault::kReset: f.duration_ns = 0; break;
    }
    plan.faults.push_back(std::move(f));
  }
  return plan;
}

Result<std::string> WithSwarmPlan(std::string_view yaml_text, const SwarmPlan& plan) {
  if (plan.faults.empty()) return std::string(yaml_text);
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap()) return Error{"scenario", "the scenario is not a mapping"};
    YAML::Node children(YAML::NodeType::Sequence);
    for (const PlannedFault& f : plan.faults) FaultSteps(f, children);
    YAML::Node block(YAML::NodeType::Map);
    YAML::Node par(YAML::NodeType::Map);
    par["steps"] = children;
    block["parallel"] = par;
    block["async"] = true;
    YAML::Node steps(YAML::NodeType::Sequence);
    steps.push_back(block);
    YAML::Node old = Resolve(root, {std::string("steps")});
    if (old.IsSequence()) {
      for (const YAML::Node& st : old) steps.push_back(st);
    }
    root["steps"] = steps;
    return EmitYaml(root);
  } catch (const std::exception& e) {
    return Error{"scenario", e.what()};
  }
}
Result<ExploreResult> Explore(std::string_view yaml_text, const std::string& file_name,
                              const ExploreOptions& options) {
  Result<ExploreResult> out = ExploreSeeds(yaml_text, file_name, options);
  if (out.ok() && options.shrink) ShrinkFailures(yaml_text, file_name, options, out.value());
  return out;
}

RunOutcome::RunOutcome(const Scenario& scenario, size_t max_events)
    : scenario_(scenario), max_events_(max_events) {
  events_.resize(scenario.members.size());
}

void RunOutcome::Observe(uint32_t member, const clients::Observation& o) {
  using Kind = clients::Observation::Kind;
  std::string e;
  const std::string data(o.payload.data.view());
  switch (o.kind) {
    case Kind::kGroupMessage:
      e = o.mqtt ? o.mqtt->topic + ":" + data : o.group + ":" + data;
      break;
    case Kind::kServerMessage: e = o.mqtt ? o.mqtt->topic + ":" + data : "server:" + data; break;
    case Kind::kRawMessage: e = "raw:" + data; break;
    case Kind::kReplayDropped: e = "replay " + (o.group.empty() ? "server" : o.group) + ":" + data; break;
    case Kind::kAck:
      if (o.mqtt) return;
      e = "ack " + std::to_string(o.ack_id) + (o.success ? " ok" : " " + o.error_name);
      break;
    case Kind::kClosed: e = "closed " + std::to_string(o.close_code); break;
    case Kind::kHandshakeFailed: e = "refused " + std::to_string(o.http_status); break;
    case Kind::kHttpResponse: e = "http " + std::to_string(o.http_status); break;
    default: return;
  }
  if (too_long_) return;
  if (++events_total_ > max_events_) {
    too_long_ = true;
    events_.clear();
    return;
  }
  events_[member].push_back(std::move(e));
}

std::string RunOutcome::Describe() const {
  if (too_long_) return "";
  std::string out;
  for (uint32_t m = 0; m < events_.size(); ++m) {
    if (events_[m].empty()) continue;
    if (!out.empty()) out += " | ";
    out += scenario_.members[m].name + ":";
    for (size_t i = 0; i < events_[m].size(); ++i) out += (i ? ", " : " ") + events_[m][i];
  }
  return out.empty() ? "(nothing observed)" : out;
}

Result<ExploreResult> ExploreSeeds(std::string_view yaml_text, const std::string& file_name,
                                   const ExploreOptions& options) {
  LoadResult loaded = LoadScenarioText(yaml_text, file_name);
  if (!loaded.ok()) return Error{"scenario", FormatDiagnostics(loaded.diagnostics)};
  const Scenario& scenario = *loaded.scenario;
  ExploreResult out;
  out.scenario_name = scenario.name;
  out.report.target = reports::Target::kSim;
  out.report.clock = reports::ClockKind::kVirtual;
  out.report.seed = options.start_seed;
  std::map<std::string, size_t> by_signature;
  std::map<std::string, size_t> by_outcome;            // outcome -> index in out.census
  std::vector<reports::ScenarioResult> outcome_runs;  // the first run of each outcome
  std::map<std::string, CensusEntry> near;             // --match: outcomes seen instead
  bool interrupt_after = false;  // on_seed stopped the loop at a failing seed: record it first
  // --swarm: faults start within the unperturbed run's length unless the scenario says.
  int64_t swarm_window = 0;
  if (options.swarm && !scenario.swarm.window_ns) {
    reports::ScenarioResult probe;
    // A fixed seed (the scenario's own or the default), so a seed's plan does not depend on
    // where the exploration started.
    RunScenario(scenario, RunnerOptionsFor(options, EffectiveSeed(scenario, RunnerOptions{}), false, scenario), probe);
    const int64_t tail = scenario.eventually.present
                             ? std::max(scenario.run.settle_ns, scenario.eventually.within_ns)
                             : scenario.run.settle_ns;
    swarm_window = std::max<int64_t>(10'000'000, probe.duration_ns - tail);
  }
  for (uint64_t k = 0; k < options.seeds; ++k) {
    const uint64_t seed = options.start_seed + k;
    reports::ScenarioResult r;
    r.file = scenario.file;
    r.name = scenario.name + " [seed " + std::to_string(seed) + "]";
    r.ordinal = k;
    RunnerOptions ro = RunnerOptionsFor(options, seed, options.perturb, scenario);
    // With --swarm, the seed runs the scenario with its fault plan in the steps.
    std::optional<SwarmPlan> plan;
    std::string swarm_text;
    LoadResult swarm_loaded;
    if (options.swarm) {
      plan = DrawSwarmPlan(scenario, seed, swarm_window);
      Result<std::string> text = WithSwarmPlan(yaml_text, *plan);
      if (!text.ok()) return Error{"scenario", "swarm plan of seed " + std::to_string(seed) + ": " + text.error().message};
      swarm_text = std::move(text.value());
      swarm_loaded = LoadScenarioText(swarm_text, file_name);
      if (!swarm_loaded.ok()) {
        return Error{"scenario", "the scenario with the swarm plan of seed " + std::to_string(seed) + " (" +
                                     plan->Describe() + ") does not load:\n" +
                                     FormatDiagnostics(swarm_loaded.diagnostics)};
      }
      r.name = scenario.name + " [seed " + std::to_string(seed) + ", swarm: " + plan->Describe() + "]";
    }
    const Scenario& run_scenario = plan ? *swarm_loaded.scenario : scenario;
    std::optional<RunOutcome> outcome;
    if (options.census || !options.match.empty()) {
      outcome.emplace(run_scenario);
      ro.on_observation = [&outcome](uint32_t m, const clients::Observation& o) { outcome->Observe(m, o); };
    }
    RunScenario(run_scenario, ro, r);
    if (r.status == reports::Outcome::kSkip) {
      return Error{"scenario", scenario.name + " cannot run on the sim target: " + r.skip_reason};
    }
    ++out.seeds_run;
    const std::string sig = FailureSignature(r);
    if (!options.match.empty()) {
      std::string described = outcome->Describe();
      if (described == options.match) {
        out.matched_seed = seed;
        out.matched_plan = plan;
        out.matched_yaml = swarm_text;
        break;
      }
      auto [at, fresh] = near.emplace(std::move(described), CensusEntry{});
      if (fresh) {
        at->second.outcome = at->first;
        at->second.first_seed = seed;
        at->second.failed = !sig.empty();
      }
      ++at->second.count;
      if (near.size() > 10'000) near.erase(std::prev(near.end()));
    }
    if (outcome && options.census) {
      auto [at, fresh] = by_outcome.emplace(outcome->Describe(), out.census.size());
      if (fresh) {
        out.census.push_back(CensusEntry{at->first, 0, seed, !sig.empty()});
        outcome_runs.push_back(r);
      }
      ++out.census[at->second].count;
    }
    if (!sig.empty()) ++out.seeds_failed;
    if (options.on_seed && !options.on_seed(out.seeds_run, out.seeds_failed) && k + 1 < options.seeds) {
      out.interrupted = true;
      if (sig.empty()) break;
      interrupt_after = true;
    }
    if (sig.empty()) continue;
    auto [it, fresh] = by_signature.emplace(sig, out.failures.size());
    if (fresh) {
      FoundFailure f;
      f.signature = sig;
      f.first_message = r.failures.empty() ? r.skip_reason : r.failures.front().message;
      if (plan) {
        f.swarm_plan = *plan;
        f.swarm_yaml = swarm_text;
      }
      out.failures.push_back(std::move(f));
      if (options.progress) {
        options.progress("seed " + std::to_string(seed) + ": FAIL (new failure #" + std::to_string(out.failures.size()) +
                         ") " + out.failures.back().first_message);
      }
    } else if (options.progress && options.verbose) {
      options.progress("seed " + std::to_string(seed) + ": FAIL (failure #" + std::to_string(it->second + 1) + ")");
    }
    out.failures[it->second].seeds.push_back(seed);
    out.report.scenarios.push_back(std::move(r));
    if (interrupt_after) break;
    if (options.stop_after > 0 && out.failures.size() >= options.stop_after && k + 1 < options.seeds) {
      out.stopped_early = true;
      break;
    }
  }
  if (!out.matched_seed) {
    for (auto& [text, entry] : near) out.near_misses.push_back(entry);
    std::stable_sort(out.near_misses.begin(), out.near_misses.end(),
                     [](const CensusEntry& a, const CensusEntry& b) { return a.count > b.count; });
    if (out.near_misses.size() > 5) out.near_misses.resize(5);
  }
  if (options.census) {
    std::vector<size_t> order(out.census.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&out](size_t a, size_t b) { return out.census[a].count > out.census[b].count; });
    std::vector<CensusEntry> sorted;
    for (size_t i = 0; i < order.size(); ++i) {
      sorted.push_back(out.census[order[i]]);
      reports::ScenarioResult& r = out.report.scenarios.emplace_back(std::move(outcome_runs[order[i]]));
      r.name = scenario.name + " [outcome " + std::to_string(i + 1) + ": " + std::to_string(sorted.back().count) +
               " seed(s), first seed " + std::to_string(sorted.back().first_seed) + "]";
      r.ordinal = out.report.scenarios.size() - 1;
    }
    out.census = std::move(sorted);
  }
  out.report.trace_hash = out.report.CombinedTraceHash();
  return out;
}

void ShrinkFailures(std::string_view yaml_text, const std::string& file_name, const ExploreOptions& options,
                    ExploreResult& out) {
  for (size_t i = 0; i < out.failures.size(); ++i) {
    FoundFailure& f = out.failures[i];
    const uint64_t seed = f.seeds.front();
    if (options.progress) {
      options.progress("shrinking failure #" + std::to_string(i + 1) + " with seed " + std::to_string(seed) + " ...");
    }
    f.shrunk = ShrinkScenario(f.swarm_plan ? std::string_view(f.swarm_yaml) : yaml_text, file_name, seed,
                              f.signature, options);
    if (!f.shrunk->reproduced) continue;
    LoadResult min = LoadScenarioText(f.shrunk->yaml, file_name);
    if (!min.ok()) continue;
    {
      reports::ScenarioResult r;
      RunScenario(*min.scenario, RunnerOptionsFor(options, seed, false, *min.scenario), r);
      f.fails_without_perturbation = FailureSignature(r) == f.signature;
    }
    for (uint64_t k = 0; k < options.check_seeds; ++k) {
      reports::ScenarioResult r;
      RunScenario(*min.scenario, RunnerOptionsFor(options, options.start_seed + k, options.perturb, *min.scenario), r);
      ++f.check_seeds_run;
      if (FailureSignature(r) == f.signature) ++f.check_seeds_failed;
    }
  }
}
std::vector<std::string> ReproduceArgv(const std::string& path, uint64_t seed, const ExploreOptions& options) {
  std::vector<std::string> argv = {"wpsim", "run", path, "--seed", std::to_string(seed)};
  if (options.perturb) argv.push_back("--perturb");
  for (service::Bug b : options.extra_bugs) {
    argv.push_back("--inject-bug");
    argv.push_back(std::string(service::BugName(b)));
  }
  return argv;
}

bool Reproduces(const std::string& path, uint64_t seed, const std::string& signature,
                const ExploreOptions& options, reports::ScenarioResult& result) {
  LoadResult loaded = LoadScenarioPath(path);
  if (!loaded.ok()) {
    result.MarkError(FormatDiagnostics(loaded.diagnostics));
    return false;
  }
  result.file = loaded.scenario->file;
  result.name = loaded.scenario->name;
  RunnerOptions ro = RunnerOptionsFor(options, seed, options.perturb, *loaded.scenario);
  ro.record_latency = true;  // as `wpsim run` would
  // `wpsim run` without --perturb leaves the scenario's own run.perturb in charge.
  if (!options.perturb) ro.perturb.reset();
  RunScenario(*loaded.scenario, ro, result);
  return FailureSignature(result) == signature;
}

}  // namespace wpsim::conformance
