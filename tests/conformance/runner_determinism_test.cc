// The runner on the sim target: every shipped scenario gives the same trace hash when rerun
// with the same seed (DESIGN.md §4.5), the quickstarts pass, and a deliberately broken
// expectation fails with expected-vs-actual text and a reproduce command.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "conformance/loader.h"
#include "conformance/runner.h"
#include "conformance/suite.h"
#include "reports/model.h"

namespace wpsim::conformance {
namespace {

const std::string kScenarios = std::string(WPSIM_SOURCE_DIR) + "/scenarios";

std::map<std::string, reports::ScenarioResult> RunSuite(const RunnerOptions& options) {
  Suite suite = LoadSuite({kScenarios});
  EXPECT_TRUE(suite.ok()) << FormatDiagnostics(suite.diagnostics);
  reports::RunReport report;
  std::map<std::string, reports::ScenarioResult> out;
  for (const Scenario& s : suite.scenarios) {
    reports::ScenarioResult& r = report.AddScenario(s.file, s.name);
    RunScenario(s, options, r);
    out[s.name] = r;
  }
  return out;
}

TEST(RunnerDeterminism, EveryScenarioGivesTheSameTraceHashOnRerunWithTheSameSeed) {
  RunnerOptions options;
  auto first = RunSuite(options);
  auto second = RunSuite(options);
  ASSERT_EQ(first.size(), second.size());
  size_t ran = 0;
  for (const auto& [name, r] : first) {
    const reports::ScenarioResult& again = second.at(name);
    EXPECT_EQ(r.status, again.status) << name;
    if (r.status == reports::Outcome::kSkip) continue;
    ++ran;
    EXPECT_NE(r.trace_hash, 0u) << name;
    EXPECT_EQ(r.trace_hash, again.trace_hash) << name;
    EXPECT_EQ(r.duration_ns, again.duration_ns) << name;
  }
  EXPECT_GE(ran, 10u);
}

TEST(RunnerDeterminism, PerturbedRunsWithDifferentSeedsGiveDifferentTraces) {
  Suite suite = LoadSuite({kScenarios + "/faults"});
  ASSERT_TRUE(suite.ok());
  ASSERT_FALSE(suite.scenarios.empty());
  const Scenario& s = suite.scenarios.front();
  reports::RunReport report;
  RunnerOptions a;
  a.seed = 1;
  RunnerOptions b;
  b.seed = 2;
  reports::ScenarioResult& ra = report.AddScenario(s.file, s.name);
  RunScenario(s, a, ra);
  const uint64_t ha = ra.trace_hash;
  reports::ScenarioResult& rb = report.AddScenario(s.file, s.name);
  RunScenario(s, b, rb);
  EXPECT_NE(ha, rb.trace_hash);
}

TEST(RunnerQuickstarts, EveryRunnableQuickstartPassesOnTheSimTarget) {
  Suite suite = LoadSuite({kScenarios + "/quickstarts"});
  ASSERT_TRUE(suite.ok());
  reports::RunReport report;
  size_t passed = 0;
  for (const Scenario& s : suite.scenarios) {
    reports::ScenarioResult& r = report.AddScenario(s.file, s.name);
    RunScenario(s, RunnerOptions{}, r);
    if (r.status == reports::Outcome::kSkip) continue;
    EXPECT_EQ(r.status, reports::Outcome::kPass)
        << s.name << ": " << (r.failures.empty() ? r.skip_reason : r.failures[0].message);
    passed += r.status == reports::Outcome::kPass ? 1 : 0;
  }
  EXPECT_GE(passed, 8u);
}

TEST(RunnerFailures, AWrongExpectationFailsWithExpectedActualAndReproduceCommand) {
  const char* yaml = R"(name: deliberately-wrong
source: {seed: "003", section: Connect PubSub WebSocket client to Azure Web PubSub}
description: the subscriber is told to expect a message nobody sends
hub: chat
clients:
  sub: {kind: json, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: sub
  - join: {client: sub, group: g, ack: 1, expect_ack: success}
expect:
  - receive: {client: sub, type: message, group: g, data: never-sent}
    case: WRONG-001
)";
  LoadResult loaded = LoadScenarioText(yaml, "inline.yaml");
  ASSERT_TRUE(loaded.ok()) << FormatDiagnostics(loaded.diagnostics);
  reports::RunReport report;
  reports::ScenarioResult& r = report.AddScenario("inline.yaml", loaded.scenario->name);
  RunScenario(*loaded.scenario, RunnerOptions{}, r);
  EXPECT_EQ(r.status, reports::Outcome::kFail);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_NE(r.failures[0].expected.find("never-sent"), std::string::npos) << r.failures[0].expected;
  EXPECT_EQ(r.failures[0].case_id, "WRONG-001");
  EXPECT_NE(r.reproduce.find("--seed 1"), std::string::npos) << r.reproduce;
  EXPECT_FALSE(r.sequence.arrows.empty());
}

}  // namespace
}  // namespace wpsim::conformance
