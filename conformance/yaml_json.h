// YAML -> JSON conversion with the YAML 1.2 core schema's typing of plain scalars: quoted and
// block scalars are strings; plain scalars that spell an integer, a float, true/false or null
// become those JSON types; everything else is a string. yaml-cpp itself keeps every scalar
// as text, so without this `data: 5` and `data: "5"` would be indistinguishable.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace wpsim::conformance {

nlohmann::json YamlToJson(const YAML::Node& node);

// The JSON value a single scalar denotes (see above).
nlohmann::json ScalarToJson(const YAML::Node& scalar);

// True for a plain (unquoted, untagged, non-block) scalar.
bool IsPlainScalar(const YAML::Node& node);

}  // namespace wpsim::conformance
