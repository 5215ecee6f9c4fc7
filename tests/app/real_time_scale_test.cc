// WPSIM_REAL_TIME_SCALE (docs/cli.md): on real targets it multiplies latency thresholds and
// `within:` windows and every report says so; the sim target ignores it; a bad value is a usage
// error naming the variable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/cli.h"
#include "app/common.h"
#include "reports/json_report.h"

namespace wpsim::app {
namespace {

const std::string kScenario =
    std::string(WPSIM_SOURCE_DIR) + "/scenarios/quickstarts/004-websocket-subscribers-send-to-all.yaml";

class RealTimeScale : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/wpsim-scale-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    report_ = dir_ + "/run.json";
  }
  void TearDown() override {
    unsetenv("WPSIM_REAL_TIME_SCALE");
    std::remove(report_.c_str());
    rmdir(dir_.c_str());
  }
  // The expression of the scenario's one threshold in the JSON report of a run on `target`.
  std::string ThresholdExpression(const std::string& target) {
    // Not the exit code: an unscaled 100 ms limit may fail on a loaded machine.
    EXPECT_NE(RunCli({"wpsim", "run", "--target", target, kScenario, "--json", report_}),
              kExitUsage);
    Result<reports::RunReport> report = reports::ReadJsonReportFile(report_);
    EXPECT_TRUE(report.ok());
    if (!report.ok() || report->scenarios.size() != 1 || report->scenarios[0].thresholds.size() != 1) {
      return "";
    }
    return report->scenarios[0].thresholds[0].expression;
  }
  std::string dir_;
  std::string report_;
};

TEST_F(RealTimeScale, MultipliesLatencyThresholdsOnRealTargetsAndSaysSo) {
  setenv("WPSIM_REAL_TIME_SCALE", "10", 1);
  EXPECT_EQ(ThresholdExpression("local"), "p99 < 100ms (limit x10 by WPSIM_REAL_TIME_SCALE)");
}

TEST_F(RealTimeScale, SimTargetAndUnsetLeaveLimitsAsWritten) {
  EXPECT_EQ(ThresholdExpression("local"), "p99 < 100ms");
  setenv("WPSIM_REAL_TIME_SCALE", "10", 1);
  EXPECT_EQ(ThresholdExpression("sim"), "p99 < 100ms");
}

TEST_F(RealTimeScale, BadValueIsAUsageError) {
  for (const char* bad : {"0.5", "fast", "1000", "2x"}) {
    setenv("WPSIM_REAL_TIME_SCALE", bad, 1);
    EXPECT_EQ(RunCli({"wpsim", "run", "--target", "local", kScenario}), kExitUsage) << bad;
  }
}

}  // namespace
}  // namespace wpsim::app
