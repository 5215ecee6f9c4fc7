// scenarios/schema.json as generated from the shape tables (conformance/shape/schema.h): every
// reference resolves, every step and expectation kind is there with its shorthand forms, and
// the checked-in copy is what the tables say (ScenarioReferenceIsCurrent checks the file too).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "conformance/shape/expect.h"
#include "conformance/shape/schema.h"
#include "conformance/shape/steps.h"

namespace wpsim::conformance::shape {
namespace {

void CollectRefs(const nlohmann::json& j, std::set<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) out.insert(v.get<std::string>());
      CollectRefs(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectRefs(v, out);
  }
}

TEST(ScenarioSchema, EveryReferenceNamesADefinition) {
  const nlohmann::json schema = ScenarioSchema();
  std::set<std::string> refs;
  CollectRefs(schema, refs);
  EXPECT_GT(refs.size(), 20u);
  for (const std::string& ref : refs) {
    ASSERT_EQ(ref.rfind("#/$defs/", 0), 0u) << ref;
    EXPECT_TRUE(schema["$defs"].contains(ref.substr(8))) << ref << " names no definition";
  }
}

TEST(ScenarioSchema, EveryStepKindIsAPropertyOfAStepWithItsShorthandForms) {
  const nlohmann::json step = ScenarioSchema()["$defs"]["step"];
  const nlohmann::json bare = step["anyOf"][0]["enum"];
  const nlohmann::json& kinds = step["anyOf"][1]["properties"];
  std::set<std::string> want_bare;
  for (const StepShape& s : AllSteps()) {
    const std::string name(s.name);
    ASSERT_TRUE(kinds.contains(name)) << name;
    EXPECT_EQ(kinds[name]["description"], s.doc) << name;
    // The mapping form lists the kind's keys and the modifiers; the shorthand forms come first.
    const nlohmann::json mapping =
        s.shorthand.empty() ? kinds[name] : kinds[name]["anyOf"][s.shorthand.size()];
    for (const FieldDoc& f : s.fields) EXPECT_TRUE(mapping["properties"].contains(f.key)) << name;
    for (const FieldDoc& m : StepModifierDocs())
      EXPECT_TRUE(mapping["properties"].contains(m.key)) << name;
    for (size_t i = 0; i < s.shorthand.size(); ++i)
      EXPECT_EQ(kinds[name]["anyOf"][i], s.shorthand[i]) << name;
    for (const nlohmann::json& form : s.shorthand) {
      if (form == nlohmann::json{{"type", "null"}}) want_bare.insert(name);
    }
  }
  EXPECT_EQ(bare.get<std::set<std::string>>(), want_bare);
  EXPECT_EQ(want_bare, (std::set<std::string>{"barrier", "heal"}));
}

TEST(ScenarioSchema, EveryExpectationKindIsThereWithItsRequiredKeys) {
  const nlohmann::json schema = ScenarioSchema();
  const nlohmann::json& kinds = schema["$defs"]["expectation"]["properties"];
  for (const ShapeDoc& e : ExpectationDocs()) {
    ASSERT_TRUE(kinds.contains(e.name)) << e.name;
    std::set<std::string> required;
    for (const FieldDoc& f : e.fields) {
      if (f.required) required.insert(f.key);
    }
    const nlohmann::json& r = kinds[e.name].value("required", nlohmann::json::array());
    EXPECT_EQ(r.get<std::set<std::string>>(), required) << e.name;
  }
}

TEST(ScenarioSchema, TheCheckedInCopyIsTheGeneratedOne) {
  std::ifstream in(std::string(WPSIM_SOURCE_DIR) + "/scenarios/schema.json", std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(text == ScenarioSchemaText())
      << "stale: run build/bin/wpsim_scenario_reference --write .";
}

}  // namespace
}  // namespace wpsim::conformance::shape
