// `wpsim report compare OLD.json NEW.json` and `wpsim report merge A.json B.json ...`: the
// command-line face of reports/compare.h. compare prints per-scenario percentile deltas and
// exits 1 on a regression beyond the tolerance; merge combines the JSON reports of shards
// (`wpsim run --shard i/n`) exactly into one report and writes it in any of the four formats.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace wpsim::app {

struct ReportCompareFlags {
  std::string old_path;
  std::string new_path;
  double tolerance_percent = 10.0;
  // Statistics (p50, p99.9, max, min, mean) and metric names (publish_to_receive, ack_rtt,
  // connect, rest_call), comma-separated or repeated; metric names restrict the series.
  std::vector<std::string> metrics;
  std::string noise_floor = "0";  // a duration such as 50us
  bool ignore_status = false;
};

struct ReportMergeFlags {
  std::vector<std::string> inputs;
  std::string json;  // -o/--json; "-" or empty with no other output: stdout
  std::string junit, html, md;
  bool combine = false;            // allow one scenario in several inputs (multi-machine load)
  bool allow_version_mismatch = false;
  bool verdict_exit = false;       // exit 1/3 like `wpsim run` on a failing merged report
};

struct ReportFlags {
  ReportCompareFlags compare;
  ReportMergeFlags merge;
  CLI::App* compare_sub = nullptr;
  CLI::App* merge_sub = nullptr;
};

void RegisterReport(CLI::App& sub, ReportFlags& flags);
int RunReportCommand(const ReportFlags& flags);

}  // namespace wpsim::app
