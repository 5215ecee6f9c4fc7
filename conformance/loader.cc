// The scenario loader: the driver of the shape engine (conformance/shape/). A pre-pass finds
// duplicate keys anywhere in the document; then the root is read section by section in dependency
// order (conformance/shape/settings.cc), steps through the per-family step shapes
// (conformance/steps/<family>.cc). Every reader reports into one diagnostic list and keeps going
// with a best-effort value, so a single run finds every problem; diagnostics are sorted by
// position at the end. Nothing here throws past LoadScenarioText: yaml-cpp's parser exception is
// caught and turned into a diagnostic at its mark.
#include "conformance/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "conformance/shape/context.h"
#include "conformance/shape/sections.h"
#include "conformance/shape/steps.h"

namespace wpsim::conformance {
namespace {

using namespace shape;  // NOLINT(google-build-using-namespace): the loader drives the shape engine

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so that
// "recieve" is one edit away from "receive".
size_t OsaDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// Every step kind's YAML key, in StepKind order.
const Keys& StepKindNames() {
  static const Keys names = [] {
    Keys out;
    for (const StepShape& s : AllSteps()) out.push_back(s.name);
    return out;
  }();
  return names;
}

// ---------------------------------------------------------------------------------------------

class Loader : public Context {
 public:
  explicit Loader(std::string file_name)
      : Context(std::move(file_name)), sc_(scenario()), file_(Context::file()) {}

  LoadResult Load(std::string_view text) {
    Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      SourcePos pos{file_, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1};
      Report(pos, "YAML syntax error: " + e.msg + SyntaxHint(text, e.mark.line));
      return Finish();
    } catch (const YAML::Exception& e) {
      Report(SourcePos{file_, 1, 1}, "YAML error: " + e.msg);
      return Finish();
    }
    if (!root.IsDefined() || root.IsNull()) {
      Report(SourcePos{file_, 1, 1},
             "empty scenario file (expected a mapping with name, source, hub, clients, steps)");
      return Finish();
    }
    FindDuplicateKeys(root, /*is_root=*/true, /*is_clients=*/false);
    ReadRootMapping(root);
    return Finish();
  }

 private:
  // ---- diagnostics --------------------------------------------------------------------------

  // Hints for two syntax errors whose parser messages do not explain themselves: a tab in
  // indentation, and "sub[2]" inside a flow mapping {...} or list [...] (brackets are flow
  // indicators there, so cohort members must be quoted).
  static std::string SyntaxHint(std::string_view text, int line) {
    if (line < 0) return "";
    size_t start = 0;
    for (int i = 0; i < line && start != std::string_view::npos; ++i) {
      start = text.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    if (start == std::string_view::npos) return "";
    std::string_view l = text.substr(start, text.find('\n', start) - start);
    size_t indent = 0;
    while (indent < l.size() && (l[indent] == ' ' || l[indent] == '\t')) ++indent;
    if (l.substr(0, indent).find('\t') != std::string_view::npos) {
      return " (this line is indented with a tab; YAML indentation must use spaces)";
    }
    for (size_t i = 1; i + 1 < l.size(); ++i) {
      if (l[i] == '[' && std::isdigit(static_cast<unsigned char>(l[i + 1])) &&
          (std::isalnum(static_cast<unsigned char>(l[i - 1])) || l[i - 1] == '_') &&
          (l.find('{') != std::string_view::npos || l.find('[') < i)) {
        return " (inside {...} or [...], quote cohort members: \"sub[2]\")";
      }
    }
    return "";
  }

  void FindDuplicateKeys(const Node& n, bool is_root, bool is_clients) {
    if (n.IsSequence()) {
      for (const Node& item : n) FindDuplicateKeys(item, false, false);
    } else if (n.IsMap()) {
      std::map<std::string, Node> seen;
      for (auto it = n.begin(); it != n.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        auto [pos, inserted] = seen.emplace(key, it->first);
        if (!inserted) {
          SourcePos first = Pos(pos->second);
          std::string where = std::to_string(first.line) + ":" + std::to_string(first.column);
          if (is_clients) {
            Error(it->first,
                  "duplicate client name " + Q(key) + " (first defined at " + where + ")");
          } else {
            Error(it->first, "duplicate key " + Q(key) + " (first at " + where + ")");
          }
        }
        FindDuplicateKeys(it->second, false, is_root && key == "clients");
      }
    }
  }

  void ReadRootMapping(const Node& root) {
    ReadRoot(*this, root, [this](const Node& steps) { ReadSteps(steps); });
  }

  // ---- steps --------------------------------------------------------------------------------

  void ReadSteps(const Node& n) {
    if (!n.IsSequence()) {
      Error(n, "expected a list of steps, got " + Describe(n));
      return;
    }
    for (const Node& item : n) {
      if (auto id = ReadStep(item, std::nullopt)) sc_.root_steps.push_back(*id);
    }
  }

  std::optional<uint32_t> ReadStep(const Node& item, std::optional<uint32_t> parent) {
    std::string kind;
    Node value;
    Node kind_node = item;
    Modifiers mods;
    if (item.IsScalar()) {
      kind = item.Scalar();
    } else if (item.IsMap()) {
      std::vector<std::pair<std::string, Node>> kinds;
      for (auto it = item.begin(); it != item.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        if (Contains(kStepModifiers, key)) {
          if (key == "as") mods.as = it->second;
          if (key == "at") mods.at = it->second;
          if (key == "timeout") mods.timeout = it->second;
          if (key == "async") mods.async = it->second;
          if (key == "case") mods.case_id = it->second;
        } else if (Contains(StepKindNames(), key)) {
          kinds.emplace_back(key, it->first);
          if (kinds.size() == 1) value = it->second;
        } else {
          Error(it->first, "unknown step " + Q(key) +
                               StepSuggestion(key, Concat({&StepKindNames(), &kStepModifiers})));
          return std::nullopt;
        }
      }
      if (kinds.empty()) {
        Error(item, "a step needs a kind (one of: " + JoinKeys(StepKindNames()) + ")");
        return std::nullopt;
      }
      if (kinds.size() > 1) {
        Error(kinds[1].second, "a step has exactly one kind; found " + Q(kinds[0].first) + " and " +
                                   Q(kinds[1].first));
        return std::nullopt;
      }
      kind = kinds[0].first;
      kind_node = kinds[0].second;
    } else {
      Error(item, "expected a step (a mapping like '- connect: a'), got " + Describe(item));
      return std::nullopt;
    }
    if (!Contains(StepKindNames(), kind)) {
      Error(item, "unknown step " + Q(kind) + StepSuggestion(kind, StepKindNames()));
      return std::nullopt;
    }

    const uint32_t id = static_cast<uint32_t>(sc_.steps.size());
    sc_.steps.emplace_back();  // reserve the pre-order slot; filled in below
    Step step;
    step.id = id;
    step.pos = Pos(kind_node);
    step.parent = parent;
    std::vector<Expectation> inline_expects;
    bool ok = ReadStepBody(kind, kind_node, value, step, mods, inline_expects);

    if (mods.as) {
      if (auto s = Str(*mods.as, "as")) {
        if (RegisterLabel(*mods.as, *s)) {
          step.label = *s;
          sc_.step_labels.emplace(*s, id);
        }
      }
    }
    if (mods.at) step.at_ns = Duration(*mods.at, "at");
    if (mods.timeout) step.timeout_ns = PositiveDuration(*mods.timeout, "timeout");
    if (mods.async) {
      if (auto b = Bool(*mods.async, "async")) step.async = *b;
    }
    if (mods.case_id) {
      if (auto c = CaseId(*mods.case_id)) step.case_id = *c;
    }
    for (Expectation& e : inline_expects) {
      e.from_step = id;
      // A case id on an enclosing parallel/repeat covers inline checks that have none.
      e.case_id = step.case_id;
      for (auto it = block_cases.rbegin(); e.case_id.empty() && it != block_cases.rend(); ++it)
        e.case_id = *it;
      e.label = step.label;
      sc_.expectations.push_back(std::move(e));
    }
    if (!ok) {
      // Keep the slot so ids stay dense, but as a harmless no-op; the file fails anyway.
      step.args = WaitStep{};
    }
    sc_.steps[id] = std::move(step);
    return id;
  }

  bool ReadStepBody(const std::string& kind, const Node& kind_node, const Node& value, Step& step,
                    Modifiers& mods, std::vector<Expectation>& inline_expects) {
    const StepShape* shape = FindStep(kind);
    StepInput in{*this,
                 kind,
                 kind_node,
                 value,
                 step,
                 mods,
                 inline_expects,
                 [this](const Node& child, uint32_t parent) { return ReadStep(child, parent); },
                 std::nullopt};
    return shape->read(in);
  }

  // " (did you mean 'x'?)" for an unknown step key: the step a protocol name stands for
  // ("joinGroup" -> join), else the closest step kind or modifier.
  std::string StepSuggestion(std::string_view key, const Keys& candidates) {
    std::string_view step = StepForProtocolName(key);
    if (!step.empty()) return " (did you mean " + Q(step) + "?)";
    return Suggest(key, candidates);
  }

  Scenario& sc_;
  const std::string& file_;
};

}  // namespace

std::string Diagnostic::ToString() const { return FormatPos(pos) + ": " + message; }

std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.ToString() + "\n";
  return out;
}

std::string SuggestClosest(std::string_view word, const std::vector<std::string_view>& candidates) {
  // The same word in another spelling convention ("sendToAll" for "send_to_all").
  auto normalize = [](std::string_view w) {
    std::string out;
    for (char c : w) {
      if (c != '_' && c != '-')
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  const std::string folded = normalize(word);
  for (std::string_view c : candidates) {
    if (c != word && normalize(c) == folded) return std::string(c);
  }
  // A plausible typo: one edit for short words, two for longer ones, never most of the word.
  const size_t limit = word.size() <= 4 ? 1 : 2;
  size_t best = limit + 1;
  std::string_view best_word;
  for (std::string_view c : candidates) {
    size_t d = OsaDistance(word, c);
    if (d < best && d < std::max(word.size(), c.size())) {
      best = d;
      best_word = c;
    }
  }
  return best <= limit ? std::string(best_word) : "";
}

LoadResult LoadScenarioText(std::string_view yaml_text, const std::string& file_name) {
  Loader loader(file_name);
  return loader.Load(yaml_text);
}

LoadResult LoadScenarioPath(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back(Diagnostic{SourcePos{path, 0, 0}, "cannot read scenario file"});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadScenarioText(text.str(), path);
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  LoadResult r = LoadScenarioPath(path);
  if (r.ok()) return std::move(*r.scenario);
  std::string message = FormatDiagnostics(r.diagnostics);
  if (!message.empty() && message.back() == '\n') message.pop_back();
  return MakeError("scenario", message);
}

}  // namespace wpsim::conformance
