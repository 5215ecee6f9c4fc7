#include "reports/reports.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/reports/sample_report.h"
#include "tests/reports/test_util.h"

namespace wpsim::reports {
namespace {

TEST(WriteReports, WritesEveryRequestedFormatAndReturnsThePaths) {
  const std::string dir = testing::ScratchDir("write-reports") + "/nested/wpsim-report";
  const RunReport r = testing::MakeSampleReport(42);
  Result<std::vector<std::string>> written = WriteReports(r, DefaultReportPaths(dir));
  ASSERT_TRUE(written.ok()) << written.error().message;
  ASSERT_EQ(written->size(), 4u);
  EXPECT_EQ((*written)[0], dir + "/junit.xml");
  EXPECT_EQ(*ReadTextFile(dir + "/report.json"), WriteJson(r));
  EXPECT_EQ(*ReadTextFile(dir + "/report.html"), WriteHtml(r));
  EXPECT_EQ(*ReadTextFile(dir + "/summary.md"), WriteMarkdown(r));
  EXPECT_EQ(*ReadTextFile(dir + "/junit.xml"), WriteJunitXml(r));
}

TEST(WriteReports, SkipsFormatsWithoutAPathAndReportsIoErrors) {
  const std::string dir = testing::ScratchDir("write-reports-some");
  ReportPaths paths;
  paths.json = dir + "/only.json";
  Result<std::vector<std::string>> written = WriteReports(RunReport{}, paths);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/report.html"));
  paths.json = "/proc/version/cannot-write-here.json";
  Result<std::vector<std::string>> failed = WriteReports(RunReport{}, paths);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "io_error");
}

TEST(ScenarioBuilders, ABrokenThresholdFailsThePassingScenario) {
  ScenarioResult s;
  s.AddThresholdResult({"p99 < 1ms", "2 ms", 2e6, true, ""});
  EXPECT_EQ(s.status, Outcome::kPass);
  s.AddThresholdResult({"p99 < 1ms", "2 ms", 2e6, false, ""});
  EXPECT_EQ(s.status, Outcome::kFail);
  RunReport r;
  r.scenarios.push_back(s);
  EXPECT_EQ(r.ComputeVerdict(), Verdict::kThresholdFailure);
  r.scenarios[0].AddFailure({"boom", "", "", "", std::nullopt});
  EXPECT_EQ(r.ComputeVerdict(), Verdict::kConformanceFailure);
}

TEST(ScenarioBuilders, SequenceDiagramKeepsTheLastArrows) {
  SequenceDiagram d;
  d.AddLifeline("service");
  for (size_t i = 0; i < kSequenceArrowsMax + 5; ++i) {
    d.AddArrow(static_cast<int64_t>(i), "c" + std::to_string(i % 3), "service", "m");
  }
  EXPECT_EQ(d.arrows.size(), kSequenceArrowsMax);
  EXPECT_EQ(d.arrows_omitted, 5u);
  EXPECT_EQ(d.arrows.front().time_ns, 5);
  EXPECT_EQ(d.lifelines.front(), "service");
  EXPECT_EQ(d.lifelines.size(), 4u);
}

TEST(ScenarioBuilders, ThroughputIsBoundedAndCountsWhatItDrops) {
  ThroughputSeries t;
  t.interval_ns = 10;
  t.start_ns = 100;
  t.Add(95);
  t.Add(100);
  t.Add(125, 3);
  t.Add(100 + 10 * static_cast<int64_t>(kThroughputBucketsMax));
  EXPECT_EQ(t.counts, (std::vector<uint64_t>{1, 0, 3}));
  EXPECT_EQ(t.dropped, 2u);
  EXPECT_EQ(t.Total(), 4u);
  EXPECT_DOUBLE_EQ(t.PeakPerSecond(), 3e8);
}

TEST(ScenarioBuilders, SizeBucketsAndShellQuoting) {
  EXPECT_EQ(SizeBucketLabel(0), "0-64B");
  EXPECT_EQ(SizeBucketLabel(64), "0-64B");
  EXPECT_EQ(SizeBucketLabel(65), "65-256B");
  EXPECT_EQ(SizeBucketLabel(5000), "4-16KiB");
  EXPECT_EQ(SizeBucketLabel(2'000'000), ">1MiB");
  EXPECT_EQ(ShellQuote({"wpsim", "run", "a b.yaml", "--filter", "it's"}),
            "wpsim run 'a b.yaml' --filter 'it'\\''s'");
}

}  // namespace
}  // namespace wpsim::reports
