#include "app/report.h"

#include <iostream>
#include <map>
#include <optional>

#include "app/cli.h"
#include "app/common.h"
#include "conformance/units.h"
#include "reports/json_report.h"
#include "reports/load_report.h"
#include "reports/reports.h"

namespace wpsim::app {
namespace {

std::vector<std::string> SplitCommas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& item : in) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      if (comma == std::string::npos) comma = item.size();
      std::string part = item.substr(start, comma - start);
      while (!part.empty() && part.front() == ' ') part.erase(part.begin());
      while (!part.empty() && part.back() == ' ') part.pop_back();
      if (!part.empty()) out.push_back(part);
      start = comma + 1;
    }
  }
  return out;
}

// Reads one report; prints a precise message (path and JSON location) on failure.
std::optional<reports::RunReport> Load(const std::string& command, const std::string& path) {
  Result<reports::RunReport> r = reports::ReadJsonReportFile(path);
  if (!r.ok()) {
    std::cerr << "wpsim report " << command << ": " << r.error().message << "\n";
    return std::nullopt;
  }
  return std::move(r).value();
}

int RunCompare(const ReportCompareFlags& f) {
  reports::CompareOptions options;
  options.tolerance_percent = f.tolerance_percent;
  options.status_regressions = !f.ignore_status;
  Result<int64_t> floor = conformance::ParseDuration(f.noise_floor);
  if (!floor.ok()) {
    std::cerr << "wpsim report compare: --noise-floor: " << floor.error().message << "\n";
    return kExitUsage;
  }
  options.noise_floor_ns = *floor;
  std::vector<std::string> statistics;
  for (const std::string& name : SplitCommas(f.metrics)) {
    if (std::optional<reports::Metric> m = reports::ParseMetric(name)) {
      options.metrics.push_back(*m);
    } else {
      statistics.push_back(name);
    }
  }
  if (!statistics.empty()) options.statistics = statistics;
  std::optional<reports::RunReport> old_report = Load("compare", f.old_path);
  if (!old_report) return kExitUsage;
  std::optional<reports::RunReport> new_report = Load("compare", f.new_path);
  if (!new_report) return kExitUsage;
  Result<reports::CompareOutcome> outcome = reports::CompareReports(*old_report, *new_report, options);
  if (!outcome.ok()) {
    std::cerr << "wpsim report compare: " << outcome.error().message << "\n";
    return kExitUsage;
  }
  if (old_report->clock != new_report->clock) {
    std::cout << "note: OLD uses the " << reports::ToString(old_report->clock) << " clock, NEW the "
              << reports::ToString(new_report->clock) << " clock; deltas compare different clocks\n";
  }
  std::cout << "old: " << f.old_path << "\nnew: " << f.new_path << "\ntolerance: +"
            << f.tolerance_percent << "%" << (options.noise_floor_ns > 0 ? ", noise floor " +
                                                 reports::FormatDurationNs(static_cast<double>(options.noise_floor_ns))
                                                                          : std::string())
            << "\n\n";
  std::cout << outcome->Table();
  return outcome->regression ? kExitConformanceFailure : kExitOk;
}

// The shard reports of `wpsim-load --shard i/n` (kind "wpsim-load"): counts added, histograms
// merged, one JSON report and its summary line.
int RunMergeLoad(const ReportMergeFlags& f) {
  if (!f.junit.empty() || !f.html.empty() || !f.md.empty()) {
    std::cerr << "wpsim report merge: load reports (wpsim-load) merge into JSON only (-o/--json)\n";
    return kExitUsage;
  }
  std::vector<reports::LoadReport> shards;
  for (const std::string& path : f.inputs) {
    Result<std::string> text = reports::ReadTextFile(path);
    if (!text.ok()) {
      std::cerr << "wpsim report merge: " << text.error().message << "\n";
      return kExitUsage;
    }
    const nlohmann::json j = nlohmann::json::parse(text.value(), nullptr, false);
    if (!reports::IsLoadReportJson(j)) {
      std::cerr << "wpsim report merge: " << path << " is not a wpsim-load report, " << f.inputs[0]
                << " is: merge run reports and load reports separately\n";
      return kExitUsage;
    }
    Result<reports::LoadReport> r = reports::LoadReportFromJson(j, path);
    if (!r.ok()) {
      std::cerr << "wpsim report merge: " << r.error().message << "\n";
      return kExitUsage;
    }
    shards.push_back(std::move(r).value());
  }
  Result<reports::LoadReport> merged = reports::MergeLoadReports(shards);
  if (!merged.ok()) {
    std::cerr << "wpsim report merge: cannot merge: " << merged.error().message << "\n";
    return kExitUsage;
  }
  const bool to_stdout = f.json.empty() || f.json == "-";
  const std::string json = reports::LoadReportToJson(*merged).dump(2) + "\n";
  if (to_stdout) {
    std::cout << json;
  } else if (Status st = reports::WriteTextFile(f.json, json); !st.ok()) {
    std::cerr << "wpsim report merge: writing " << f.json << " failed: " << st.error().message << "\n";
    return kExitUsage;
  }
  std::ostream& info = to_stdout ? std::cerr : std::cout;
  info << "merged " << shards.size() << " load report(s): " << reports::LoadSummaryLine(*merged) << "\n";
  if (!to_stdout) info << "report: " << f.json << "\n";
  if (!f.verdict_exit) return kExitOk;
  return merged->ok() ? kExitOk : kExitConformanceFailure;
}

int RunMerge(const ReportMergeFlags& f) {
  if (!f.inputs.empty()) {
    // A load report (wpsim-load) is recognised by its "kind"; anything else is read as a run report.
    Result<std::string> first = reports::ReadTextFile(f.inputs[0]);
    if (first.ok() && reports::IsLoadReportJson(nlohmann::json::parse(first.value(), nullptr, false))) {
      return RunMergeLoad(f);
    }
  }
  std::vector<reports::RunReport> inputs;
  for (const std::string& path : f.inputs) {
    std::optional<reports::RunReport> r = Load("merge", path);
    if (!r) return kExitUsage;
    inputs.push_back(std::move(*r));
  }
  // Checks the library leaves to the caller: mixing wpsim versions, and one scenario in
  // several inputs (the same shard merged twice double-counts everything).
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (!f.allow_version_mismatch && inputs[i].run.version != inputs[0].run.version) {
      std::cerr << "wpsim report merge: " << f.inputs[i] << " was written by wpsim "
                << (inputs[i].run.version.empty() ? "(unknown)" : inputs[i].run.version) << ", "
                << f.inputs[0] << " by wpsim "
                << (inputs[0].run.version.empty() ? "(unknown)" : inputs[0].run.version)
                << "; shards of one run come from one version (--allow-version-mismatch to merge anyway)\n";
      return kExitUsage;
    }
    if (inputs[i].schema_version != inputs[0].schema_version && !f.allow_version_mismatch) {
      std::cerr << "wpsim report merge: " << f.inputs[i] << " has schema_version "
                << inputs[i].schema_version << ", " << f.inputs[0] << " "
                << inputs[0].schema_version << " (--allow-version-mismatch to merge anyway)\n";
      return kExitUsage;
    }
  }
  if (!f.combine) {
    std::map<std::pair<std::string, std::string>, size_t> seen;  // (file, name) -> input
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (const reports::ScenarioResult& s : inputs[i].scenarios) {
        auto [it, inserted] = seen.try_emplace({s.file, s.name}, i);
        if (!inserted && it->second != i) {
          std::cerr << "wpsim report merge: scenario \"" << s.name << "\" (" << s.file << ") is in both "
                    << f.inputs[it->second] << " and " << f.inputs[i]
                    << ": shards of one run are disjoint, so this looks like one shard given twice"
                       " (--combine adds them up, for one load scenario driven from several machines)\n";
          return kExitUsage;
        }
      }
    }
  }
  Result<reports::RunReport> merged = reports::MergeReports(inputs);
  if (!merged.ok()) {
    std::string message = merged.error().message;
    // The library numbers inputs from 1; name the files.
    for (size_t i = inputs.size(); i-- > 0;) {
      const std::string tag = "report " + std::to_string(i + 1);
      for (size_t pos = message.find(tag); pos != std::string::npos; pos = message.find(tag, pos)) {
        message.replace(pos, tag.size(), f.inputs[i]);
        pos += f.inputs[i].size();
      }
    }
    std::cerr << "wpsim report merge: cannot merge: " << message << "\n";
    return kExitUsage;
  }
  const bool to_stdout = f.json == "-" || (f.json.empty() && f.junit.empty() && f.html.empty() && f.md.empty());
  reports::ReportPaths paths{f.junit, to_stdout ? "" : f.json, f.html, f.md};
  Result<std::vector<std::string>> written = reports::WriteReports(*merged, paths);
  if (!written.ok()) {
    std::cerr << "wpsim report merge: writing reports failed: " << written.error().message << "\n";
    return kExitUsage;
  }
  std::ostream& info = to_stdout ? std::cerr : std::cout;
  if (to_stdout) std::cout << reports::WriteJson(*merged);
  const reports::Totals totals = merged->ComputeTotals();
  info << "merged " << inputs.size() << " report(s): " << merged->scenarios.size() << " scenario result(s), "
       << totals.passed << " passed, " << totals.failed + totals.errors << " failed, " << totals.skipped
       << " skipped; run trace hash " << reports::FormatTraceHash(merged->trace_hash) << ", verdict "
       << reports::ToString(merged->ComputeVerdict()) << "\n";
  for (const std::string& p : written.value()) info << "report: " << p << "\n";
  if (!f.verdict_exit) return kExitOk;
  return ExitCodeOf(merged->ComputeVerdict());
}

}  // namespace

void RegisterReport(CLI::App& sub, ReportFlags& flags) {
  sub.require_subcommand(1);
  CLI::App* compare = sub.add_subcommand(
      "compare", "Per-scenario percentile deltas of NEW against OLD; exit 1 on a regression");
  ReportCompareFlags& c = flags.compare;
  compare->add_option("old", c.old_path, "Baseline JSON report")->required();
  compare->add_option("new", c.new_path, "JSON report to check")->required();
  compare->add_option("--tolerance", c.tolerance_percent,
                      "Allowed growth of a statistic in percent (default 10)")
      ->check(CLI::NonNegativeNumber);
  compare->add_option("--metric,--metrics", c.metrics,
                      "Statistics to compare (p50,p90,p99,p99.9 by default; also max, min, mean) "
                      "and/or metrics to restrict to (publish_to_receive, ack_rtt, connect, rest_call)");
  compare->add_option("--noise-floor", c.noise_floor,
                      "Ignore growth smaller than this duration (e.g. 50us; default 0)");
  compare->add_flag("--ignore-status", c.ignore_status,
                    "Do not count pass -> fail status changes as regressions");
  flags.compare_sub = compare;

  CLI::App* merge = sub.add_subcommand(
      "merge",
      "Merge shard reports exactly (histograms merge, counts add) into one report; also the shard reports of "
      "wpsim-load --shard i/n");
  ReportMergeFlags& m = flags.merge;
  merge->add_option("inputs", m.inputs, "JSON reports to merge")->required();
  merge->add_option("-o,--json", m.json, "Write the merged JSON report (default: stdout if no other output)");
  merge->add_option("--junit", m.junit, "Write a JUnit XML report");
  merge->add_option("--html", m.html, "Write an HTML report");
  merge->add_option("--md", m.md, "Write a Markdown summary");
  merge->add_flag("--combine", m.combine,
                  "Combine a scenario found in several inputs (load driven from several machines)");
  merge->add_flag("--allow-version-mismatch", m.allow_version_mismatch,
                  "Merge reports written by different wpsim versions or schema versions");
  merge->add_flag("--verdict-exit", m.verdict_exit,
                  "Exit 1 or 3 like wpsim run when the merged report fails");
  flags.merge_sub = merge;
}

int RunReportCommand(const ReportFlags& flags) {
  if (flags.compare_sub && flags.compare_sub->parsed()) return RunCompare(flags.compare);
  if (flags.merge_sub && flags.merge_sub->parsed()) return RunMerge(flags.merge);
  std::cerr << "wpsim report: expected a subcommand: compare or merge\n";
  return kExitUsage;
}

}  // namespace wpsim::app
