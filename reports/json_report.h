// JSON form of a RunReport (schema in docs/reports.md): the machine-readable report, and the
// input of `wpsim report compare` and `wpsim report merge`.
//
// Output is deterministic: object keys sorted, arrays in model order, integers for every
// nanosecond figure, 64-bit seeds and hashes as strings (JavaScript numbers cannot hold them).
// Wall-clock facts are confined to the top-level "run" object.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "reports/model.h"

namespace wpsim::reports {

// The whole report, pretty-printed (2-space indent), ending with a newline.
std::string WriteJson(const RunReport& report);
nlohmann::json ToJson(const RunReport& report);

// Parses a report written by WriteJson (any schema_version <= kSchemaVersion). Errors name the
// offending JSON location, e.g. "scenarios[2].latency[0].histogram.buckets[3]: expected
// [value_ns, count]". Unknown keys are ignored; derived fields (totals, percentiles) are
// checked against the data they summarise.
Result<RunReport> ReadJsonReport(std::string_view text);
// Reads and parses a file; errors start with the path.
Result<RunReport> ReadJsonReportFile(const std::string& path);

// The compact histogram form: non-empty buckets only, plus summary statistics for readers that
// do not want to decode buckets.
nlohmann::json HistogramToJson(const Histogram& h);
Result<Histogram> HistogramFromJson(const nlohmann::json& j, const std::string& where = "histogram");

// "p50", "p99.9", "p99.99".
std::string PercentileName(double percentile);

// Writes `content` to `path` (replacing it), creating parent directories.
Status WriteTextFile(const std::string& path, std::string_view content);
Result<std::string> ReadTextFile(const std::string& path);

}  // namespace wpsim::reports
