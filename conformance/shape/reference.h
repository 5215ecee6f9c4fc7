// The scenario language's reference, generated from the shape tables: the Markdown tables of
// docs/scenarios.md and scenarios/schema.json. `wpsim_scenario_reference` (conformance/tools/)
// writes them into the tree; the ctest ScenarioReferenceIsCurrent fails when the checked-in
// copies differ from what the tables say.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"

namespace wpsim::conformance::shape {

// Markdown tables by block name ("top-level-keys", "client-keys", "token-keys", "step-kinds",
// "expectation-kinds", "matcher-keys").
std::map<std::string, std::string> ReferenceTables();

// `doc` with the body of every block
//   <!-- generated: NAME (wpsim_scenario_reference) -->
//   ...
//   <!-- end generated: NAME -->
// replaced by blocks[NAME]; an error names a block that is unknown or not closed.
Result<std::string> FillGeneratedBlocks(std::string_view doc,
                                        const std::map<std::string, std::string>& blocks);

}  // namespace wpsim::conformance::shape
