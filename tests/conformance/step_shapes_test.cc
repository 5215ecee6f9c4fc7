// The step registry (conformance/driver_registry.cc, conformance/shape/steps.h): every StepKind
// is registered once by its family's AddStep line, with its YAML key (StepKindName is derived from
// it), its shape and how it runs, and every protocol name it lists leads back to it.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conformance/driver.h"
#include "conformance/shape/steps.h"

namespace wpsim::conformance::shape {
namespace {

TEST(StepShapes, EveryStepKindIsRegisteredOnceInKindOrderUnderItsModelName) {
  const std::vector<StepShape>& all = AllSteps();
  ASSERT_EQ(all.size(), static_cast<size_t>(kStepKindCount));
  for (int i = 0; i < kStepKindCount; ++i) {
    const StepKind kind = static_cast<StepKind>(i);
    EXPECT_EQ(all[i].kind, kind) << all[i].name;
    EXPECT_EQ(all[i].name, StepKindName(kind));
    EXPECT_EQ(FindStep(StepKindName(kind)), &all[i]);
    EXPECT_FALSE(all[i].doc.empty()) << all[i].name << " has no doc string";
  }
}

TEST(StepRegistry, EveryStepKindIsRegisteredOnceByItsFamilyWithANameAndAReader) {
  const auto& steps = Families().steps;
  ASSERT_EQ(steps.size(), static_cast<size_t>(kStepKindCount));
  std::set<std::string_view> names;
  for (const auto& [kind, entry] : steps) {
    EXPECT_EQ(entry.shape.kind, kind) << entry.shape.name;
    EXPECT_EQ(StepKindName(kind), entry.shape.name);
    EXPECT_NE(entry.shape.read, nullptr) << entry.shape.name;
    EXPECT_TRUE(names.insert(entry.shape.name).second) << entry.shape.name << " registered twice";
  }
}

TEST(StepRegistry, OnlyTheFlowStepsTheDriverRunsItselfHaveNoIssueFunction) {
  std::set<std::string_view> driver_run;
  for (const auto& [kind, entry] : Families().steps) {
    if (entry.issue == nullptr) driver_run.insert(entry.shape.name);
  }
  EXPECT_EQ(driver_run, (std::set<std::string_view>{"barrier", "parallel", "repeat", "wait"}));
}

TEST(StepShapes, EveryListedProtocolNameSuggestsItsOwnStep) {
  for (const StepShape& s : AllSteps()) {
    for (std::string_view p : s.protocol_names) EXPECT_EQ(StepForProtocolName(p), s.name) << p;
  }
  EXPECT_EQ(StepForProtocolName("teleport"), "");
}

TEST(StepShapes, EveryDocumentedKeyOfAStepIsUniqueWithinIt) {
  for (const StepShape& s : AllSteps()) {
    std::set<std::string> seen;
    for (const FieldDoc& f : s.fields)
      EXPECT_TRUE(seen.insert(f.key).second) << s.name << "." << f.key;
  }
}

}  // namespace
}  // namespace wpsim::conformance::shape
