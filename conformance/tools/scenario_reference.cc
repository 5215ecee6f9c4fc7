// wpsim_scenario_reference: regenerates (--write) or checks (--check) the reference tables of
// docs/scenarios.md from the scenario language's shape tables (conformance/shape/).
//   build/bin/wpsim_scenario_reference --write .     # after changing a table
//   build/bin/wpsim_scenario_reference --check .     # the ctest ScenarioReferenceIsCurrent
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "conformance/builtin_checks.h"
#include "conformance/shape/reference.h"

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

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "--check" && mode != "--write") {
    std::cerr << "usage: wpsim_scenario_reference --check|--write SOURCE_DIR\n";
    return 2;
  }
  const std::string path = std::string(argv[2]) + "/docs/scenarios.md";
  std::string doc;
  if (!ReadFile(path, doc)) {
    std::cerr << path << ": cannot read\n";
    return 2;
  }
  std::map<std::string, std::string> blocks = wpsim::conformance::shape::ReferenceTables();
  blocks["built-in-checks"] = wpsim::conformance::BuiltInChecksTable();
  auto filled = wpsim::conformance::shape::FillGeneratedBlocks(doc, blocks);
  if (!filled.ok()) {
    std::cerr << path << ": " << filled.error().message << "\n";
    return 2;
  }
  if (mode == "--write") {
    if (*filled != doc) {
      std::ofstream(path, std::ios::binary) << *filled;
      std::cout << "updated " << path << "\n";
    }
    return 0;
  }
  if (*filled != doc) {
    std::cerr << path << ": the generated reference tables are stale; run "
              << "build/bin/wpsim_scenario_reference --write . in the source tree\n";
    return 1;
  }
  return 0;
}
