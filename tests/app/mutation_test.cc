// `wpsim run --mutation` (app/mutation.h): a bug's suite runs in a child process, so a crashing
// bug is reported and the table goes on; only a failing scenario kills a bug.
#include "app/mutation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <vector>

namespace wpsim::app {
namespace {

using reports::Outcome;

TEST(MutationChild, ReturnsWhatTheChildEmittedWhenItFinishes) {
  const ChildResult r = RunInChild([](const auto& emit) {
    emit("01");
    emit("3");
  });
  EXPECT_FALSE(r.crashed);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.output, "013");
}

TEST(MutationChild, ParentSurvivesAChildThatAbortsAndKeepsItsOutputUpToTheCrash) {
  const ChildResult r = RunInChild([](const auto& emit) {
    emit("00");
    std::abort();  // what a WPSIM_ASSERT reached by an injected bug does
  });
  EXPECT_TRUE(r.crashed);
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_EQ(r.output, "00");
}

TEST(MutationChild, ANonZeroExitIsACrashWithItsStatus) {
  const ChildResult r = RunInChild([](const auto&) { _exit(7); });
  EXPECT_TRUE(r.crashed);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 7);
}

TEST(MutationVerdicts, AFailingScenarioKills) {
  const std::vector<Outcome> base = {Outcome::kPass, Outcome::kPass};
  const std::vector<Outcome> now = {Outcome::kPass, Outcome::kFail};
  const MutationOutcome m = JudgeMutation(base, now, false);
  EXPECT_EQ(m.verdict, MutationVerdict::kKilled);
  EXPECT_EQ(m.killers, std::vector<size_t>{1});
}

TEST(MutationVerdicts, AnErroringScenarioDoesNotKill) {
  const std::vector<Outcome> base = {Outcome::kPass, Outcome::kPass};
  const std::vector<Outcome> now = {Outcome::kError, Outcome::kPass};
  const MutationOutcome m = JudgeMutation(base, now, false);
  EXPECT_EQ(m.verdict, MutationVerdict::kErrored);
  EXPECT_TRUE(m.killers.empty());
  EXPECT_EQ(m.errored, std::vector<size_t>{0});
}

TEST(MutationVerdicts, ACrashIsNotAKillUnlessAScenarioFailedBeforeIt) {
  const std::vector<Outcome> base = {Outcome::kPass, Outcome::kPass, Outcome::kPass};
  EXPECT_EQ(JudgeMutation(base, std::vector<Outcome>{Outcome::kPass}, true).verdict,
            MutationVerdict::kCrashed);
  EXPECT_EQ(JudgeMutation(base, std::vector<Outcome>{Outcome::kError}, true).verdict,
            MutationVerdict::kCrashed);
  EXPECT_EQ(JudgeMutation(base, std::vector<Outcome>{Outcome::kFail}, true).verdict,
            MutationVerdict::kKilled);
}

TEST(MutationVerdicts, ScenariosFailingWithoutTheBugNeitherKillNorError) {
  const std::vector<Outcome> base = {Outcome::kFail, Outcome::kError, Outcome::kSkip};
  const std::vector<Outcome> now = {Outcome::kFail, Outcome::kError, Outcome::kSkip};
  EXPECT_EQ(JudgeMutation(base, now, false).verdict, MutationVerdict::kSurvived);
}

}  // namespace
}  // namespace wpsim::app
