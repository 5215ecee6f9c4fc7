// scenarios/schema.json, generated from the shape tables: the root from the top-level keys, one
// `$defs` entry per step kind's forms, expectation kind, client, token and section, and the value
// grammars the value types refer to (SchemaRef). `wpsim_scenario_reference --write .` writes it
// next to the reference tables of docs/scenarios.md; the ctest ScenarioReferenceIsCurrent fails
// when the checked-in copy is stale, and ScenarioSchemaValidatesTheScenarios checks the shipped
// scenarios (and the bad-scenario corpus's shape errors) against it with a JSON Schema validator.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "conformance/shape/binding.h"

namespace wpsim::conformance::shape {

// The whole schema (JSON Schema 2020-12).
nlohmann::json ScenarioSchema();
// The schema as written to scenarios/schema.json (two-space indent, sorted keys, final newline).
std::string ScenarioSchemaText();

}  // namespace wpsim::conformance::shape
