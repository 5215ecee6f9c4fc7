#include "reports/json_report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/reports/sample_report.h"

namespace wpsim::reports {
namespace {

using nlohmann::json;
using testing::MakeSampleReport;

TEST(JsonReport, SameInputGivesByteIdenticalOutput) {
  const std::string a = WriteJson(MakeSampleReport(42));
  const std::string b = WriteJson(MakeSampleReport(42));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, WriteJson(MakeSampleReport(43)));
}

TEST(JsonReport, WallClockFieldsLiveOnlyInTheRunObject) {
  RunReport first = MakeSampleReport(42);
  RunReport second = MakeSampleReport(42);
  second.run.start_time = "2031-01-01T00:00:00Z";
  second.run.duration_ns = 99;
  second.run.host = "another-host";
  second.run.command_line = "wpsim run --seed 42 -v";
  for (ScenarioResult& s : second.scenarios) s.wall_duration_ns += 12345;
  json a = json::parse(WriteJson(first));
  json b = json::parse(WriteJson(second));
  EXPECT_NE(a, b);
  a.erase("run");
  b.erase("run");
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(JsonReport, InjectedBugsRoundTripAndAreLeftOutWhenNone) {
  RunReport r = MakeSampleReport(7);
  EXPECT_EQ(WriteJson(r).find("injected_bugs"), std::string::npos);  // older readers unaffected
  r.scenarios[0].injected_bugs = {"drop-noecho", "fanout-skip-last"};
  Result<RunReport> back = ReadJsonReport(WriteJson(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->scenarios[0].injected_bugs, r.scenarios[0].injected_bugs);
  EXPECT_TRUE(back->scenarios[1].injected_bugs.empty());
  EXPECT_EQ(back->InjectedBugs(), (std::vector<std::string>{"drop-noecho", "fanout-skip-last"}));
}

TEST(JsonReport, ObservedOutcomeAndCensusRoundTripAndAreLeftOutWhenEmpty) {
  RunReport r = MakeSampleReport(7);
  const json plain = json::parse(WriteJson(r));
  EXPECT_FALSE(plain["scenarios"][0].contains("observed"));
  EXPECT_FALSE(plain.contains("census"));
  r.scenarios[0].observed = "sub: ack 1 ok, g:m | w: g:m";
  r.census_scenario = "race-x";
  r.census_seeds = 10;
  r.census = {CensusRow{"sub: g:m", 7, 2, false, "wpsim run x.yaml --seed 2 --perturb"},
              CensusRow{"(nothing observed)", 3, 1, true, "wpsim run x.yaml --seed 1 --perturb"}};
  Result<RunReport> back = ReadJsonReport(WriteJson(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->scenarios[0].observed, r.scenarios[0].observed);
  EXPECT_TRUE(back->scenarios[1].observed.empty());
  EXPECT_EQ(back->census_scenario, "race-x");
  EXPECT_EQ(back->census_seeds, 10u);
  ASSERT_EQ(back->census.size(), 2u);
  EXPECT_EQ(back->census[1].outcome, "(nothing observed)");
  EXPECT_EQ(back->census[1].count, 3u);
  EXPECT_EQ(back->census[1].first_seed, 1u);
  EXPECT_TRUE(back->census[1].failed);
  EXPECT_EQ(back->census[0].replay, r.census[0].replay);
  EXPECT_EQ(WriteJson(*back), WriteJson(r));
}

TEST(JsonReport, RoundTripsExactly) {
  const RunReport original = MakeSampleReport(7);
  const std::string text = WriteJson(original);
  Result<RunReport> back = ReadJsonReport(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(WriteJson(*back), text);
  ASSERT_EQ(back->scenarios.size(), original.scenarios.size());
  for (size_t i = 0; i < original.scenarios.size(); ++i) {
    const ScenarioResult& a = original.scenarios[i];
    const ScenarioResult& b = back->scenarios[i];
    EXPECT_EQ(a.wall_duration_ns, b.wall_duration_ns);
    ASSERT_EQ(a.latency.size(), b.latency.size());
    for (const auto& [key, series] : a.latency) {
      EXPECT_TRUE(b.latency.at(key).histogram == series.histogram) << key.Label();
    }
    EXPECT_EQ(a.sequence.arrows, b.sequence.arrows);
  }
}

TEST(JsonReport, HasVersionTotalsVerdictAndSortedKeys) {
  json j = json::parse(WriteJson(MakeSampleReport(42)));
  EXPECT_EQ(j["schema_version"], kSchemaVersion);
  EXPECT_EQ(j["totals"]["passed"], 1);
  EXPECT_EQ(j["totals"]["failed"], 2);
  EXPECT_EQ(j["totals"]["skipped"], 1);
  EXPECT_EQ(j["verdict"], "conformance_failure");
  EXPECT_EQ(j["seed"], "42");
  EXPECT_EQ(j["clock"], "virtual");
  // Keys come out sorted at every level, so diffs between reports are stable.
  const std::string text = WriteJson(MakeSampleReport(42));
  EXPECT_LT(text.find("\"clock\""), text.find("\"run\""));
  EXPECT_LT(text.find("\"run\""), text.find("\"scenarios\""));
  const json& h = j["scenarios"][0]["latency"][0]["histogram"];
  EXPECT_EQ(h["count"], 60);
  EXPECT_TRUE(h["percentiles_ns"].contains("p99.9"));
  EXPECT_TRUE(j["scenarios"][1]["sequence_diagram"].is_object());
  EXPECT_TRUE(j["scenarios"][0]["sequence_diagram"].is_null());
}

TEST(JsonReport, KeepsHistogramBucketsOnOneLine) {
  const std::string text = WriteJson(MakeSampleReport(42));
  const size_t at = text.find("\"buckets\": [[");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(text.find("]]", at), text.find('\n', at));
}

TEST(JsonReport, EscapesControlCharactersAndReplacesInvalidUtf8) {
  RunReport r;
  ScenarioResult& s = r.AddScenario("a.yaml", std::string("bell\x07 tab\t nul") + '\0' + "end");
  s.AddFailure({"bad byte \xff here", "", "", "", std::nullopt});
  const std::string text = WriteJson(r);
  EXPECT_NE(text.find("bell\\u0007 tab\\t nul\\u0000end"), std::string::npos);
  EXPECT_NE(text.find("bad byte \xEF\xBF\xBD here"), std::string::npos);
  Result<RunReport> back = ReadJsonReport(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->scenarios[0].name, s.name);
}

void ExpectReadError(const std::string& text, const std::string& needle) {
  Result<RunReport> r = ReadJsonReport(text);
  ASSERT_FALSE(r.ok()) << "accepted: " << needle;
  EXPECT_EQ(r.error().code, "bad_report");
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(JsonReport, ExplainsWhereAReportIsBroken) {
  const json good = json::parse(WriteJson(MakeSampleReport(42)));
  ExpectReadError("{\"schema_version\": 1,", "not valid JSON");
  ExpectReadError("[1, 2]", "expected a JSON object");
  json j = good;
  j["schema_version"] = 99;
  ExpectReadError(j.dump(), "schema_version: unsupported version 99");
  j = good;
  j["scenarios"][2].erase("status");
  ExpectReadError(j.dump(), "scenarios[2].status: missing");
  j = good;
  j["scenarios"][1]["status"] = "flaky";
  ExpectReadError(j.dump(), "scenarios[1].status: unknown value \"flaky\"");
  j = good;
  j["scenarios"][0]["latency"][0]["histogram"]["buckets"][1] = json::array({1});
  ExpectReadError(j.dump(), "scenarios[0].latency[0].histogram.buckets[1]: expected [value_ns, count]");
  j = good;
  j["scenarios"][0]["latency"][0]["histogram"]["count"] = 1;
  ExpectReadError(j.dump(), "scenarios[0].latency[0].histogram.count: does not equal");
  j = good;
  j["seed"] = 42;
  ExpectReadError(j.dump(), "seed: expected a string");
  j = good;
  j["trace_hash"] = "xyz";
  ExpectReadError(j.dump(), "trace_hash: expected 16 hex digits");
  j = good;
  j["totals"]["passed"] = 5;
  ExpectReadError(j.dump(), "totals: do not match");
  j = good;
  j["run"]["scenario_wall_durations_ns"].erase(0);
  ExpectReadError(j.dump(), "run.scenario_wall_durations_ns: has 3 entries for 4 scenarios");
  j = good;
  j["scenarios"][3]["counters"]["errors"] = -1;
  ExpectReadError(j.dump(), "scenarios[3].counters.errors: expected a non-negative integer");
}

TEST(JsonReport, ReadingAMissingFileNamesThePath) {
  Result<RunReport> r = ReadJsonReportFile("/nonexistent/dir/report.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/dir/report.json"), std::string::npos);
}

TEST(JsonReport, WritesAndReadsFiles) {
  const std::string dir = std::string(WPSIM_BINARY_DIR) + "/tests/reports/tmp-json";
  const std::string path = dir + "/sub/report.json";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteTextFile(path, WriteJson(MakeSampleReport(42))).ok());
  Result<RunReport> r = ReadJsonReportFile(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->scenarios.size(), 4u);
  std::filesystem::remove_all(dir);
}

TEST(JsonReport, PercentileNamesAreShortest) {
  EXPECT_EQ(PercentileName(50), "p50");
  EXPECT_EQ(PercentileName(99.9), "p99.9");
  EXPECT_EQ(PercentileName(99.99), "p99.99");
}

}  // namespace
}  // namespace wpsim::reports

namespace wpsim::reports {
namespace {

// Found by fuzz_report_json: a number too large for a double makes nlohmann throw out_of_range
// (not parse_error) while the reader looks for the error position; it must be an error value.
TEST(JsonReport, ANumberOutOfRangeIsAnErrorNotAnException) {
  Result<RunReport> r = ReadJsonReport("{\"schema_version\": 1e999}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace wpsim::reports
