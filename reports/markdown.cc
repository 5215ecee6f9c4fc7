#include "reports/markdown.h"

#include <algorithm>

#include "reports/escape.h"

namespace wpsim::reports {
namespace {

// Inline code that survives backticks and newlines in the text: the fence is one backtick
// longer than the longest run inside (CommonMark code spans).
std::string InlineCode(std::string_view text) {
  std::string clean = SanitizeUtf8(text);
  for (char& c : clean) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  size_t longest = 0, run = 0;
  for (char c : clean) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !clean.empty() && (clean.front() == '`' || clean.back() == '`');
  return fence + (pad ? " " : "") + clean + (pad ? " " : "") + fence;
}

// In a table, '|' must be escaped even inside code spans.
std::string CodeCell(std::string_view text) {
  std::string code = InlineCode(text);
  std::string out;
  for (char c : code) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view StatusIcon(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "✅ pass";
    case Outcome::kFail: return "❌ fail";
    case Outcome::kSkip: return "⏭️ skip";
    case Outcome::kError: return "⚠️ error";
  }
  return "";
}

std::string Ns(int64_t ns) { return FormatDurationNs(static_cast<double>(ns)); }

}  // namespace

std::string WriteMarkdown(const RunReport& r) {
  const Totals t = r.ComputeTotals();
  const Verdict verdict = r.ComputeVerdict();
  std::string out;
  out += "## wpsim: " + std::to_string(t.passed) + " passed, " + std::to_string(t.failed) +
         " failed";
  if (t.skipped) out += ", " + std::to_string(t.skipped) + " skipped";
  if (t.errors) out += ", " + std::to_string(t.errors) + " errors";
  out += "\n\n";
  switch (verdict) {
    case Verdict::kPass: out += "**Verdict: pass**"; break;
    case Verdict::kConformanceFailure: out += "**Verdict: conformance failure**"; break;
    case Verdict::kThresholdFailure: out += "**Verdict: threshold failure**"; break;
  }
  out += "\n\n";
  if (const std::vector<std::string> bugs = r.InjectedBugs(); !bugs.empty()) {
    std::string names;
    for (const std::string& b : bugs) names += (names.empty() ? "" : ", ") + InlineCode(b);
    out += "Injected service bug" + std::string(bugs.size() > 1 ? "s" : "") + ": " + names +
           " (the reference service was broken on purpose; failures are expected)\n\n";
  }
  out += "| target | clock | seed | trace hash | wpsim | duration | wall time |\n";
  out += "| --- | --- | --- | --- | --- | --- | --- |\n";
  out += "| " + std::string(ToString(r.target)) + " | " + std::string(ToString(r.clock)) + " | " +
         std::to_string(r.seed) + " | " + CodeCell(FormatTraceHash(r.trace_hash)) + " | " +
         MarkdownCell(r.run.version) + " | " + Ns(r.TotalScenarioDurationNs()) + " (" +
         std::string(ToString(r.clock)) + ") | " + Ns(r.run.duration_ns) + " |\n\n";

  // Failures first: they are what a reader of a CI page came for.
  size_t failures_listed = 0, failures_total = 0;
  std::string failures;
  for (const ScenarioResult& s : r.scenarios) {
    if (s.status != Outcome::kFail && s.status != Outcome::kError) continue;
    ++failures_total;
    if (failures_listed == kMarkdownFailuresMax) continue;
    ++failures_listed;
    failures += "- **" + MarkdownCell(s.name) + "** (" + MarkdownCell(s.file) + ")";
    failures += s.status == Outcome::kError ? " — error\n" : "\n";
    for (const CaseResult& c : s.cases) {
      if (c.status != Outcome::kFail && c.status != Outcome::kError) continue;
      failures += "  - case " + InlineCode(c.case_id) + ": " + MarkdownCell(c.message) + "\n";
      if (!c.expected.empty() || !c.actual.empty()) {
        failures += "    - expected " + InlineCode(c.expected) + ", actual " +
                    InlineCode(c.actual) + "\n";
      }
    }
    for (const Failure& f : s.failures) {
      failures += "  - " + MarkdownCell(f.message) + "\n";
      if (!f.expected.empty() || !f.actual.empty()) {
        failures += "    - expected " + InlineCode(f.expected) + ", actual " +
                    InlineCode(f.actual) + "\n";
      }
    }
    for (const ThresholdResult& th : s.thresholds) {
      if (th.passed) continue;
      failures += "  - threshold " + InlineCode(th.expression) + " broken: observed " +
                  MarkdownCell(th.observed) + "\n";
    }
    if (!s.reproduce.empty()) failures += "  - reproduce: " + InlineCode(s.reproduce) + "\n";
  }
  if (failures_total) {
    out += "### Failures\n\n" + failures;
    if (failures_total > failures_listed) {
      out += "\n… and " + std::to_string(failures_total - failures_listed) +
             " more failing scenarios (see the HTML or JSON report).\n";
    }
    out += "\n";
  }

  bool any_threshold = !r.thresholds.empty();
  for (const ScenarioResult& s : r.scenarios) any_threshold |= !s.thresholds.empty();
  if (any_threshold) {
    out += "### Thresholds\n\n| result | scope | threshold | observed |\n| --- | --- | --- | --- |\n";
    auto row = [&out](std::string_view scope, const ThresholdResult& th) {
      out += std::string(th.passed ? "✅ pass" : "❌ fail") + " | " + MarkdownCell(scope) + " | " +
             CodeCell(th.expression) + " | " + MarkdownCell(th.observed);
      if (!th.message.empty()) out += " (" + MarkdownCell(th.message) + ")";
      out += " |\n";
    };
    for (const ThresholdResult& th : r.thresholds) {
      out += "| ";
      row("run", th);
    }
    for (const ScenarioResult& s : r.scenarios) {
      for (const ThresholdResult& th : s.thresholds) {
        out += "| ";
        row(s.name, th);
      }
    }
    out += "\n";
  }

  out += "### Scenarios\n\n";
  out += "| status | scenario | duration | latency | samples | p50 | p90 | p99 | p99.9 | max |\n";
  out += "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  size_t rows = 0;
  for (const ScenarioResult& s : r.scenarios) {
    if (rows == kMarkdownScenarioRowsMax) break;
    ++rows;
    out += "| " + std::string(StatusIcon(s.status)) + " | " + MarkdownCell(s.name) + "<br>" +
           MarkdownCell(s.file) + " | " + (s.status == Outcome::kSkip ? "" : Ns(s.duration_ns)) +
           " | ";
    std::optional<Metric> metric = s.PrimaryMetric();
    if (!metric) {
      out += s.status == Outcome::kSkip ? MarkdownCell(s.skip_reason) : "—";
      out += " | | | | | | |\n";
      continue;
    }
    const Histogram h = s.MergedLatency(*metric);
    const double ps[] = {50, 90, 99, 99.9};
    const std::vector<int64_t> v = h.ValuesAtPercentiles(ps);
    out += MarkdownCell(ToString(*metric));
    if (s.coordinated_omission_corrected()) out += " (CO-corrected)";
    out += " | " + std::to_string(h.count());
    for (int64_t x : v) out += " | " + Ns(x);
    out += " | " + Ns(h.max()) + " |\n";
  }
  if (r.scenarios.size() > rows) {
    out += "\n… and " + std::to_string(r.scenarios.size() - rows) +
           " more scenarios (see the HTML or JSON report).\n";
  }
  out += "\nLatencies are in " + std::string(ToString(r.clock)) +
         " time; CO-corrected series are measured from the intended send time "
         "(coordinated omission corrected).\n";
  return out;
}

}  // namespace wpsim::reports
