// What explore.cc (swarm plans) and shrink.cc (the shrinker) share: paths into a scenario's
// YAML. Internal to those two files.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace wpsim::conformance {

// A path from the root to a node: map keys and sequence indices.
using PathElem = std::variant<std::string, size_t>;
using Path = std::vector<PathElem>;

// The node at `path`, or an invalid/undefined node. Reads never create keys.
YAML::Node Resolve(YAML::Node root, const Path& path);

}  // namespace wpsim::conformance
