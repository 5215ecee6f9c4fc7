// `wpsim report compare|merge` driven through the real CLI (RunCli), on reports written by real
// `wpsim run` invocations of the quickstart suite.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "app/cli.h"
#include "reports/reports.h"

namespace wpsim::app {
namespace {

namespace fs = std::filesystem;
using reports::RunReport;

const std::string kQuickstarts = std::string(WPSIM_SOURCE_DIR) + "/scenarios/quickstarts";

// Per process: ctest runs every test of this file as its own process, in parallel, and each
// process's SetUpTestSuite writes its reports here.
std::string TempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) /
                       ("wpsim_report_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

RunReport Read(const std::string& path) {
  Result<RunReport> r = reports::ReadJsonReportFile(path);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : RunReport{};
}

// The JSON of a report without its wall-clock `run` object.
nlohmann::json WithoutRun(const RunReport& r) {
  nlohmann::json j = reports::ToJson(r);
  j.erase("run");
  return j;
}

// A copy whose every latency sample is `factor` times slower.
RunReport Slower(const RunReport& r, double factor) {
  RunReport out = r;
  for (reports::ScenarioResult& s : out.scenarios) {
    for (auto& [key, series] : s.latency) {
      reports::Histogram h(series.histogram.significant_digits());
      for (const reports::Histogram::Bucket& b : series.histogram.NonEmptyBuckets()) {
        h.RecordCount(static_cast<int64_t>(static_cast<double>(b.value_ns) * factor), b.count);
      }
      series.histogram = h;
    }
  }
  return out;
}

class ReportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("suite"));
    ASSERT_EQ(RunCli({"wpsim", "run", kQuickstarts, "--shard", "1/2", "--json", *dir_ + "/a.json"}), kExitOk);
    ASSERT_EQ(RunCli({"wpsim", "run", kQuickstarts, "--shard", "2/2", "--json", *dir_ + "/b.json"}), kExitOk);
    ASSERT_EQ(RunCli({"wpsim", "run", kQuickstarts, "--json", *dir_ + "/all.json"}), kExitOk);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
    dir_ = nullptr;
  }
  static std::string* dir_;
};
std::string* ReportCli::dir_ = nullptr;

TEST_F(ReportCli, MergedShardsEqualTheUnshardedRunInCountsAndHistograms) {
  const std::string& d = *dir_;
  ASSERT_EQ(RunCli({"wpsim", "report", "merge", d + "/a.json", d + "/b.json", "-o", d + "/merged.json",
                    "--junit", d + "/merged.xml", "--html", d + "/merged.html", "--md", d + "/merged.md"}),
            kExitOk);
  for (const char* f : {"/merged.xml", "/merged.html", "/merged.md"}) EXPECT_TRUE(fs::exists(d + f)) << f;
  const RunReport a = Read(d + "/a.json");
  const RunReport b = Read(d + "/b.json");
  const RunReport all = Read(d + "/all.json");
  const RunReport merged = Read(d + "/merged.json");
  ASSERT_FALSE(a.scenarios.empty());
  ASSERT_FALSE(b.scenarios.empty());
  EXPECT_EQ(a.scenarios.size() + b.scenarios.size(), all.scenarios.size());
  // Each shard numbers its scenarios by their position in the unsharded run.
  for (size_t i = 0; i < a.scenarios.size(); ++i) EXPECT_EQ(a.scenarios[i].ordinal, 2 * i);
  for (size_t i = 0; i < b.scenarios.size(); ++i) EXPECT_EQ(b.scenarios[i].ordinal, 2 * i + 1);
  ASSERT_EQ(merged.scenarios.size(), all.scenarios.size());
  EXPECT_EQ(merged.ComputeTotals(), all.ComputeTotals());
  EXPECT_EQ(merged.trace_hash, all.trace_hash);
  size_t histograms = 0;
  for (size_t i = 0; i < all.scenarios.size(); ++i) {
    const reports::ScenarioResult& m = merged.scenarios[i];
    const reports::ScenarioResult& u = all.scenarios[i];
    EXPECT_EQ(m.name, u.name);
    EXPECT_EQ(m.status, u.status) << u.name;
    EXPECT_EQ(m.counters, u.counters) << u.name;
    EXPECT_EQ(m.trace_hash, u.trace_hash) << u.name;
    ASSERT_EQ(m.latency.size(), u.latency.size()) << u.name;
    for (const auto& [key, series] : u.latency) {
      auto it = m.latency.find(key);
      ASSERT_NE(it, m.latency.end()) << u.name << " " << key.Label();
      EXPECT_TRUE(it->second.histogram == series.histogram) << u.name << " " << key.Label();
      histograms += !series.histogram.empty();
    }
  }
  EXPECT_GT(histograms, 5u);
  // Everything outside the wall-clock `run` object is identical.
  EXPECT_EQ(WithoutRun(merged), WithoutRun(all));
}

TEST_F(ReportCli, MergeToStdoutNeedsNoOutputFlag) {
  testing::internal::CaptureStdout();
  const int rc = RunCli({"wpsim", "report", "merge", *dir_ + "/a.json", *dir_ + "/b.json"});
  const std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(rc, kExitOk);
  Result<RunReport> parsed = reports::ReadJsonReport(out);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(WithoutRun(*parsed), WithoutRun(Read(*dir_ + "/all.json")));
}

TEST_F(ReportCli, MergeRejectsOneShardGivenTwice) {
  testing::internal::CaptureStderr();
  const int rc = RunCli({"wpsim", "report", "merge", *dir_ + "/a.json", *dir_ + "/a.json", "-o",
                         *dir_ + "/twice.json"});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, kExitUsage);
  EXPECT_NE(err.find("one shard given twice"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(*dir_ + "/twice.json"));
  // --combine is the explicit way to add up one scenario from several inputs.
  EXPECT_EQ(RunCli({"wpsim", "report", "merge", "--combine", *dir_ + "/a.json", *dir_ + "/a.json", "-o",
                    *dir_ + "/twice.json"}),
            kExitOk);
  const RunReport twice = Read(*dir_ + "/twice.json");
  const RunReport a = Read(*dir_ + "/a.json");
  ASSERT_EQ(twice.scenarios.size(), a.scenarios.size());
  for (size_t i = 0; i < a.scenarios.size(); ++i) {
    for (const auto& [key, series] : a.scenarios[i].latency) {
      EXPECT_EQ(twice.scenarios[i].latency.at(key).histogram.count(), 2 * series.histogram.count());
    }
  }
}

TEST_F(ReportCli, MergeRejectsReportsOfDifferentSeedsAndVersionsNamingTheFile) {
  const std::string other_seed = *dir_ + "/seed7.json";
  ASSERT_EQ(RunCli({"wpsim", "run", kQuickstarts, "--shard", "2/2", "--seed", "7", "--json", other_seed}), kExitOk);
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"wpsim", "report", "merge", *dir_ + "/a.json", other_seed}), kExitUsage);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("seed7.json has seed 7"), std::string::npos) << err;

  RunReport b = Read(*dir_ + "/b.json");
  b.run.version = "0.0.1-other";
  ASSERT_TRUE(reports::WriteTextFile(*dir_ + "/old-version.json", reports::WriteJson(b)).ok());
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"wpsim", "report", "merge", *dir_ + "/a.json", *dir_ + "/old-version.json"}), kExitUsage);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("0.0.1-other"), std::string::npos) << err;
}

TEST_F(ReportCli, CompareAgainstItselfPassesAndAgainstASlowerCopyFails) {
  const std::string all = *dir_ + "/all.json";
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all, all}), kExitOk);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("no regression"), std::string::npos) << out;
  EXPECT_NE(out.find("+0.0%"), std::string::npos) << out;

  const std::string slower = *dir_ + "/slower.json";
  ASSERT_TRUE(reports::WriteTextFile(slower, reports::WriteJson(Slower(Read(all), 1.5))).ok());
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all, slower, "--tolerance", "10"}), kExitConformanceFailure);
  out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("REGRESSION"), std::string::npos) << out;
  EXPECT_NE(out.find("+50.0%"), std::string::npos) << out;
  // Within a generous tolerance it passes; getting faster never fails.
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all, slower, "--tolerance", "60"}), kExitOk);
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", slower, all, "--tolerance", "0"}), kExitOk);
  testing::internal::GetCapturedStdout();
  // --metric picks statistics (and metrics): only p50 of ack round trips is shown.
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all, slower, "--metric", "p50,ack_rtt"}),
            kExitConformanceFailure);
  out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("ack_rtt json"), std::string::npos) << out;
  EXPECT_EQ(out.find("p99"), std::string::npos) << out;
  EXPECT_EQ(out.find("connect "), std::string::npos) << out;
}

TEST_F(ReportCli, CompareExplainsUnreadableInputsAndBadOptions) {
  const std::string all = *dir_ + "/all.json";
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", *dir_ + "/missing.json", all}), kExitUsage);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("missing.json"), std::string::npos) << err;

  ASSERT_TRUE(reports::WriteTextFile(*dir_ + "/broken.json", "{\"schema_version\": 1, \"scenarios\": 3}").ok());
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all, *dir_ + "/broken.json"}), kExitUsage);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("broken.json"), std::string::npos) << err;

  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all, all, "--metric", "p200"}), kExitUsage);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("p200"), std::string::npos) << err;
  EXPECT_EQ(RunCli({"wpsim", "report", "compare", all}), kExitUsage);
  EXPECT_EQ(RunCli({"wpsim", "report"}), kExitUsage);
}

}  // namespace
}  // namespace wpsim::app
