#include "reports/compare.h"

#include <gtest/gtest.h>

#include "reports/json_report.h"
#include "reports/threshold.h"
#include "tests/reports/sample_report.h"

namespace wpsim::reports {
namespace {

using nlohmann::json;
using testing::MakeSampleReport;

// A copy of `r` whose every latency sample is scaled by `factor`.
RunReport Scaled(const RunReport& r, double factor) {
  RunReport out = r;
  for (ScenarioResult& s : out.scenarios) {
    for (auto& [key, series] : s.latency) {
      Histogram h(series.histogram.significant_digits());
      for (const Histogram::Bucket& b : series.histogram.NonEmptyBuckets()) {
        h.RecordCount(static_cast<int64_t>(static_cast<double>(b.value_ns) * factor), b.count);
      }
      series.histogram = h;
    }
  }
  return out;
}

TEST(CompareReports, IdenticalRunsShowNoRegression) {
  const RunReport r = MakeSampleReport(42);
  Result<CompareOutcome> c = CompareReports(r, r);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->regression);
  EXPECT_FALSE(c->rows.empty());
  for (const CompareRow& row : c->rows) EXPECT_EQ(row.delta_percent, 0) << row.series;
  EXPECT_NE(c->Table().find("no regression"), std::string::npos);
}

TEST(CompareReports, FlagsPercentilesThatGrewBeyondTheTolerance) {
  const RunReport old = MakeSampleReport(42);
  const RunReport slower = Scaled(old, 1.5);
  Result<CompareOutcome> c = CompareReports(old, slower, {.tolerance_percent = 10});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->regression);
  bool saw_p99 = false;
  for (const CompareRow& row : c->rows) {
    EXPECT_TRUE(row.regressed) << row.scenario << " " << row.series << " " << row.statistic;
    EXPECT_NEAR(row.delta_percent, 50, 3);
    saw_p99 |= row.statistic == "p99";
  }
  EXPECT_TRUE(saw_p99);
  const std::string table = c->Table();
  EXPECT_NE(table.find("REGRESSION"), std::string::npos);
  EXPECT_NE(table.find("scenarios/load/fanout.yaml :: server broadcast"), std::string::npos);
  EXPECT_NE(table.find("regression: "), std::string::npos);

  Result<CompareOutcome> lenient = CompareReports(old, slower, {.tolerance_percent = 60});
  ASSERT_TRUE(lenient.ok());
  EXPECT_FALSE(lenient->regression) << lenient->Table();
  // Getting faster is never a regression.
  Result<CompareOutcome> faster = CompareReports(slower, old, {.tolerance_percent = 0});
  ASSERT_TRUE(faster.ok());
  EXPECT_FALSE(faster->regression);
}

TEST(CompareReports, NoiseFloorAndMetricFilterApply) {
  const RunReport old = MakeSampleReport(42);
  const RunReport slower = Scaled(old, 1.5);
  CompareOptions options;
  options.noise_floor_ns = 1'000'000'000;  // nothing grew by a second
  EXPECT_FALSE(CompareReports(old, slower, options)->regression);
  options = {};
  options.metrics = {Metric::kConnect};
  options.statistics = {"max"};
  Result<CompareOutcome> c = CompareReports(old, slower, options);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->rows.size(), 1u);  // only the quickstart has connect latencies
  EXPECT_EQ(c->rows[0].statistic, "max");
  EXPECT_TRUE(c->regression);
}

TEST(CompareReports, AScenarioThatStartsFailingIsARegression) {
  RunReport old = MakeSampleReport(42);
  RunReport neu = old;
  neu.scenarios[0].AddFailure({"boom", "", "", "", std::nullopt});
  Result<CompareOutcome> c = CompareReports(old, neu);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->regression);
  ASSERT_EQ(c->status_changes.size(), 1u);
  EXPECT_NE(c->status_changes[0].find(": pass -> fail"), std::string::npos);
}

TEST(CompareReports, ListsScenariosPresentOnOneSideOnly) {
  RunReport old = MakeSampleReport(42);
  RunReport neu = old;
  neu.scenarios.pop_back();
  neu.AddScenario("new.yaml", "brand new");
  Result<CompareOutcome> c = CompareReports(old, neu);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->only_in_old.size(), 1u);
  EXPECT_NE(c->only_in_old[0].find("fanout"), std::string::npos);
  ASSERT_EQ(c->only_in_new.size(), 1u);
  EXPECT_EQ(c->only_in_new[0], "new.yaml :: brand new");
}

TEST(CompareReports, RejectsBadOptions) {
  const RunReport r = MakeSampleReport(42);
  Result<CompareOutcome> c = CompareReports(r, r, {.statistics = {"p99", "median"}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("unknown statistic \"median\""), std::string::npos);
  EXPECT_FALSE(CompareReports(r, r, {.tolerance_percent = -1}).ok());
}

json WithoutRun(const RunReport& r) {
  json j = json::parse(WriteJson(r));
  j.erase("run");
  return j;
}

TEST(MergeReports, ShardsMergeIntoTheUnshardedReport) {
  const RunReport full = MakeSampleReport(42);
  RunReport shard1 = full, shard2 = full;
  shard1.scenarios = {full.scenarios[0], full.scenarios[2]};
  shard2.scenarios = {full.scenarios[1], full.scenarios[3]};
  shard2.run.host = "ci-runner-4";
  shard2.run.start_time = "2024-05-01T11:59:58Z";
  // Shards go through JSON, as `wpsim report merge` reads them.
  Result<RunReport> a = ReadJsonReport(WriteJson(shard1));
  Result<RunReport> b = ReadJsonReport(WriteJson(shard2));
  ASSERT_TRUE(a.ok() && b.ok());
  const RunReport shards[] = {*b, *a};  // order of inputs does not matter
  Result<RunReport> merged = MergeReports(shards);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(WithoutRun(*merged).dump(2), WithoutRun(full).dump(2));
  EXPECT_EQ(merged->trace_hash, full.trace_hash);
  EXPECT_EQ(merged->run.host, "ci-runner-4, ci-runner-3");
  EXPECT_EQ(merged->run.start_time, "2024-05-01T11:59:58Z");
}

TEST(MergeReports, ALoadScenarioDrivenFromSeveralMachinesMergesExactly) {
  RunReport machine1, machine2, whole;
  for (RunReport* r : {&machine1, &machine2, &whole}) r->histogram_significant_digits = 3;
  ScenarioResult& s1 = machine1.AddScenario("load.yaml", "fanout");
  ScenarioResult& s2 = machine2.AddScenario("load.yaml", "fanout");
  ScenarioResult& sw = whole.AddScenario("load.yaml", "fanout");
  const SeriesKey key{Metric::kPublishToReceive, ClientKind::kWs, "server_to_all", "0-64B"};
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = 100'000 + static_cast<int64_t>(i) * 7'919;
    (i % 2 ? s1 : s2).Latency(key).histogram.Record(v);
    sw.Latency(key).histogram.Record(v);
    (i % 2 ? s1 : s2).Throughput("delivered", 1'000'000).Add(i * 10'000);
  }
  s1.Count(kCounterOperations, 500);
  s2.Count(kCounterOperations, 500);
  s2.Count(kCounterErrors, 2);
  for (ScenarioResult* s : {&s1, &s2}) {
    s->duration_ns = 1'000'000'000;
    s->thresholds.push_back(*EvaluateThresholdText("count >= 1000", *s));
  }
  EXPECT_FALSE(s1.thresholds[0].passed);  // each machine alone saw 500 samples
  machine1.thresholds.push_back(EvaluateThreshold(*ParseThreshold("error_rate < 0.1%"), machine1));
  const RunReport inputs[] = {machine1, machine2};
  Result<RunReport> merged = MergeReports(inputs);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  ASSERT_EQ(merged->scenarios.size(), 1u);
  const ScenarioResult& m = merged->scenarios[0];
  EXPECT_TRUE(m.latency.at(key).histogram == sw.latency.at(key).histogram);
  EXPECT_EQ(m.Counter(kCounterOperations), 1000u);
  EXPECT_EQ(m.Counter(kCounterErrors), 2u);
  EXPECT_EQ(m.throughput.at("delivered").Total(), 1000u);
  ASSERT_EQ(m.thresholds.size(), 1u);
  EXPECT_TRUE(m.thresholds[0].passed) << m.thresholds[0].observed;  // re-evaluated: 1000
  ASSERT_EQ(merged->thresholds.size(), 1u);
  EXPECT_FALSE(merged->thresholds[0].passed);  // 2 errors in 1000 = 0.2 %
}

TEST(MergeReports, RefusesReportsOfDifferentRuns) {
  RunReport a = MakeSampleReport(42);
  RunReport b = a;
  b.seed = 7;
  RunReport pair[] = {a, b};
  Result<RunReport> r = MergeReports(pair);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("report 2 has seed 7, report 1 seed 42"), std::string::npos);
  pair[1] = a;
  pair[1].target = Target::kRemote;
  EXPECT_NE(MergeReports(pair).error().message.find("target remote"), std::string::npos);
  pair[1] = a;
  pair[1].histogram_significant_digits = 4;
  EXPECT_NE(MergeReports(pair).error().message.find("same precision"), std::string::npos);
  EXPECT_FALSE(MergeReports({}).ok());
}

}  // namespace
}  // namespace wpsim::reports
