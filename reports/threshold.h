// Threshold (SLO) expressions: `p99 < 50ms`, `p50 <= 2ms`, `error_rate < 0.1%`,
// `throughput > 100000/s`, `max < 1s`, `count >= 1000`, `ack_rtt.p99.9 < 20ms`.
//
// Grammar (whitespace allowed between tokens):
//   threshold := [metric "."] statistic comparison value
//   metric    := publish_to_receive | ack_rtt | connect | rest_call   (default publish_to_receive)
//   statistic := "p" NUMBER | "p(" NUMBER ")" | max | min | mean | avg | med | stddev | count
//              | error_rate | throughput
//   comparison:= "<" | "<=" | ">" | ">=" | "==" | "!="
//   value     := NUMBER unit      with unit by statistic:
//                  latency statistics: ns | us | µs | ms | s | m | min | h   (required)
//                  error_rate: "%" or none (a ratio in [0, 1])
//                  throughput: "/s" | "/ms" | "/m" | "/min" | "/h"          (required)
//                  count: none
// Parse errors carry the 1-based column (in characters) and say what was expected there, so the
// scenario loader can report `file:line:column`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "reports/histogram.h"
#include "reports/model.h"

namespace wpsim::reports {

enum class ThresholdStat {
  kPercentile, kMax, kMin, kMean, kStddev, kCount, kErrorRate, kThroughput
};
enum class ThresholdOp { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

struct Threshold {
  std::string text;               // the expression, trimmed
  std::optional<Metric> metric;   // explicit "metric." prefix, if any
  ThresholdStat stat = ThresholdStat::kPercentile;
  double percentile = 0;          // for kPercentile, in [0, 100]
  ThresholdOp op = ThresholdOp::kLess;
  // In canonical units: nanoseconds for latency statistics, a ratio for error_rate, events per
  // second for throughput, a plain number for count.
  double limit = 0;

  Metric metric_or_default() const { return metric.value_or(Metric::kPublishToReceive); }
};

struct ThresholdSyntaxError {
  size_t column = 0;  // 1-based, in characters of the expression
  std::string message;
};

// On error the Error's code is "threshold_syntax" and its message "column N: ..."; `detail`, if
// given, receives the column and the bare message.
Result<Threshold> ParseThreshold(std::string_view text, ThresholdSyntaxError* detail = nullptr);

// What a threshold is evaluated against. Missing data make the threshold fail with a message.
struct ThresholdInput {
  const Histogram* latency = nullptr;      // for latency statistics and count
  std::optional<uint64_t> operations;      // error_rate denominator
  std::string operations_name = "operations";  // what it counts, plural ("REST calls")
  std::string operations_detail;  // the parts of a mixed count ("100 REST calls, 200 acks")
  std::optional<uint64_t> errors;          // error_rate numerator
  std::optional<uint64_t> events;          // throughput numerator (default: latency count)
  int64_t duration_ns = 0;                 // throughput window
};

ThresholdResult EvaluateThreshold(const Threshold& threshold, const ThresholdInput& input);
// error_rate's numerator and denominator from run counters: "errors" over the requests that got
// a verdict ("rest_calls" + "acks" + "mqtt_acks", named by kind), else over "operations".
void SetErrorRateInput(const std::map<std::string, uint64_t>& counters, ThresholdInput& in);
// Against a scenario: the merged histogram of the threshold's metric, error_rate's counters
// (SetErrorRateInput), "messages_delivered", and the scenario's duration.
ThresholdResult EvaluateThreshold(const Threshold& threshold, const ScenarioResult& scenario);
// Against a whole run: histograms merged over all scenarios, counters summed, durations summed.
ThresholdResult EvaluateThreshold(const Threshold& threshold, const RunReport& report);

// Parses and evaluates; a syntax error is returned as an Error.
Result<ThresholdResult> EvaluateThresholdText(std::string_view text,
                                              const ScenarioResult& scenario);

}  // namespace wpsim::reports
