// Scenario discovery and selection (the PATH, --filter and --tags arguments of `wpsim run`).
#include "conformance/suite.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace wpsim::conformance {
namespace {

class TempTree {
 public:
  TempTree() {
    root_ = std::filesystem::temp_directory_path() /
            ("wpsim-suite-" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~TempTree() { std::filesystem::remove_all(root_); }
  std::string Write(const std::string& rel, const std::string& text) {
    std::filesystem::path p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.generic_string();
  }
  std::string path() const { return root_.generic_string(); }

 private:
  std::filesystem::path root_;
};

std::string ScenarioText(const std::string& name, const std::string& tags) {
  return "name: " + name +
         "\nsource: {seed: \"001\", section: S}\ndescription: d\ntags: " + tags +
         "\nhub: h\nclients: {a: json}\nsteps: [{connect: a}]\n";
}

TEST(ScenarioSuite, FindsYamlFilesRecursivelyInSortedOrder) {
  TempTree t;
  t.Write("b/z.yaml", ScenarioText("z", "[]"));
  t.Write("a.yml", ScenarioText("a", "[]"));
  t.Write("b/a.yaml", ScenarioText("ba", "[]"));
  t.Write("b/notes.txt", "not a scenario");
  t.Write("c/d/e.yaml", ScenarioText("e", "[]"));
  auto files = FindScenarioFiles({t.path(), t.path() + "/a.yml"});
  ASSERT_TRUE(files.ok()) << files.error().message;
  std::vector<std::string> rel;
  for (const std::string& f : *files) rel.push_back(f.substr(t.path().size() + 1));
  EXPECT_EQ(rel, (std::vector<std::string>{"a.yml", "b/a.yaml", "b/z.yaml", "c/d/e.yaml"}))
      << "sorted and without the duplicate a.yml";
  auto missing = FindScenarioFiles({t.path() + "/nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST(ScenarioSuite, FiltersByGlobOnNameOrPathAndByTags) {
  TempTree t;
  t.Write("quickstarts/q1.yaml", ScenarioText("quickstart-one", "[quickstart, mqtt]"));
  t.Write("quickstarts/q2.yaml", ScenarioText("quickstart-two", "[quickstart, slow]"));
  t.Write("acks/a1.yaml", ScenarioText("acks-duplicate", "[acks]"));
  auto names = [](const Suite& s) {
    std::vector<std::string> out;
    for (const auto& sc : s.scenarios) out.push_back(sc.name);
    return out;
  };
  Suite all = LoadSuite({t.path()});
  ASSERT_TRUE(all.ok()) << FormatDiagnostics(all.diagnostics);
  EXPECT_EQ(all.files, 3u);
  EXPECT_EQ(names(all), (std::vector<std::string>{"acks-duplicate", "quickstart-one", "quickstart-two"}));

  Suite by_name = LoadSuite({t.path()}, ScenarioFilter{{"quickstart-*"}, {}});
  EXPECT_EQ(names(by_name), (std::vector<std::string>{"quickstart-one", "quickstart-two"}));
  EXPECT_EQ(by_name.filtered_out, 1u);
  Suite by_path = LoadSuite({t.path()}, ScenarioFilter{{"acks/*"}, {}});
  EXPECT_EQ(names(by_path), (std::vector<std::string>{"acks-duplicate"}));
  Suite by_tag = LoadSuite({t.path()}, ScenarioFilter{{}, {"mqtt", "acks"}});
  EXPECT_EQ(names(by_tag), (std::vector<std::string>{"acks-duplicate", "quickstart-one"}));
  Suite excluded = LoadSuite({t.path()}, ScenarioFilter{{}, {"quickstart", "!slow"}});
  EXPECT_EQ(names(excluded), (std::vector<std::string>{"quickstart-one"}));
  Suite both = LoadSuite({t.path()}, ScenarioFilter{{"*two"}, {"quickstart"}});
  EXPECT_EQ(names(both), (std::vector<std::string>{"quickstart-two"}));
}

TEST(ScenarioSuite, RejectsDuplicateScenarioNamesAtTheSecondName) {
  TempTree t;
  std::string first = t.Write("a.yaml", ScenarioText("same", "[]"));
  std::string second = t.Write("b.yaml", ScenarioText("same", "[]"));
  Suite s = LoadSuite({t.path()});
  ASSERT_EQ(s.diagnostics.size(), 1u);
  EXPECT_EQ(s.diagnostics[0].ToString(), second + ":1:7: duplicate scenario name 'same' (also in " + first + ")");
  EXPECT_EQ(s.scenarios.size(), 1u);
}

TEST(GlobMatch, SupportsStarsQuestionMarksAndClasses) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("quick*", "quickstart-001"));
  EXPECT_TRUE(GlobMatch("*-00?", "quickstart-001"));
  EXPECT_FALSE(GlobMatch("*-00?", "quickstart-0010"));
  EXPECT_TRUE(GlobMatch("q*s*1", "quickstart-001"));
  EXPECT_TRUE(GlobMatch("[qr]uick*", "quickstart"));
  EXPECT_FALSE(GlobMatch("[!q]uick*", "quickstart"));
  EXPECT_TRUE(GlobMatch("*00[0-4]*", "quickstart-003-x"));
  EXPECT_TRUE(GlobMatch("acks/*", "acks/dup.yaml"));
  EXPECT_TRUE(GlobMatch("*/dup.yaml", "scenarios/acks/dup.yaml"));
  EXPECT_FALSE(GlobMatch("acks", "acks/dup.yaml"));
  EXPECT_TRUE(GlobMatch("a[b", "a[b")) << "an unclosed class matches literally";
}

}  // namespace
}  // namespace wpsim::conformance
