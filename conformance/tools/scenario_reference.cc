// wpsim_scenario_reference: regenerates (--write) or checks (--check) the reference tables of
// docs/scenarios.md and scenarios/schema.json from the scenario language's shape tables
// (conformance/shape/).
//   build/bin/wpsim_scenario_reference --write .     # after changing a table
//   build/bin/wpsim_scenario_reference --check .     # the ctest ScenarioReferenceIsCurrent
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "conformance/builtin_checks.h"
#include "conformance/shape/reference.h"
#include "conformance/shape/schema.h"

namespace {

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

}  // namespace

// One generated file: `path` must equal `text` (--check) or is rewritten to it (--write).
// Returns false when it is stale in --check mode.
bool Sync(const std::string& path, const std::string& text, const std::string& current,
          bool write) {
  if (text == current) return true;
  if (write) {
    std::ofstream(path, std::ios::binary) << text;
    std::cout << "updated " << path << "\n";
    return true;
  }
  std::cerr << path << ": stale (generated from the shape tables); run "
            << "build/bin/wpsim_scenario_reference --write . in the source tree\n";
  return false;
}

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "--check" && mode != "--write") {
    std::cerr << "usage: wpsim_scenario_reference --check|--write SOURCE_DIR\n";
    return 2;
  }
  const bool write = mode == "--write";
  const std::string path = std::string(argv[2]) + "/docs/scenarios.md";
  const std::string schema_path = std::string(argv[2]) + "/scenarios/schema.json";
  std::string doc;
  if (!ReadFile(path, doc)) {
    std::cerr << path << ": cannot read\n";
    return 2;
  }
  std::string schema;
  if (!ReadFile(schema_path, schema) && !write) {
    std::cerr << schema_path << ": cannot read\n";
    return 2;
  }
  std::map<std::string, std::string> blocks = wpsim::conformance::shape::ReferenceTables();
  blocks["built-in-checks"] = wpsim::conformance::BuiltInChecksTable();
  auto filled = wpsim::conformance::shape::FillGeneratedBlocks(doc, blocks);
  if (!filled.ok()) {
    std::cerr << path << ": " << filled.error().message << "\n";
    return 2;
  }
  bool current = Sync(path, *filled, doc, write);
  current =
      Sync(schema_path, wpsim::conformance::shape::ScenarioSchemaText(), schema, write) && current;
  return current ? 0 : 1;
}
