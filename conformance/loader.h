// The scenario loader: YAML text -> conformance::Scenario, or every problem in the file.
//
// Contract: loading never throws and never stops at the first problem. Every diagnostic
// carries a 1-based file:line:column (yaml-cpp marks are 0-based; we add one) and a message
// that says what was expected and what was found; unknown keys, kinds and names come with a
// "did you mean 'x'?" suggestion when one is close. Diagnostics are sorted by position, so the
// first one is the earliest problem in the file. A scenario is returned only when there are
// no diagnostics at all: a runner never sees a half-understood file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "conformance/scenario.h"

namespace wpsim::conformance {

struct Diagnostic {
  SourcePos pos;
  std::string message;
  // "file:line:column: message"
  std::string ToString() const;
};

struct LoadResult {
  std::optional<Scenario> scenario;  // set iff diagnostics is empty
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return scenario.has_value(); }
};

// Parses scenario text; `file_name` is used in positions and as Scenario::file.
LoadResult LoadScenarioText(std::string_view yaml_text, const std::string& file_name);
// Reads and parses one file (an unreadable file is a diagnostic at "path").
LoadResult LoadScenarioPath(const std::string& path);
// The same as a Result: on failure, error().code is "scenario" and error().message holds all
// diagnostics, one "file:line:column: message" per line.
Result<Scenario> LoadScenarioFile(const std::string& path);

// One diagnostic per line.
std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics);

// Suggests the closest candidate to `word` (optimal string alignment distance, small enough
// to be a plausible typo), or "" when none is close. Ties go to the earlier candidate.
std::string SuggestClosest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace wpsim::conformance
