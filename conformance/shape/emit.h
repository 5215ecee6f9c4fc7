// Scenario YAML written back out so that it loads to the same scenario: what explore's shrinker
// writes for every candidate (CanonicalYaml, conformance/explore.h). Comments are dropped; plain
// scalars stay plain and quoted ones quoted (yaml-cpp's Dump drops the "!" tag of quoted
// scalars, which would turn `data: "5"` into the number 5), and a quoted scalar is written
// ASCII-only with YAML escapes (\x, \u, \U) for control and non-ASCII characters, so every code
// point survives (yaml-cpp's emitter turns U+10FFFF into U+FFFD).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

namespace wpsim::conformance::shape {

// The YAML text of `root` (two-space indent, a final newline).
std::string EmitYaml(const YAML::Node& root);

// `text` as a YAML double-quoted scalar, quotes included, with only printable ASCII inside.
std::string DoubleQuotedAscii(std::string_view text);

}  // namespace wpsim::conformance::shape
