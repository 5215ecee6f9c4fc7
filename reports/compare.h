// Baseline comparison (`wpsim report compare OLD.json NEW.json`) and exact merging of shard
// reports (`wpsim report merge A.json B.json ...`).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "reports/model.h"

namespace wpsim::reports {

struct CompareOptions {
  // A statistic regresses when new > old * (1 + tolerance_percent / 100) ...
  double tolerance_percent = 10.0;
  // ... and new - old > noise_floor_ns (so 1 µs -> 2 µs is not a 100 % regression).
  int64_t noise_floor_ns = 0;
  // Statistics to compare: "p<percentile>" (p50, p99.9, ...), "max", "min", "mean".
  std::vector<std::string> statistics = {"p50", "p90", "p99", "p99.9"};
  // Metrics to compare; empty means all.
  std::vector<Metric> metrics;
  // A scenario that passed in OLD and fails or errors in NEW is a regression too.
  bool status_regressions = true;
};

struct CompareRow {
  std::string scenario;   // "file :: name"
  std::string series;     // SeriesKey::Label()
  std::string statistic;  // "p99"
  int64_t old_ns = 0;
  int64_t new_ns = 0;
  double delta_percent = 0;  // (new - old) / old * 100; 0 when old is 0
  bool regressed = false;
};

struct CompareOutcome {
  std::vector<CompareRow> rows;              // scenario order of NEW, then series order
  std::vector<std::string> status_changes;   // "file :: name: pass -> fail"
  std::vector<std::string> only_in_old;      // scenarios missing from NEW
  std::vector<std::string> only_in_new;
  bool regression = false;

  // A fixed-width table for the terminal: one block per scenario, one line per series and
  // statistic with old, new, delta and a REGRESSION marker; then status changes and a verdict.
  std::string Table() const;
};

// Matches scenarios by (file, name) and series by key. Errors on bad options (unknown
// statistic, negative tolerance).
Result<CompareOutcome> CompareReports(const RunReport& old_report, const RunReport& new_report,
                                      const CompareOptions& options = {});

// Merges reports of one run split into shards (same target, clock, seed and precision; errors
// say which input differs). Exact: scenarios appearing in several inputs (a load scenario
// driven from several machines) are combined — histograms merged, counters and throughput
// added, cases and failures concatenated, the worst status kept, durations the maximum — and
// their thresholds re-evaluated on the merged data; run thresholds too. Scenarios are ordered
// by (ordinal, file, name), so shards of a run whose runner numbered scenarios globally merge
// into the unsharded order; ordinals are then renumbered 0..n-1 (shards number locally). The
// run's trace hash becomes CombinedTraceHash().
Result<RunReport> MergeReports(std::span<const RunReport> reports);

}  // namespace wpsim::reports
