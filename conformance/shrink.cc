// The shrinker of `wpsim explore` (ShrinkScenario): cuts a failing scenario's YAML down while
// it still fails with the same signature (FailureSignature), and the canonical YAML it writes
// (CanonicalYaml). Exploring seeds and swarm plans is in explore.cc.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include "conformance/explore.h"
#include "conformance/explore_yaml.h"
#include "conformance/loader.h"
#include "conformance/runner.h"
#include "conformance/shape/emit.h"

namespace wpsim::conformance {

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

}  // namespace

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
Result<std::string> CanonicalYaml(std::string_view yaml_text) {
  try {
    return EmitYaml(YAML::Load(std::string(yaml_text)));
  } catch (const std::exception& e) {
    return Error{"scenario", e.what()};
  }
}

}  // namespace wpsim::conformance
