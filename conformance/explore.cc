#include "conformance/explore.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <map>
#include <optional>
#include <utility>
#include <variant>

#include "conformance/loader.h"
#include "conformance/runner.h"
#include "conformance/shape/emit.h"
#include "conformance/units.h"
#include "sim/rng.h"

namespace wpsim::conformance {
namespace {

// ---------------------------------------------------------------------------------------------
// Signatures

bool IsPositionToken(std::string_view t) {
  // "file.yaml:12:5:" or "file.yaml:12:5": ends with :digits:digits (and maybe a colon).
  if (!t.empty() && t.back() == ':') t.remove_suffix(1);
  int groups = 0;
  while (groups < 2) {
    size_t colon = t.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == t.size()) return false;
    for (size_t i = colon + 1; i < t.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    }
    t = t.substr(0, colon);
    ++groups;
  }
  return !t.empty();
}

std::string Normalize(std::string_view message) {
  // Drop "at <file:line:col>" (positions move while shrinking), keeping a trailing colon.
  std::vector<std::string> words;
  size_t i = 0;
  while (i < message.size()) {
    size_t sp = message.find(' ', i);
    if (sp == std::string_view::npos) sp = message.size();
    words.emplace_back(message.substr(i, sp - i));
    i = sp + 1;
  }
  std::string joined;
  for (size_t k = 0; k < words.size(); ++k) {
    if (words[k] == "at" && k + 1 < words.size() && IsPositionToken(words[k + 1])) {
      if (words[k + 1].back() == ':') joined += ":";
      ++k;
      continue;
    }
    if (!joined.empty()) joined += ' ';
    joined += words[k];
  }
  // Numbers (counts, times, member indices) vary between seeds: one '#' per digit run.
  std::string out;
  for (size_t k = 0; k < joined.size(); ++k) {
    if (std::isdigit(static_cast<unsigned char>(joined[k]))) {
      out += '#';
      while (k + 1 < joined.size() && std::isdigit(static_cast<unsigned char>(joined[k + 1]))) ++k;
    } else {
      out += joined[k];
    }
  }
  return out;
}

// YAML emission that loads back to the same scenario (conformance/shape/emit.h).
using shape::EmitYaml;

// A path from the root to a node: map keys and sequence indices.
using PathElem = std::variant<std::string, size_t>;
using Path = std::vector<PathElem>;

std::string PathText(const Path& path) {
  std::string s;
  for (const PathElem& e : path) {
    if (const auto* k = std::get_if<std::string>(&e)) {
      s += (s.empty() ? "" : ".") + *k;
    } else {
      s += "[" + std::to_string(std::get<size_t>(e)) + "]";
    }
  }
  return s;
}

// The node at `path`, or an invalid/undefined node. Reads never create keys.
YAML::Node Resolve(YAML::Node root, const Path& path) {
  YAML::Node cur = root;
  for (const PathElem& e : path) {
    if (const auto* k = std::get_if<std::string>(&e)) {
      if (!cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
      YAML::Node next;
      bool found = false;
      for (auto kv : cur) {
        if (kv.first.IsScalar() && kv.first.Scalar() == *k) {
          next = kv.second;
          found = true;
          break;
        }
      }
      if (!found) return YAML::Node(YAML::NodeType::Undefined);
      cur.reset(next);  // rebind: operator= would overwrite the node in the tree
    } else {
      const size_t i = std::get<size_t>(e);
      if (!cur.IsSequence() || i >= cur.size()) return YAML::Node(YAML::NodeType::Undefined);
      YAML::Node item = cur[i];
      cur.reset(item);
    }
  }
  return cur;
}

std::vector<std::string> MapKeys(const YAML::Node& map) {
  std::vector<std::string> keys;
  if (!map.IsMap()) return keys;
  for (const auto& kv : map) {
    if (kv.first.IsScalar()) keys.push_back(kv.first.Scalar());
  }
  return keys;
}

YAML::Node WithoutKey(const YAML::Node& map, const std::string& key) {
  YAML::Node out(YAML::NodeType::Map);
  out.SetStyle(map.Style());
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) continue;
    out[kv.first] = kv.second;
  }
  return out;
}

YAML::Node SequenceOf(const YAML::Node& like, const std::vector<YAML::Node>& items) {
  YAML::Node out(YAML::NodeType::Sequence);
  out.SetStyle(like.Style());
  for (const YAML::Node& i : items) out.push_back(i);
  return out;
}

bool MentionsClient(const YAML::Node& n, const std::string& client) {
  if (!n.IsScalar()) return false;
  const std::string& v = n.Scalar();
  return v == client || (v.size() > client.size() && v.compare(0, client.size(), client) == 0 &&
                         v[client.size()] == '[');
}

// A deep copy of `n` in which no sequence of scalars mentions `client` ("c", "c[2]", "c[0..1]").
YAML::Node WithoutReferences(const YAML::Node& n, const std::string& client) {
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    out.SetStyle(n.Style());
    for (const YAML::Node& item : n) {
      if (MentionsClient(item, client)) continue;
      out.push_back(WithoutReferences(item, client));
    }
    return out;
  }
  if (n.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    out.SetStyle(n.Style());
    for (const auto& kv : n) out[kv.first] = WithoutReferences(kv.second, client);
    return out;
  }
  return YAML::Clone(n);
}

// The child step list of a parallel/repeat step node, relative to the step; empty if none.
std::optional<Path> ChildList(const YAML::Node& step) {
  if (!step.IsMap()) return std::nullopt;
  for (const auto& kv : step) {
    if (!kv.first.IsScalar()) continue;
    const std::string& k = kv.first.Scalar();
    if (k == "parallel") {
      if (kv.second.IsSequence()) return Path{std::string("parallel")};
      if (kv.second.IsMap()) return Path{std::string("parallel"), std::string("steps")};
    }
    if (k == "repeat" && kv.second.IsMap()) return Path{std::string("repeat"), std::string("steps")};
  }
  return std::nullopt;
}

Path Join(Path a, const Path& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Top-level keys a scenario can do without (the loader says when one cannot).
const char* const kOptionalTopLevel[] = {"network", "upstream", "service", "thresholds", "invariants",
                                         "tags", "seed", "targets", "run", "description"};

}  // namespace

std::string RunAndDescribe(const Scenario& scenario, RunnerOptions options, reports::ScenarioResult& result,
                           size_t max_events) {
  RunOutcome outcome(scenario, max_events);
  options.on_observation = [&outcome](uint32_t m, const clients::Observation& o) { outcome.Observe(m, o); };
  RunScenario(scenario, options, result);
  return outcome.Describe();
}

namespace {

class Shrinker {
 public:
  Shrinker(std::string file_name, uint64_t seed, std::string signature, const ExploreOptions& options)
      : file_name_(std::move(file_name)), seed_(seed), signature_(std::move(signature)), options_(options) {}

  ShrinkResult Run(std::string_view yaml_text) {
    ShrinkResult out;
    try {
      best_.reset(YAML::Load(std::string(yaml_text)));
    } catch (const std::exception&) {
      return out;
    }
    if (!options_.perturb) {
      // The reproduce command cannot say "no perturbation": make the file say it.
      YAML::Node run = Resolve(best_, {std::string("run")});
      if (run.IsMap() && Resolve(run, {std::string("perturb")}).IsDefined()) run["perturb"] = false;
    }
    std::optional<ScenarioSize> size = Evaluate(best_);
    if (size && options_.match.empty()) {
      // The control run: no perturbation, no injected bugs. When the original passes it, every
      // candidate must too, so the shrinker cannot trade the race (or the bug) for a trivial
      // failure with the same signature, such as an expectation nothing can satisfy any more.
      out.control_required = ControlPasses(best_);
      control_ = out.control_required;
    }
    if (!size) {
      out.yaml = std::string(yaml_text);
      return FinishWith(out);
    }
    out.reproduced = true;
    out.before = *size;
    size_ = *size;
    bool progress = true;
    while (progress && !Exhausted()) {
      progress = false;
      progress |= DdminList({std::string("expect")}, "expectation(s)");
      progress |= DdminList({std::string("invariants")}, "invariant(s)");
      progress |= DdminList({std::string("thresholds")}, "threshold(s)");
      progress |= ShrinkSteps({std::string("steps")});
      progress |= ShrinkClients();
      progress |= DropOptionalKeys();
    }
    out.after = size_;
    out.yaml = EmitYaml(best_);
    return FinishWith(out);
  }

 private:
  ShrinkResult& FinishWith(ShrinkResult& out) {
    out.runs = runs_;
    out.budget_exhausted = Exhausted();
    out.steps = std::move(log_);
    return out;
  }

  bool Exhausted() const { return runs_ >= options_.shrink_budget; }

  // Loads and runs a candidate; its size when it fails with the signature.
  std::optional<ScenarioSize> Evaluate(const YAML::Node& candidate) {
    const std::string text = EmitYaml(candidate);
    LoadResult loaded = LoadScenarioText(text, file_name_);
    if (!loaded.ok()) return std::nullopt;
    if (Exhausted()) return std::nullopt;
    ++runs_;
    RunnerOptions ro;
    ro.record_latency = !loaded.scenario->thresholds.empty();
    ro.seed = seed_;
    ro.perturb = options_.perturb;
    ro.extra_bugs = options_.extra_bugs;
    ro.event_budget = options_.event_budget;
    reports::ScenarioResult r;
    if (!options_.match.empty()) {
      // --match: the candidate must still produce the observed outcome.
      if (RunAndDescribe(*loaded.scenario, ro, r) != options_.match) return std::nullopt;
      return MeasureScenario(*loaded.scenario);
    }
    RunScenario(*loaded.scenario, ro, r);
    if (FailureSignature(r) != signature_) return std::nullopt;
    if (control_ && !ControlPasses(*loaded.scenario)) return std::nullopt;
    return MeasureScenario(*loaded.scenario);
  }

  bool ControlPasses(const YAML::Node& candidate) {
    LoadResult loaded = LoadScenarioText(EmitYaml(candidate), file_name_);
    return loaded.ok() && ControlPasses(*loaded.scenario);
  }

  // Passes with the same seed but without what the exploration added (perturbation, bugs).
  bool ControlPasses(const Scenario& scenario) {
    if (Exhausted()) return false;
    ++runs_;
    RunnerOptions ro;
    ro.record_latency = !scenario.thresholds.empty();
    ro.seed = seed_;
    ro.perturb = false;
    ro.event_budget = options_.event_budget;
    reports::ScenarioResult r;
    RunScenario(scenario, ro, r);
    return FailureSignature(r).empty();
  }

  bool Try(const YAML::Node& candidate, std::string what) {
    std::optional<ScenarioSize> size = Evaluate(candidate);
    if (!size) return false;
    best_.reset(candidate);
    size_ = *size;
    if (options_.verbose && options_.progress) options_.progress("    shrink: " + what + " -> " + size_.ToString());
    log_.push_back(ShrinkStep{std::move(what), size_});
    return true;
  }

  // Replaces the node at `path` in a clone of best_ with `replacement` and tries it.
  bool TryReplace(const Path& path, const YAML::Node& replacement, std::string what) {
    YAML::Node cand = YAML::Clone(best_);
    YAML::Node target = Resolve(cand, path);
    if (!target.IsDefined()) return false;
    target = replacement;
    return Try(cand, std::move(what));
  }

  // Delta debugging: removes chunks of halving size from the sequence at `path`.
  bool DdminList(const Path& path, const std::string& noun) {
    YAML::Node list = Resolve(best_, path);
    if (!list.IsSequence() || list.size() == 0) return false;
    bool any = false;
    for (size_t chunk = list.size(); chunk >= 1 && !Exhausted(); chunk /= 2) {
      size_t start = 0;
      while (!Exhausted()) {
        YAML::Node cur = Resolve(best_, path);
        const size_t n = cur.size();
        if (start >= n) break;
        const size_t end = std::min(n, start + chunk);
        std::vector<YAML::Node> kept;
        for (size_t i = 0; i < n; ++i) {
          if (i < start || i >= end) kept.push_back(cur[i]);
        }
        const std::string what = "removed " + std::to_string(end - start) + " " + noun + " from " + PathText(path);
        if (kept.empty()) {
          // An empty list is still worth a try (the loader rejects it where it must not be).
          if (TryReplace(path, SequenceOf(cur, kept), what)) any = true; else start = end;
          continue;
        }
        if (TryReplace(path, SequenceOf(cur, kept), what)) {
          any = true;
        } else {
          start = end;
        }
      }
      if (chunk == 1) break;
    }
    return any;
  }

  // Removes steps from the list at `path`, then unwraps and recurses into its blocks.
  bool ShrinkSteps(const Path& path) {
    bool any = DdminList(path, "step(s)");
    for (size_t i = 0; !Exhausted(); ++i) {
      YAML::Node list = Resolve(best_, path);
      if (!list.IsSequence() || i >= list.size()) break;
      YAML::Node step = list[i];
      std::optional<Path> child = ChildList(step);
      if (!child) {
        any |= DropStepKeys(Join(path, {i}));
        continue;
      }
      const Path step_path = Join(path, {i});
      const bool is_repeat = std::get<std::string>((*child)[0]) == "repeat";
      // Unwrap: the block's children in its place, run once in sequence.
      {
        YAML::Node children = Resolve(step, *child);
        if (children.IsSequence()) {
          std::vector<YAML::Node> items;
          for (size_t k = 0; k < list.size(); ++k) {
            if (k != i) {
              items.push_back(list[k]);
              continue;
            }
            for (const YAML::Node& c : children) items.push_back(c);
          }
          if (TryReplace(path, SequenceOf(list, items),
                         "unwrapped the " + std::string(is_repeat ? "repeat" : "parallel") + " block " +
                             PathText(step_path))) {
            any = true;
            --i;  // the same index now holds the first former child
            continue;
          }
        }
      }
      if (is_repeat) any |= HalveCount(Join(step_path, {std::string("repeat"), std::string("count")}));
      any |= ShrinkSteps(Join(step_path, *child));
    }
    return any;
  }

  // Drops the modifiers (as, case, timeout, ...) and the optional arguments (inline checks such
  // as expect_ack, ack ids, payload details) of the step at `path`, one at a time; the loader
  // rejects what a step cannot do without, the signature and the control run what matters.
  bool DropStepKeys(const Path& path) {
    bool any = false;
    YAML::Node step = Resolve(best_, path);
    if (!step.IsMap()) return false;
    std::vector<std::string> keys = MapKeys(step);
    if (keys.empty()) return false;
    for (const std::string& key : keys) {
      if (Exhausted()) return any;
      const Path arg_path = Join(path, {key});
      YAML::Node value = Resolve(best_, arg_path);
      if (value.IsMap()) {
        for (const std::string& arg : MapKeys(value)) {
          if (Exhausted()) return any;
          if (arg == "client") continue;
          any |= DropKey(arg_path, arg);
        }
      } else if (key != keys.front()) {
        any |= DropKey(path, key);  // a modifier next to the kind key
      }
    }
    return any;
  }

  // Tries count 1, then halving, for the integer at `path`.
  bool HalveCount(const Path& path) {
    bool any = false;
    while (!Exhausted()) {
      YAML::Node n = Resolve(best_, path);
      if (!n.IsScalar()) return any;
      long long v = 0;
      try {
        v = n.as<long long>();
      } catch (const std::exception&) {
        return any;
      }
      if (v <= 1) return any;
      if (TryReplace(path, YAML::Node(1), PathText(path) + " " + std::to_string(v) + " -> 1")) return true;
      const long long half = v / 2;
      if (half <= 1 || !TryReplace(path, YAML::Node(half), PathText(path) + " " + std::to_string(v) + " -> " +
                                                                std::to_string(half))) {
        return any;
      }
      any = true;
    }
    return any;
  }

  bool ShrinkClients() {
    bool any = false;
    const Path clients_path = {std::string("clients")};
    std::vector<std::string> names = MapKeys(Resolve(best_, clients_path));
    // Later clients first: padding tends to be declared after the clients that matter.
    for (auto it = names.rbegin(); it != names.rend() && !Exhausted(); ++it) {
      // The client goes, and with it every mention in a list of references in the steps
      // (`connect: [a, b]`); a mention anywhere else keeps the loader from accepting it.
      YAML::Node cand = YAML::Clone(best_);
      Resolve(cand, clients_path) = WithoutKey(Resolve(cand, clients_path), *it);
      YAML::Node steps = Resolve(cand, {std::string("steps")});
      if (steps.IsDefined()) steps = WithoutReferences(steps, *it);
      if (Try(cand, "dropped client " + *it)) {
        any = true;
        continue;
      }
      const Path client = Join(clients_path, {*it});
      any |= HalveCount(Join(client, {std::string("count")}));
      any |= DropKey(client, "network");
    }
    return any;
  }

  bool DropKey(const Path& map_path, const std::string& key) {
    YAML::Node map = Resolve(best_, map_path);
    if (!map.IsMap() || !Resolve(map, {key}).IsDefined()) return false;
    return TryReplace(map_path, WithoutKey(map, key), "dropped " + PathText(Join(map_path, {key})));
  }

  bool DropOptionalKeys() {
    bool any = false;
    for (const char* key : kOptionalTopLevel) {
      if (Exhausted()) break;
      if (DropKey({}, key)) {
        any = true;
        continue;
      }
      // Could not drop the whole section: try its parts (latency distributions, jitter, ...).
      const Path section = {std::string(key)};
      if (std::string_view(key) != "network" && std::string_view(key) != "service" &&
          std::string_view(key) != "run") {
        continue;
      }
      for (const std::string& sub : MapKeys(Resolve(best_, section))) {
        if (Exhausted()) break;
        any |= DropKey(section, sub);
      }
    }
    return any;
  }

  std::string file_name_;
  uint64_t seed_;
  std::string signature_;
  const ExploreOptions& options_;
  YAML::Node best_;
  ScenarioSize size_;
  size_t runs_ = 0;
  bool control_ = false;  // candidates must pass the control run (set once the original does)
  std::vector<ShrinkStep> log_;
};

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

std::string ScenarioSize::ToString() const {
  return "steps " + std::to_string(steps) + ", clients " + std::to_string(clients) + ", members " +
         std::to_string(members) + ", expectations " + std::to_string(expectations);
}

ScenarioSize MeasureScenario(const Scenario& scenario) {
  return ScenarioSize{scenario.steps.size(), scenario.clients.size(), scenario.members.size(),
                      scenario.expectations.size()};
}

std::string FailureSignature(const reports::ScenarioResult& result) {
  if (result.status == reports::Outcome::kPass || result.status == reports::Outcome::kSkip) return "";
  std::set<std::string> parts;
  for (const reports::Failure& f : result.failures) {
    parts.insert((f.case_id.empty() ? "" : "[" + f.case_id + "] ") + Normalize(f.message));
  }
  for (const reports::ThresholdResult& t : result.thresholds) {
    if (!t.passed) parts.insert("threshold " + t.expression);
  }
  if (parts.empty()) parts.insert("error: " + Normalize(result.skip_reason));
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " | ") + p;
  return out;
}

ShrinkResult ShrinkScenario(std::string_view yaml_text, const std::string& file_name, uint64_t seed,
                            const std::string& signature, const ExploreOptions& options) {
  Shrinker shrinker(file_name, seed, signature, options);
  return shrinker.Run(yaml_text);
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

Result<std::string> CanonicalYaml(std::string_view yaml_text) {
  try {
    return EmitYaml(YAML::Load(std::string(yaml_text)));
  } catch (const std::exception& e) {
    return Error{"scenario", e.what()};
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
