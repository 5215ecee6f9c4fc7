// The figures of one external fan-out load run (bench/load, `wpsim-load`): counts, the delivery
// window and the exact latency histogram, as JSON ("kind": "wpsim-load"), and the merge of the
// shards of one load (`wpsim-load --workers N` merges its workers in-process; `wpsim report
// merge` merges shard files written by `--shard i/n` on several machines).
//
// A shard's own figures: `subscribers` and `publishers` are its share, `messages` is the total of
// the whole load (every subscriber of every shard expects every message), `expected` is messages
// x its own subscribers, `sent` is what its own publishers sent. Merging adds the shares and the
// counts, merges the histograms bucket by bucket (so the merged percentiles are those of the union
// of all samples) and takes the window from the earliest load start to the latest delivery.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "reports/histogram.h"

namespace wpsim::reports {

inline constexpr std::string_view kLoadReportKind = "wpsim-load";

struct LoadReport {
  std::string label;
  std::string target;
  std::string sub;
  std::string pub;
  std::string mode = "closed";  // closed | open
  uint32_t subscribers = 0;
  uint32_t publishers = 0;
  uint64_t messages = 0;
  uint32_t size = 0;
  double rate_msgs_per_s = 0;  // open loop: the whole load's rate
  uint32_t inflight = 0;
  uint32_t shard_index = 0;
  uint32_t shard_count = 1;
  uint32_t shards_merged = 1;  // 1 for one process; n after merging n shards
  std::string clock = "monotonic";  // send times in the payloads: monotonic (one machine) | realtime
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t expected = 0;
  uint64_t unknown_payloads = 0;
  uint64_t errors = 0;
  std::string first_error;
  int64_t load_start_unix_ns = 0;     // first intended send (wall clock)
  int64_t last_delivery_unix_ns = 0;  // last delivery (wall clock)
  double setup_seconds = 0;
  double loadavg_1m = 0;
  bool finished = false;  // every message delivered to every subscriber before the timeout
  Histogram latency{3};   // send (intended send, open loop) to arrival, ns

  double load_seconds() const;
  double deliveries_per_s() const;
  bool ok() const;  // finished, delivered == expected, no errors, no unknown payloads
};

nlohmann::json LoadReportToJson(const LoadReport& r);
// True when `j` is a load report (its "kind" is "wpsim-load").
bool IsLoadReportJson(const nlohmann::json& j);
// Errors name the JSON location, e.g. "latency_histogram.buckets[3]: ...".
Result<LoadReport> LoadReportFromJson(const nlohmann::json& j, const std::string& where);
// The shards of one load: the same shard_count, each index 0..n-1 exactly once (a shard merged
// twice would double-count), the same kinds, total messages, size and mode.
Result<LoadReport> MergeLoadReports(std::span<const LoadReport> shards);
// One line: "... delivered D/E in S s = R deliveries/s; latency p50 ... ; load L".
std::string LoadSummaryLine(const LoadReport& r);

}  // namespace wpsim::reports
