#include "reports/threshold.h"

#include <gtest/gtest.h>

namespace wpsim::reports {
namespace {

Threshold Parse(std::string_view text) {
  Result<Threshold> t = ParseThreshold(text);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : Threshold{};
}

TEST(ThresholdParser, ReadsTheSloFormsScenariosUse) {
  Threshold t = Parse("p99 < 50ms");
  EXPECT_EQ(t.stat, ThresholdStat::kPercentile);
  EXPECT_EQ(t.percentile, 99);
  EXPECT_EQ(t.op, ThresholdOp::kLess);
  EXPECT_EQ(t.limit, 50e6);
  EXPECT_FALSE(t.metric.has_value());

  t = Parse("  p50 <= 2ms ");
  EXPECT_EQ(t.text, "p50 <= 2ms");
  EXPECT_EQ(t.op, ThresholdOp::kLessEqual);
  EXPECT_EQ(t.limit, 2e6);

  t = Parse("error_rate < 0.1%");
  EXPECT_EQ(t.stat, ThresholdStat::kErrorRate);
  EXPECT_DOUBLE_EQ(t.limit, 0.001);

  t = Parse("error_rate<=0.02");
  EXPECT_DOUBLE_EQ(t.limit, 0.02);

  t = Parse("throughput > 100000/s");
  EXPECT_EQ(t.stat, ThresholdStat::kThroughput);
  EXPECT_EQ(t.op, ThresholdOp::kGreater);
  EXPECT_EQ(t.limit, 100000);
  EXPECT_DOUBLE_EQ(Parse("throughput >= 6000/min").limit, 100);
  EXPECT_DOUBLE_EQ(Parse("throughput >= 2/ms").limit, 2000);

  t = Parse("max < 1s");
  EXPECT_EQ(t.stat, ThresholdStat::kMax);
  EXPECT_EQ(t.limit, 1e9);

  t = Parse("count >= 1000");
  EXPECT_EQ(t.stat, ThresholdStat::kCount);
  EXPECT_EQ(t.op, ThresholdOp::kGreaterEqual);
  EXPECT_EQ(t.limit, 1000);

  t = Parse("ack_rtt.p99.9 < 20 ms");
  ASSERT_TRUE(t.metric.has_value());
  EXPECT_EQ(*t.metric, Metric::kAckRtt);
  EXPECT_DOUBLE_EQ(t.percentile, 99.9);
  EXPECT_EQ(t.limit, 20e6);

  EXPECT_DOUBLE_EQ(Parse("p(95) < 200ms").percentile, 95);
  EXPECT_EQ(Parse("med < 1.5µs").limit, 1500);
  EXPECT_EQ(Parse("avg != 3us").stat, ThresholdStat::kMean);
  EXPECT_EQ(Parse("stddev == 0ns").op, ThresholdOp::kEqual);
  EXPECT_EQ(Parse("connect.min > 2m").limit, 120e9);
  EXPECT_EQ(Parse("p100 < 1h").limit, 3600e9);
}

void ExpectSyntaxError(std::string_view text, size_t column, const std::string& needle) {
  ThresholdSyntaxError detail;
  Result<Threshold> t = ParseThreshold(text, &detail);
  ASSERT_FALSE(t.ok()) << "accepted: " << text;
  EXPECT_EQ(t.error().code, "threshold_syntax");
  EXPECT_EQ(detail.column, column) << text << ": " << detail.message;
  EXPECT_NE(detail.message.find(needle), std::string::npos) << detail.message;
  EXPECT_NE(t.error().message.find("column " + std::to_string(column) + ": "), std::string::npos)
      << t.error().message;
}

TEST(ThresholdParser, PointsAtTheExactColumnOfEachMistake) {
  ExpectSyntaxError("", 1, "empty threshold");
  ExpectSyntaxError("p99 < 50", 9, "expected a time unit (ns, us, ms, s, m, h) after 50");
  ExpectSyntaxError("p99 < 50 parsecs", 10, "unknown time unit 'parsecs'");
  ExpectSyntaxError("p99 50ms", 5, "expected a comparison");
  ExpectSyntaxError("p99 = 50ms", 5, "use '=='");
  ExpectSyntaxError("p99 <", 6, "expected a number at the end");
  ExpectSyntaxError("p101 < 1s", 2, "percentile 101 is above 100");
  ExpectSyntaxError("p < 1s", 2, "expected a percentile after 'p'");
  ExpectSyntaxError("p(99 < 1s", 5, "expected ')'");
  ExpectSyntaxError("latency < 1s", 1, "unknown statistic 'latency'");
  ExpectSyntaxError("p99x < 1s", 1, "unknown statistic 'p99x'");
  ExpectSyntaxError("bogus.p99 < 1s", 1, "unknown metric 'bogus'");
  ExpectSyntaxError("ack_rtt.error_rate < 1%", 9, "does not take a metric prefix");
  ExpectSyntaxError("error_rate < 5", 14, "above 1 (a ratio); did you mean 5%?");
  ExpectSyntaxError("error_rate < 0.1 ms", 18, "expected '%' or nothing");
  ExpectSyntaxError("throughput > 100000", 20, "expected a rate unit (/s, /ms, /m, /h) after 100000");
  ExpectSyntaxError("count >= 10 ms", 13, "count takes a plain number, not 'ms'");
  ExpectSyntaxError("p99 < 1.2.3ms", 7, "malformed number '1.2.3'");
  ExpectSyntaxError("p99 < -1ms", 7, "negative limits");
  ExpectSyntaxError("p99 < 5ms and more", 11, "unexpected 'and' after the value");
  // Columns count characters, not bytes: 'µ' is two bytes.
  ExpectSyntaxError("p99 < 5µs x", 11, "unexpected 'x'");
}

TEST(ThresholdEvaluation, ComparesLatencyStatisticsAgainstTheHistogram) {
  Histogram h(3);
  for (int i = 1; i <= 1000; ++i) h.Record(i * 100'000);  // 0.1 .. 100 ms
  ThresholdInput in;
  in.latency = &h;
  ThresholdResult r = EvaluateThreshold(Parse("p99 < 50ms"), in);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.expression, "p99 < 50ms");
  EXPECT_NEAR(r.observed_value, 99e6, 99e6 * 1e-3);
  EXPECT_EQ(r.observed, "99.0 ms");
  EXPECT_TRUE(EvaluateThreshold(Parse("p50 <= 51ms"), in).passed);
  EXPECT_FALSE(EvaluateThreshold(Parse("p50 <= 49ms"), in).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("max <= 100ms"), in).passed);
  EXPECT_FALSE(EvaluateThreshold(Parse("max < 100ms"), in).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("min == 100us"), in).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("count >= 1000"), in).passed);
  EXPECT_FALSE(EvaluateThreshold(Parse("count > 1000"), in).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("mean < 51ms"), in).passed);
}

TEST(ThresholdEvaluation, ComputesErrorRateAndThroughputFromCounters) {
  ThresholdInput in;
  in.operations = 2000;
  in.errors = 3;
  ThresholdResult r = EvaluateThreshold(Parse("error_rate < 0.1%"), in);
  EXPECT_FALSE(r.passed);
  EXPECT_DOUBLE_EQ(r.observed_value, 0.0015);
  EXPECT_EQ(r.observed, "0.15% (3 of 2000 operations failed)");
  EXPECT_TRUE(EvaluateThreshold(Parse("error_rate < 0.2%"), in).passed);

  in.events = 250'000;
  in.duration_ns = 2'000'000'000;
  r = EvaluateThreshold(Parse("throughput > 100000/s"), in);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.observed, "125000/s");
  EXPECT_FALSE(EvaluateThreshold(Parse("throughput > 200000/s"), in).passed);
}

TEST(ThresholdEvaluation, ErrorRateCountsRestCallsAndSaysSo) {
  // 100 REST sends inside a repeat: the operations counter also counts the 100 iterations, but
  // only REST calls can fail, so the rate is over the REST calls and the text names them.
  ScenarioResult s;
  s.Count(kCounterOperations, 200);
  s.Count(kCounterRestCalls, 100);
  s.Count(kCounterErrors, 0);
  ThresholdResult r = EvaluateThreshold(Parse("error_rate < 0.1%"), s);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.observed, "0% (0 of 100 REST calls failed)");
  s.Count(kCounterErrors, 2);
  r = EvaluateThreshold(Parse("error_rate < 1%"), s);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.observed, "2% (2 of 100 REST calls failed)");
  RunReport run;
  run.scenarios = {s, s};
  r = EvaluateThreshold(Parse("error_rate < 5%"), run);
  EXPECT_EQ(r.observed, "2% (4 of 200 REST calls failed)");
}

TEST(ThresholdEvaluation, FailsWithAReasonWhenDataAreMissing) {
  ThresholdInput in;
  ThresholdResult r = EvaluateThreshold(Parse("p99 < 50ms"), in);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.observed, "n/a");
  EXPECT_NE(r.message.find("no publish_to_receive latency samples"), std::string::npos);
  r = EvaluateThreshold(Parse("error_rate < 1%"), in);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.message.find("no operations"), std::string::npos);
  r = EvaluateThreshold(Parse("throughput > 1/s"), in);
  EXPECT_NE(r.message.find("window is empty"), std::string::npos);
}

TEST(ThresholdEvaluation, UsesTheScenariosSeriesOfTheNamedMetric) {
  ScenarioResult s;
  s.Latency(Metric::kPublishToReceive, ClientKind::kWs, kPathServerToAll, "0-64B")
      .histogram.Record(1'000'000);
  s.Latency(Metric::kPublishToReceive, ClientKind::kMqtt, kPathMqttTopic, "0-64B")
      .histogram.Record(9'000'000);
  s.Latency(Metric::kAckRtt, ClientKind::kJson).histogram.Record(30'000'000);
  s.duration_ns = 1'000'000'000;
  s.Count(kCounterDelivered, 5000);
  EXPECT_TRUE(EvaluateThreshold(Parse("max < 10ms"), s).passed);
  EXPECT_FALSE(EvaluateThreshold(Parse("max < 5ms"), s).passed);
  EXPECT_FALSE(EvaluateThreshold(Parse("ack_rtt.p99 < 20ms"), s).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("count == 2"), s).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("throughput >= 5000/s"), s).passed);
  Result<ThresholdResult> r = EvaluateThresholdText("p99 <", s);
  EXPECT_FALSE(r.ok());
}

TEST(ThresholdEvaluation, RunWideThresholdsAggregateAllScenarios) {
  RunReport report;
  ScenarioResult& a = report.AddScenario("a.yaml", "a");
  a.Count(kCounterOperations, 100);
  a.Count(kCounterErrors, 1);
  a.Latency(Metric::kConnect, ClientKind::kWs).histogram.Record(5'000'000);
  ScenarioResult& b = report.AddScenario("b.yaml", "b");
  b.Count(kCounterOperations, 900);
  b.Latency(Metric::kConnect, ClientKind::kWs).histogram.Record(7'000'000);
  ThresholdResult r = EvaluateThreshold(Parse("error_rate <= 0.1%"), report);
  EXPECT_TRUE(r.passed) << r.observed;
  EXPECT_DOUBLE_EQ(r.observed_value, 0.001);
  EXPECT_TRUE(EvaluateThreshold(Parse("connect.count == 2"), report).passed);
  EXPECT_TRUE(EvaluateThreshold(Parse("connect.max == 7ms"), report).passed);
}

}  // namespace
}  // namespace wpsim::reports
