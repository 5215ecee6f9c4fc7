// Self-contained HTML report: one file, inline CSS and SVG, a few lines of optional inline
// JavaScript, no network fetches (a Content-Security-Policy forbids them). The summary, the
// scenario table and every plot are plain HTML/SVG, readable without JavaScript.
//
// Sections: summary (verdict, passed/failed/skipped/errors, target, clock, seed, trace hash,
// version, durations, run facts); run thresholds; scenario table with status and latency
// percentiles; a run-wide latency overview per metric (all scenarios merged, one percentile line
// per scenario); then per scenario: facts and reproduce command, failures, case results,
// thresholds, latency series table, a histogram plot and a percentile-distribution plot per
// metric (x = 1/(1-percentile) on a log axis, like HdrHistogram's plotter), throughput over time
// for load scenarios, and for every failing scenario a sequence diagram (lifelines for clients
// and the service, arrows in time order, the violated expectation highlighted).
//
// Stable hooks for tests and scripts: #summary, #scenario-table, #overview, #scenario-<ordinal>,
// svg.histogram, svg.percentiles, svg.throughput, svg.sequence, .highlighted, .reproduce.
#pragma once

#include <cstddef>
#include <string>

#include "reports/model.h"

namespace wpsim::reports {

// Bounds that keep a report of a huge run loadable in a browser.
inline constexpr size_t kHtmlSeriesPerPlotMax = 8;
inline constexpr size_t kHtmlScenarioDetailsMax = 500;

std::string WriteHtml(const RunReport& report);

}  // namespace wpsim::reports
