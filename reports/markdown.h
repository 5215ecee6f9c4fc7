// Markdown summary for a CI job page (GitHub's $GITHUB_STEP_SUMMARY): the verdict, run facts,
// failures with their reproduce commands, thresholds, and a per-scenario table of latency
// percentiles. Bounded: at most kMarkdownScenarioRowsMax scenario rows and
// kMarkdownFailuresMax failure entries, with a note pointing to the HTML report for the rest.
#pragma once

#include <cstddef>
#include <string>

#include "reports/model.h"

namespace wpsim::reports {

inline constexpr size_t kMarkdownScenarioRowsMax = 300;
inline constexpr size_t kMarkdownFailuresMax = 50;

std::string WriteMarkdown(const RunReport& report);

}  // namespace wpsim::reports
