// The reports module in one include: the model, the writers, thresholds, compare and merge,
// and WriteReports, which renders a run into the files the CLI's --junit/--json/--html/--md
// flags name.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "reports/compare.h"
#include "reports/histogram.h"
#include "reports/html.h"
#include "reports/json_report.h"
#include "reports/junit.h"
#include "reports/markdown.h"
#include "reports/model.h"
#include "reports/threshold.h"

namespace wpsim::reports {

// Output files; an empty path means "do not write this format".
struct ReportPaths {
  std::string junit;
  std::string json;
  std::string html;
  std::string markdown;
};

// dir/junit.xml, dir/report.json, dir/report.html, dir/summary.md (dir defaults to the
// git-ignored wpsim-report/).
ReportPaths DefaultReportPaths(const std::string& dir = "wpsim-report");

// Writes every requested format (creating directories) and returns the paths written, in the
// order JUnit, JSON, HTML, Markdown. Stops at the first I/O error.
Result<std::vector<std::string>> WriteReports(const RunReport& report, const ReportPaths& paths);

}  // namespace wpsim::reports
