// `wpsim explore` (conformance/explore.h): a genuinely racy scenario is found under perturbation
// and shrunk to the race itself, an always-passing one is left alone, an injected service bug in
// a shipped scenario is found and shrunk, the written minimal scenario reproduces with the
// printed command's settings, and the same arguments always give the same result.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/explore.h"
#include "conformance/loader.h"
#include "conformance/runner.h"
#include "conformance/suite.h"
#include "reports/model.h"
#include "service/options.h"

namespace wpsim::conformance {
namespace {

const std::string kData = std::string(WPSIM_SOURCE_DIR) + "/tests/data/explore";
const std::string kRacy = kData + "/racy-two-publishers.yaml";
const std::string kCalm = kData + "/always-passes.yaml";
const std::string kAckScenario = std::string(WPSIM_SOURCE_DIR) + "/scenarios/acks/ack-after-fanout-and-no-echo.yaml";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempPath(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "wpsim-explore-test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

ExploreOptions SmallRun(uint64_t seeds) {
  ExploreOptions o;
  o.seeds = seeds;
  o.shrink_budget = 300;
  o.check_seeds = 5;
  return o;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(ExploreSignature, IgnoresSourcePositionsAndNumbersButKeepsCaseIds) {
  reports::ScenarioResult a;
  a.AddFailure({"receive at x.yaml:39:5: sub did not receive the messages in order (1 of 2 matched)", "", "", "C-1", {}});
  reports::ScenarioResult b;
  b.AddFailure({"receive at y.yaml:7:3: sub did not receive the messages in order (0 of 2 matched)", "", "", "C-1", {}});
  reports::ScenarioResult c;
  c.AddFailure({"receive at x.yaml:39:5: sub did not receive the messages in order (1 of 2 matched)", "", "", "C-2", {}});
  EXPECT_EQ(FailureSignature(a), FailureSignature(b));
  EXPECT_NE(FailureSignature(a), FailureSignature(c));
  EXPECT_EQ(FailureSignature(a), "[C-1] receive: sub did not receive the messages in order (# of # matched)");
  reports::ScenarioResult pass;
  EXPECT_EQ(FailureSignature(pass), "");
}

TEST(ExploreRacyScenario, PassesEverySeedWithoutPerturbation) {
  // The race is real only under perturbation: equal-time events otherwise run first-in first-out.
  ExploreOptions o = SmallRun(20);
  o.perturb = false;
  o.stop_after = 0;
  Result<ExploreResult> r = ExploreSeeds(ReadFile(kRacy), kRacy, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().seeds_run, 20u);
  EXPECT_EQ(r.value().seeds_failed, 0u);
}

TEST(ExploreRacyScenario, FindsAFailingSeedAndShrinksItToTheRaceItself) {
  ExploreOptions o = SmallRun(20);
  Result<ExploreResult> r = Explore(ReadFile(kRacy), kRacy, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ExploreResult& res = r.value();
  ASSERT_EQ(res.failures.size(), 1u);
  const FoundFailure& f = res.failures[0];
  EXPECT_NE(f.signature.find("[EXPLORE-RACE]"), std::string::npos) << f.signature;
  ASSERT_FALSE(f.seeds.empty());
  EXPECT_EQ(res.report.scenarios.size(), res.seeds_failed);
  EXPECT_FALSE(res.report.scenarios[0].sequence.empty());  // the runner's diagram of the failing run
  ASSERT_TRUE(f.shrunk.has_value());
  const ShrinkResult& s = *f.shrunk;
  ASSERT_TRUE(s.reproduced);
  EXPECT_TRUE(s.control_required);
  EXPECT_LT(s.after.steps, s.before.steps);
  EXPECT_LT(s.after.clients, s.before.clients);
  EXPECT_LT(s.after.members, s.before.members);
  EXPECT_LT(s.after.expectations, s.before.expectations);
  EXPECT_FALSE(s.steps.empty());
  EXPECT_LE(s.runs, o.shrink_budget);
  // The padding is gone, the two racing publishers are left.
  EXPECT_EQ(s.yaml.find("carol"), std::string::npos) << s.yaml;
  EXPECT_EQ(s.yaml.find("watchers"), std::string::npos) << s.yaml;
  EXPECT_EQ(s.yaml.find("network"), std::string::npos) << s.yaml;
  EXPECT_EQ(Count(s.yaml, "send_to_group"), 2u) << s.yaml;
  // The minimal scenario needs the perturbation: it passes without it at the failing seed.
  EXPECT_FALSE(f.fails_without_perturbation);
  EXPECT_GT(f.check_seeds_failed, 0u);
  EXPECT_EQ(f.check_seeds_run, 5u);
}

TEST(ExploreRacyScenario, WrittenMinimalScenarioReproducesWithThePrintedCommand) {
  ExploreOptions o = SmallRun(20);
  Result<ExploreResult> r = Explore(ReadFile(kRacy), kRacy, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().failures.size(), 1u);
  const FoundFailure& f = r.value().failures[0];
  ASSERT_TRUE(f.shrunk && f.shrunk->reproduced);
  const std::string path = TempPath("racy-min.yaml");
  WriteFile(path, "# header comment as wpsim explore writes it\n" + f.shrunk->yaml);
  const uint64_t seed = f.seeds.front();
  EXPECT_EQ(ReproduceArgv(path, seed, o),
            (std::vector<std::string>{"wpsim", "run", path, "--seed", std::to_string(seed), "--perturb"}));
  reports::ScenarioResult rerun;
  EXPECT_TRUE(Reproduces(path, seed, f.signature, o, rerun)) << FailureSignature(rerun);
  EXPECT_EQ(rerun.status, reports::Outcome::kFail);
  EXPECT_EQ(rerun.name, "explore-racy-two-publishers");
  EXPECT_EQ(rerun.seed, seed);
  // What `wpsim run PATH --seed S` (no --perturb) does instead: the race does not happen.
  LoadResult loaded = LoadScenarioPath(path);
  ASSERT_TRUE(loaded.ok());
  RunnerOptions plain;
  plain.seed = seed;
  reports::ScenarioResult calm;
  RunScenario(*loaded.scenario, plain, calm);
  EXPECT_EQ(calm.status, reports::Outcome::kPass);
}

TEST(ExploreRacyScenario, StopsAfterTheRequestedNumberOfDistinctFailures) {
  ExploreOptions o = SmallRun(50);
  o.shrink = false;
  o.stop_after = 1;
  Result<ExploreResult> stopped = Explore(ReadFile(kRacy), kRacy, o);
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(stopped.value().stopped_early);
  EXPECT_LT(stopped.value().seeds_run, 50u);
  EXPECT_FALSE(stopped.value().failures[0].shrunk.has_value());
  o.stop_after = 0;
  Result<ExploreResult> all = Explore(ReadFile(kRacy), kRacy, o);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all.value().stopped_early);
  EXPECT_EQ(all.value().seeds_run, 50u);
  EXPECT_GT(all.value().seeds_failed, 1u);
  EXPECT_LT(all.value().seeds_failed, 50u);  // a race: some interleavings pass
  EXPECT_EQ(all.value().failures[0].seeds.size(), all.value().seeds_failed);
}

TEST(ExploreDeterminism, SameArgumentsGiveTheSameSeedsAndTheSameMinimalScenario) {
  ExploreOptions o = SmallRun(30);
  o.stop_after = 0;
  Result<ExploreResult> a = Explore(ReadFile(kRacy), kRacy, o);
  Result<ExploreResult> b = Explore(ReadFile(kRacy), kRacy, o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a.value().failures.size(), b.value().failures.size());
  ASSERT_FALSE(a.value().failures.empty());
  EXPECT_EQ(a.value().seeds_failed, b.value().seeds_failed);
  EXPECT_EQ(a.value().report.trace_hash, b.value().report.trace_hash);
  for (size_t i = 0; i < a.value().failures.size(); ++i) {
    const FoundFailure& fa = a.value().failures[i];
    const FoundFailure& fb = b.value().failures[i];
    EXPECT_EQ(fa.signature, fb.signature);
    EXPECT_EQ(fa.seeds, fb.seeds);
    ASSERT_TRUE(fa.shrunk && fb.shrunk);
    EXPECT_EQ(fa.shrunk->yaml, fb.shrunk->yaml);
    EXPECT_EQ(fa.shrunk->runs, fb.shrunk->runs);
    EXPECT_EQ(fa.check_seeds_failed, fb.check_seeds_failed);
  }
  // A different seed range finds different failing seeds (the seed matters).
  ExploreOptions later = o;
  later.start_seed = 1000;
  Result<ExploreResult> c = ExploreSeeds(ReadFile(kRacy), kRacy, later);
  ASSERT_TRUE(c.ok());
  ASSERT_FALSE(c.value().failures.empty());
  EXPECT_NE(c.value().failures[0].seeds, a.value().failures[0].seeds);
}

TEST(ExploreCalmScenario, FindsNothingAndShrinksNothing) {
  ExploreOptions o = SmallRun(30);
  Result<ExploreResult> r = Explore(ReadFile(kCalm), kCalm, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().seeds_run, 30u);
  EXPECT_EQ(r.value().seeds_failed, 0u);
  EXPECT_TRUE(r.value().failures.empty());
  EXPECT_TRUE(r.value().report.scenarios.empty());
  EXPECT_FALSE(r.value().stopped_early);
}

TEST(ExploreInjectedBug, FindsAndShrinksAckBeforeApplyInAShippedScenario) {
  const std::string text = ReadFile(kAckScenario);
  ExploreOptions clean = SmallRun(10);
  clean.stop_after = 0;
  clean.shrink = false;
  Result<ExploreResult> without = Explore(text, kAckScenario, clean);
  ASSERT_TRUE(without.ok()) << without.error().message;
  EXPECT_EQ(without.value().seeds_failed, 0u);  // the shipped scenario passes under perturbation

  ExploreOptions o = SmallRun(10);
  o.extra_bugs = {service::Bug::kAckBeforeApply};
  Result<ExploreResult> r = Explore(text, kAckScenario, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().failures.size(), 1u);
  const FoundFailure& f = r.value().failures[0];
  EXPECT_NE(f.signature.find("[ACK-001]"), std::string::npos) << f.signature;
  ASSERT_TRUE(f.shrunk && f.shrunk->reproduced);
  EXPECT_TRUE(f.shrunk->control_required);  // it passes without the bug, so must the shrunk one
  EXPECT_LT(f.shrunk->after.clients, f.shrunk->before.clients);
  EXPECT_LT(f.shrunk->after.expectations, f.shrunk->before.expectations);
  LoadResult min = LoadScenarioText(f.shrunk->yaml, "min.yaml");
  ASSERT_TRUE(min.ok());
  EXPECT_FALSE(min.scenario->FindClient("sub").has_value()) << f.shrunk->yaml;
  EXPECT_TRUE(min.scenario->FindClient("pub").has_value()) << f.shrunk->yaml;
  const std::string path = TempPath("ack-min.yaml");
  WriteFile(path, f.shrunk->yaml);
  const uint64_t seed = f.seeds.front();
  EXPECT_EQ(ReproduceArgv(path, seed, o),
            (std::vector<std::string>{"wpsim", "run", path, "--seed", std::to_string(seed), "--perturb",
                                      "--inject-bug", "ack-before-apply"}));
  reports::ScenarioResult rerun;
  EXPECT_TRUE(Reproduces(path, seed, f.signature, o, rerun)) << FailureSignature(rerun);
}

TEST(ExploreErrors, AScenarioThatDoesNotLoadIsAnErrorWithDiagnostics) {
  Result<ExploreResult> r = Explore("name: x\nsteps: []\n", "broken.yaml", SmallRun(3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "scenario");
  EXPECT_NE(r.error().message.find("broken.yaml:"), std::string::npos) << r.error().message;
}

TEST(ExploreErrors, AScenarioTheSimTargetSkipsIsAnErrorNotAPass) {
  std::string text = ReadFile(kCalm);
  text.replace(text.find("hub: calm"), 9, "hub: calm\ntargets: [remote]");
  Result<ExploreResult> r = Explore(text, kCalm, SmallRun(3));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot run on the sim target"), std::string::npos) << r.error().message;
}

TEST(ExploreShrink, KeepsQuotedScalarsStringsWhenReEmitting) {
  // data: "5" is the string 5, not the number; the re-emitted candidates must keep it so,
  // otherwise the original would not even reproduce after re-emission.
  std::string text = ReadFile(kRacy);
  const std::string from = "data: from-bob";
  text.replace(text.find(from), from.size(), "data: \"5\"");
  const std::string in_order = "{type: message, data: from-bob}";
  text.replace(text.find(in_order), in_order.size(), "{type: message, data: \"5\"}");
  ExploreOptions o = SmallRun(20);
  Result<ExploreResult> r = Explore(text, kRacy, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().failures.size(), 1u);
  ASSERT_TRUE(r.value().failures[0].shrunk.has_value());
  EXPECT_TRUE(r.value().failures[0].shrunk->reproduced);
  EXPECT_NE(r.value().failures[0].shrunk->yaml.find("\"5\""), std::string::npos) << r.value().failures[0].shrunk->yaml;
}

TEST(ExploreShrink, ReEmittedShippedScenariosRunExactlyLikeTheOriginals) {
  // Every shrink candidate is re-emitted YAML: if re-emission changed a scenario's meaning, the
  // shrinker would report a "minimal" scenario that tests something else.
  Suite suite = LoadSuite({std::string(WPSIM_SOURCE_DIR) + "/scenarios"});
  ASSERT_TRUE(suite.ok());
  ASSERT_GT(suite.scenarios.size(), 10u);
  for (const Scenario& original : suite.scenarios) {
    if (original.HasTag("load")) continue;  // long; nothing it uses is special to emission
    Result<std::string> text = CanonicalYaml(ReadFile(original.file));
    ASSERT_TRUE(text.ok()) << original.file;
    LoadResult again = LoadScenarioText(text.value(), original.file);
    ASSERT_TRUE(again.ok()) << original.file << "\n" << FormatDiagnostics(again.diagnostics) << text.value();
    RunnerOptions o;
    o.seed = 7;
    o.perturb = true;
    reports::ScenarioResult a;
    reports::ScenarioResult b;
    RunScenario(original, o, a);
    RunScenario(*again.scenario, o, b);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << original.file;
    EXPECT_EQ(a.status, b.status) << original.file;
    EXPECT_EQ(MeasureScenario(original), MeasureScenario(*again.scenario)) << original.file;
  }
}

}  // namespace
}  // namespace wpsim::conformance

namespace wpsim::conformance {
namespace {

TEST(ExploreSpeed, RunsWithoutLatencyHistogramsKeepTheirVerdictAndTraceHash) {
  LoadResult loaded = LoadScenarioPath(kRacy);
  ASSERT_TRUE(loaded.ok()) << FormatDiagnostics(loaded.diagnostics);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    RunnerOptions with;
    with.seed = seed;
    with.perturb = true;
    RunnerOptions without = with;
    without.record_latency = false;
    reports::ScenarioResult a;
    reports::ScenarioResult b;
    RunScenario(*loaded.scenario, with, a);
    RunScenario(*loaded.scenario, without, b);
    EXPECT_FALSE(a.latency.empty());
    EXPECT_TRUE(b.latency.empty());
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(FailureSignature(a), FailureSignature(b)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace wpsim::conformance
