// `wpsim run --list`: what a scenario selection holds, without running it.
#pragma once

#include <cstdio>
#include <vector>

#include "conformance/scenario.h"

namespace wpsim::app {

// Prints one line per scenario (name, file, tags, conformance case IDs, the targets it needs)
// and a count. A selection of exactly one scenario is printed in full instead: description,
// clients, each step (YAML line, kind, clients, label, case ID) and each check with its case ID.
void PrintScenarioList(const std::vector<conformance::Scenario>& scenarios, std::FILE* out);

}  // namespace wpsim::app
