// The shipped scenarios: every file under scenarios/ loads cleanly, validates against
// scenarios/schema.json, derives from a real section of its seed document, the
// rule-focused folders tie every expectation to a conformance case id, and every rule of the
// catalogues (docs/conformance.md, the MQTT service statements) has a scenario or a unit-only
// mark with a reason.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "conformance/suite.h"
#include "conformance/yaml_json.h"
#include "tests/conformance/json_schema_subset.h"

namespace wpsim::conformance {
namespace {

const std::string kScenarios = std::string(WPSIM_SOURCE_DIR) + "/scenarios";

nlohmann::json LoadSchema() {
  std::ifstream in(kScenarios + "/schema.json");
  return nlohmann::json::parse(in);
}

TEST(ShippedScenarios, AllLoadWithoutDiagnostics) {
  Suite suite = LoadSuite({kScenarios});
  EXPECT_TRUE(suite.ok()) << FormatDiagnostics(suite.diagnostics);
  EXPECT_GE(suite.scenarios.size(), 10u);
  EXPECT_EQ(suite.scenarios.size(), suite.files);
}

TEST(ShippedScenarios, EveryQuickstartSeedHasAScenario) {
  Suite suite = LoadSuite({kScenarios + "/quickstarts"});
  std::set<std::string> seeds;
  for (const Scenario& s : suite.scenarios) {
    EXPECT_TRUE(s.HasTag("quickstart")) << s.file;
    EXPECT_TRUE(s.HasTag("seed-" + s.source.seed)) << s.file;
    seeds.insert(s.source.seed);
  }
  EXPECT_EQ(seeds, (std::set<std::string>{"000", "001", "002", "003", "004"}));
}

TEST(ShippedScenarios, ValidateAgainstTheJsonSchema) {
  testing::JsonSchemaSubset schema(LoadSchema());
  auto files = FindScenarioFiles({kScenarios});
  ASSERT_TRUE(files.ok());
  for (const std::string& f : *files) {
    SCOPED_TRACE(f);
    nlohmann::json instance = YamlToJson(YAML::LoadFile(f));
    std::vector<std::string> errors = schema.Validate(instance);
    std::string all;
    for (const std::string& e : errors) all += e + "\n";
    EXPECT_TRUE(errors.empty()) << all;
  }
}

TEST(ShippedScenarios, TheSchemaRejectsWhatTheLoaderRejects) {
  testing::JsonSchemaSubset schema(LoadSchema());
  auto check = [&](const std::string& yaml) {
    return schema.Validate(YamlToJson(YAML::Load(
        "name: x\nsource: {seed: \"001\", section: S}\ndescription: d\nhub: h\nclients: {a: json}\n" + yaml)));
  };
  EXPECT_TRUE(check("steps: [{connect: a}]").empty());
  EXPECT_FALSE(check("steps: [{conect: a}]").empty()) << "unknown step";
  EXPECT_FALSE(check("steps: [{join: {client: a, group: g}, leave: {client: a, group: g}}]").empty()) << "two kinds";
  EXPECT_FALSE(check("steps: [{wait: abc}]").empty()) << "bad duration";
  EXPECT_FALSE(check("steps: [{rest: {op: sendToAll}}]").empty()) << "unknown operation";
  EXPECT_FALSE(check("steps: []\nexpect: [{recieve: {client: a}}]").empty()) << "unknown expectation";
  EXPECT_FALSE(check("steps: []\nexpect: [{receive: {client: a, wihtin: 1s}}]").empty()) << "unknown key";
  EXPECT_FALSE(check("steps: []\nzzz: 1").empty()) << "unknown top-level key";
}

// Headings of a seed document ("## Publish messages using service SDK" -> the title).
std::set<std::string> Headings(const std::filesystem::path& file) {
  std::set<std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '#') continue;
    size_t i = line.find_first_not_of('#');
    if (i == std::string::npos || line[i] != ' ') continue;
    std::string title = line.substr(i + 1);
    while (!title.empty() && (title.back() == ' ' || title.back() == '\r')) title.pop_back();
    out.insert(title);
  }
  return out;
}

TEST(ShippedScenarios, SourcesNameARealSectionOfTheirSeed) {
  // The seed documents live outside the repository (the project brief); point
  // WPSIM_SEEDS_DIR at them to run this check elsewhere.
  const char* env = std::getenv("WPSIM_SEEDS_DIR");
  std::filesystem::path dir = env ? env : "/work/shared/seeds";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "seed documents not found at " << dir;
  std::map<std::string, std::set<std::string>> headings;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() >= 3) headings[name.substr(0, 3)] = Headings(entry.path());
  }
  Suite suite = LoadSuite({kScenarios});
  for (const Scenario& s : suite.scenarios) {
    SCOPED_TRACE(s.file);
    ASSERT_TRUE(headings.count(s.source.seed)) << "no seed document " << s.source.seed;
    EXPECT_TRUE(headings[s.source.seed].count(s.source.section))
        << "seed " << s.source.seed << " has no section '" << s.source.section << "'";
  }
}

TEST(ShippedScenarios, RuleScenariosTieEveryExpectationToACaseId) {
  for (const char* folder : {"roles", "acks", "reliable", "auth", "rest", "mqtt", "upstream", "faults", "json",
                             "connections", "filter", "preview"}) {
    std::string dir = kScenarios + "/" + folder;
    if (!std::filesystem::is_directory(dir)) continue;
    Suite suite = LoadSuite({dir});
    for (const Scenario& s : suite.scenarios) {
      for (const Expectation& e : s.expectations) {
        EXPECT_FALSE(e.case_id.empty()) << FormatPos(e.pos) << ": " << ExpectKindName(e.kind())
                                        << " expectation without a case id";
      }
    }
  }
}

// docs/conformance.md is the catalogue: a case id a scenario checks must have a row there
// ("| ID | rule | ..."), so a report's case ids can always be looked up.
TEST(ShippedScenarios, EveryCaseIdIsCatalogued) {
  std::ifstream doc_in(std::string(WPSIM_SOURCE_DIR) + "/docs/conformance.md");
  ASSERT_TRUE(doc_in.good());
  std::set<std::string> catalogued;
  const std::regex row(R"(^\| ([A-Z][A-Z0-9-]*-[0-9]{3}) \|)");
  for (std::string line; std::getline(doc_in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) catalogued.insert(m[1]);
  }
  ASSERT_GT(catalogued.size(), 100u);
  auto files = FindScenarioFiles({kScenarios});
  ASSERT_TRUE(files.ok());
  const std::regex use(R"(case: ([A-Z][A-Z0-9-]*-[0-9]{3}))");
  size_t uses = 0;
  for (const std::string& f : *files) {
    std::ifstream in(f);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      for (std::sregex_iterator it(line.begin(), line.end(), use), end; it != end; ++it) {
        ++uses;
        EXPECT_TRUE(catalogued.count((*it)[1]) == 1)
            << f << ":" << line_no << ": case " << (*it)[1] << " is not in docs/conformance.md";
      }
    }
  }
  EXPECT_GT(uses, 100u);
}

// The catalogue's "where" column (`folder/file.yaml:LINE`) points at the line that says
// `case: ID` for the row's ID, so the references stay true as scenario files change.
TEST(ShippedScenarios, CatalogueLocationsPointAtTheirCaseLines) {
  std::ifstream doc_in(std::string(WPSIM_SOURCE_DIR) + "/docs/conformance.md");
  ASSERT_TRUE(doc_in.good());
  size_t checked = 0;
  for (std::string line; std::getline(doc_in, line);) {
    // "| ID | ... | `folder/file.yaml:LINE`, ... |" (plain string scanning: <regex> trips
    // GCC 12's -Wmaybe-uninitialized inside libstdc++ under the sanitizers).
    if (line.rfind("| ", 0) != 0) continue;
    const size_t id_end = line.find(" |", 2);
    if (id_end == std::string::npos) continue;
    const std::string id = line.substr(2, id_end - 2);
    if (id.size() < 5 || id.find(' ') != std::string::npos || !std::isupper(static_cast<unsigned char>(id[0]))) continue;
    for (size_t pos = line.find(".yaml:"); pos != std::string::npos; pos = line.find(".yaml:", pos + 1)) {
      const size_t open = line.rfind('`', pos);
      const size_t close = line.find('`', pos);
      if (open == std::string::npos || close == std::string::npos) continue;
      const std::string file = line.substr(open + 1, pos + 5 - open - 1);
      const std::string number = line.substr(pos + 6, close - pos - 6);
      if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
      const int wanted = std::stoi(number);
      std::ifstream in(kScenarios + "/" + file);
      ASSERT_TRUE(in.good()) << id << ": " << file << " does not exist";
      std::string text;
      for (int n = 0; n < wanted && std::getline(in, text); ++n) {
      }
      EXPECT_NE(text.find("case: " + id), std::string::npos)
          << id << ": " << file << ":" << wanted << " is \"" << text << "\", not its case line";
      ++checked;
    }
  }
  EXPECT_GT(checked, 50u);
}

// Scenario files (relative to scenarios/) that use each case id ("case: ID"), scanned as text so
// that ids of steps, expectations and blocks all count.
std::map<std::string, std::set<std::string>> CaseUses() {
  std::map<std::string, std::set<std::string>> uses;
  auto files = FindScenarioFiles({kScenarios});
  if (!files.ok()) return uses;
  for (const std::string& f : *files) {
    const std::string rel = std::filesystem::relative(f, kScenarios).generic_string();
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      for (size_t at = line.find("case: "); at != std::string::npos; at = line.find("case: ", at + 1)) {
        size_t end = at + 6;
        while (end < line.size() && (std::isupper(static_cast<unsigned char>(line[end])) ||
                                     std::isdigit(static_cast<unsigned char>(line[end])) ||
                                     line[end] == '-' || line[end] == '.')) {
          ++end;
        }
        if (end > at + 6) uses[line.substr(at + 6, end - at - 6)].insert(rel);
      }
    }
  }
  return uses;
}

// The first and last cells of a Markdown table row ("| a | b | c |" -> "a", "c").
std::pair<std::string, std::string> FirstAndLastCell(const std::string& row) {
  const size_t first_end = row.find(" | ", 2);
  const size_t last_begin = row.rfind(" | ", row.size() - 3);
  if (first_end == std::string::npos || last_begin == std::string::npos) return {};
  return {row.substr(2, first_end - 2), row.substr(last_begin + 3, row.size() - 2 - (last_begin + 3))};
}

// `a`, `b` -> {a, b}
std::set<std::string> BacktickedWords(const std::string& cell) {
  std::set<std::string> out;
  for (size_t open = cell.find('`'); open != std::string::npos; open = cell.find('`', open + 1)) {
    const size_t close = cell.find('`', open + 1);
    if (close == std::string::npos) break;
    out.insert(cell.substr(open + 1, close - open - 1));
    open = close;
  }
  return out;
}

constexpr std::string_view kUnitOnly = "**unit-only:**";

// A unit-only mark needs a reason a reader can act on.
bool HasReason(const std::string& cell) {
  const size_t at = cell.find(kUnitOnly);
  return at != std::string::npos && cell.size() - (at + kUnitOnly.size()) >= 12;
}

// Issue 19: every rule of docs/conformance.md a client can observe (WebSocket, MQTT, REST or the
// event handler) is checked by a scenario, so it travels to --target local and remote. Each
// catalogue table ends with a "Scenarios" column that lists exactly the scenario files using
// the row's id, or says "**unit-only:** <reason>" for a rule no scenario can observe. A new id
// without either fails here, and so does a list that no longer matches the files.
TEST(ShippedScenarios, EveryCatalogueRuleHasAScenarioOrIsMarkedUnitOnly) {
  const std::map<std::string, std::set<std::string>> uses = CaseUses();
  std::ifstream doc_in(std::string(WPSIM_SOURCE_DIR) + "/docs/conformance.md");
  ASSERT_TRUE(doc_in.good());
  bool scenarios_column = false;
  size_t rows = 0, unit_only = 0;
  for (std::string line; std::getline(doc_in, line);) {
    if (line.rfind("| ID |", 0) == 0) {
      scenarios_column = line.find("| Scenarios |") != std::string::npos;
      continue;
    }
    if (line.rfind("| ", 0) != 0 || line.rfind("| --- ", 0) == 0) continue;
    const auto [id, last] = FirstAndLastCell(line);
    if (id.size() < 5 || id.find(' ') != std::string::npos || !std::isupper(static_cast<unsigned char>(id[0]))) {
      continue;
    }
    SCOPED_TRACE(id);
    const auto used = uses.find(id);
    if (!scenarios_column) {
      // The "Scenario case families" table: ids only scenarios check, located by file:line.
      EXPECT_NE(line.find(".yaml:"), std::string::npos)
          << id << " is in a table without a Scenarios column and names no scenario";
      EXPECT_TRUE(used != uses.end()) << id << " is listed as a scenario case but no scenario uses it";
      continue;
    }
    ++rows;
    if (last.find(kUnitOnly) != std::string::npos) {
      ++unit_only;
      EXPECT_TRUE(HasReason(last)) << id << ": unit-only without a reason";
      EXPECT_TRUE(used == uses.end()) << id << " is marked unit-only but "
                                      << *used->second.begin() << " checks it: list the scenarios instead";
      continue;
    }
    std::set<std::string> listed = BacktickedWords(last);
    std::set<std::string> actual = used == uses.end() ? std::set<std::string>{} : used->second;
    std::string want;
    for (const std::string& f : actual) want += (want.empty() ? "`" : ", `") + f + "`";
    EXPECT_FALSE(actual.empty()) << id << " has no scenario: add one (with its refusal and boundary cases) "
                                 << "or mark the row **unit-only:** with a reason";
    EXPECT_EQ(listed, actual) << id << ": the Scenarios cell should read: " << want;
  }
  EXPECT_GT(rows, 140u);
  // Issue 16's INVOKE-/STREAM- rows have scenarios (scenarios/preview/, the json family's
  // invoke and stream_* steps), so the budget is back where it was before them.
  EXPECT_LE(unit_only, 15u) << "most rules are observable on the wire";
}

// The same for the service-level statements of docs/mqtt-conformance.md: their "Scenario cases"
// column names case ids that scenarios use (or marks the statement unit-only with a reason), and
// every MQTT case id a scenario uses (MQTT5-…, MQTT311-…, MQTT-WPS-…) is named by some row.
TEST(ShippedScenarios, EveryMqttServiceStatementHasAScenarioOrIsMarkedUnitOnly) {
  const std::map<std::string, std::set<std::string>> uses = CaseUses();
  std::ifstream doc_in(std::string(WPSIM_SOURCE_DIR) + "/docs/mqtt-conformance.md");
  ASSERT_TRUE(doc_in.good());
  bool service_level = false, column = false;
  size_t rows = 0;
  std::set<std::string> named;
  for (std::string line; std::getline(doc_in, line);) {
    if (line.rfind("## Service level", 0) == 0) service_level = true;
    if (!service_level) continue;
    if (line.rfind("| Statement |", 0) == 0 || line.rfind("| Rule or choice |", 0) == 0) {
      column = line.find("| Scenario cases |") != std::string::npos;
      EXPECT_TRUE(column) << "service-level table without a Scenario cases column: " << line;
      continue;
    }
    if (line.rfind("| ", 0) != 0 || line.rfind("| --- ", 0) == 0 || !column) continue;
    const auto [statement, last] = FirstAndLastCell(line);
    SCOPED_TRACE(statement);
    ++rows;
    if (last.find(kUnitOnly) != std::string::npos) {
      EXPECT_TRUE(HasReason(last)) << statement << ": unit-only without a reason";
      continue;
    }
    const std::set<std::string> cases = BacktickedWords(last);
    EXPECT_FALSE(cases.empty()) << statement << " names no scenario case and is not marked unit-only";
    for (const std::string& c : cases) {
      named.insert(c);
      EXPECT_TRUE(uses.count(c) == 1) << statement << ": no scenario uses case " << c;
    }
  }
  EXPECT_GT(rows, 70u);
  for (const auto& [id, files] : uses) {
    if (id.rfind("MQTT5-", 0) == 0 || id.rfind("MQTT311-", 0) == 0 || id.rfind("MQTT-WPS-", 0) == 0) {
      EXPECT_TRUE(named.count(id) == 1) << id << " (used by " << *files.begin()
                                        << ") is named by no row of docs/mqtt-conformance.md";
    }
  }
}

}  // namespace
}  // namespace wpsim::conformance
