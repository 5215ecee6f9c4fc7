// The step registry (conformance/shape/steps.h): every StepKind has exactly one shape, under
// the YAML key the model names it by, and every protocol name it lists leads back to it.
#include <gtest/gtest.h>

#include <set>
#include <string>

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
