// The suite has teeth: for every injectable bug of the reference service, at least one
// scenario that passes on the correct service fails with the bug switched on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conformance/runner.h"
#include "conformance/suite.h"
#include "reports/model.h"
#include "service/options.h"

namespace wpsim::conformance {
namespace {

const std::string kScenarios = std::string(WPSIM_SOURCE_DIR) + "/scenarios";

std::vector<reports::Outcome> Outcomes(const Suite& suite, const RunnerOptions& options) {
  reports::RunReport report;
  std::vector<reports::Outcome> out;
  for (const Scenario& s : suite.scenarios) {
    if (s.HasTag("load")) {  // the 1000-subscriber fan-out adds nothing here but time
      out.push_back(reports::Outcome::kSkip);
      continue;
    }
    reports::ScenarioResult& r = report.AddScenario(s.file, s.name);
    RunScenario(s, options, r);
    out.push_back(r.status);
  }
  return out;
}

TEST(RunnerMutation, EveryInjectedServiceBugIsKilledBySomeScenario) {
  Suite suite = LoadSuite({kScenarios});
  ASSERT_TRUE(suite.ok());
  const std::vector<reports::Outcome> clean = Outcomes(suite, RunnerOptions{});
  for (const auto& [bug, description] : service::AllBugs()) {
    RunnerOptions options;
    options.extra_bugs = {bug};
    const std::vector<reports::Outcome> mutated = Outcomes(suite, options);
    bool killed = false;
    for (size_t i = 0; i < clean.size(); ++i) {
      if (clean[i] == reports::Outcome::kPass && mutated[i] != reports::Outcome::kPass &&
          mutated[i] != reports::Outcome::kSkip) {
        killed = true;
      }
    }
    EXPECT_TRUE(killed) << "bug " << service::BugName(bug) << " survives: " << description;
  }
}

}  // namespace
}  // namespace wpsim::conformance
