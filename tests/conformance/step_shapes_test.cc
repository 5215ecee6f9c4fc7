// The step registry (conformance/driver_registry.cc, conformance/shape/steps.h): every step type
// is registered once by its family's AddStep line, with its YAML key (StepKindName is derived from
// it), its shape and how it runs, and every protocol name it lists leads back to it.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conformance/driver.h"
#include "conformance/shape/steps.h"

namespace wpsim::conformance::shape {
namespace {

TEST(StepShapes, EveryStepKindIsRegisteredOnceInRegistrationOrderUnderItsModelName) {
  const std::vector<StepShape>& all = AllSteps();
  const auto& steps = Families().steps;
  ASSERT_EQ(all.size(), steps.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].kind, steps[i].shape.kind) << all[i].name;
    EXPECT_EQ(all[i].name, StepKindName(all[i].kind));
    EXPECT_EQ(FindStep(all[i].name), &all[i]);
    EXPECT_FALSE(all[i].doc.empty()) << all[i].name << " has no doc string";
  }
}

TEST(StepRegistry, EveryStepTypeIsRegisteredOnceByItsFamilyWithANameAndAReader) {
  const FamilyRegistry& families = Families();
  ASSERT_GE(families.steps.size(), 32u);
  std::set<std::string_view> names;
  std::set<StepKind> kinds;
  for (const auto& entry : families.steps) {
    ASSERT_NE(entry.shape.kind, nullptr) << entry.shape.name;
    EXPECT_EQ(families.Find(entry.shape.kind), &entry) << entry.shape.name;
    EXPECT_EQ(StepKindName(entry.shape.kind), entry.shape.name);
    EXPECT_NE(entry.shape.read, nullptr) << entry.shape.name;
    EXPECT_TRUE(names.insert(entry.shape.name).second) << entry.shape.name << " registered twice";
    EXPECT_TRUE(kinds.insert(entry.shape.kind).second)
        << entry.shape.name << ": type registered twice";
  }
  EXPECT_EQ(families.Find(StepKindOf<int>()), nullptr);
  EXPECT_EQ(StepKindName(StepKindOf<int>()), "?");
  EXPECT_EQ(Families().Find(StepKindOf<JoinStep>())->shape.name, "join");
}

TEST(StepArgs, HoldsAStepByValueAndCopiesIt) {
  Step s;
  EXPECT_EQ(s.kind(), nullptr);
  EXPECT_EQ(s.Clients(), nullptr);
  JoinStep join;
  join.group = "g";
  join.clients.text = "a";
  s.args = join;
  EXPECT_TRUE(s.Is<JoinStep>());
  EXPECT_FALSE(s.Is<LeaveStep>());
  EXPECT_EQ(s.kind(), StepKindOf<JoinStep>());
  ASSERT_NE(s.Clients(), nullptr);
  EXPECT_EQ(s.Clients()->text, "a");
  Step copy = s;
  copy.args.As<JoinStep>().group = "h";
  EXPECT_EQ(s.As<JoinStep>().group, "g");
  EXPECT_EQ(copy.As<JoinStep>().group, "h");
  Step moved = std::move(copy);
  EXPECT_EQ(moved.As<JoinStep>().group, "h");
  s.args = WaitStep{5};
  EXPECT_EQ(s.Clients(), nullptr);  // a flow step addresses no client
  EXPECT_EQ(s.As<WaitStep>().duration_ns, 5);
  EXPECT_EQ(s.args.If<JoinStep>(), nullptr);
}

TEST(StepRegistry, OnlyTheFlowStepsTheDriverRunsItselfHaveNoIssueFunction) {
  std::set<std::string_view> driver_run;
  for (const auto& entry : Families().steps) {
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
