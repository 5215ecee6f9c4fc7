// The checks the runner makes on every scenario without the scenario declaring them. Each can
// fail a run that has no expectation about it; docs/scenarios.md ("Built-in checks") is
// generated from this list by wpsim_scenario_reference, so the page names every one.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace wpsim::conformance {

struct BuiltInCheck {
  std::string_view name;
  std::string_view case_id;     // the case id its failures carry ("" = none of its own)
  std::string_view reported_under;  // Markdown: which case a failure counts against
  std::string_view fails_when;  // Markdown
  std::string_view reads;       // how the failure message reads
};

// Index constants for the callers that report them.
enum class BuiltIn : size_t { kSequenceIdOnce, kStepCompletes, kRunTimeLimit, kEventBudget };

std::span<const BuiltInCheck> BuiltInChecks();
const BuiltInCheck& BuiltInCheckOf(BuiltIn which);
// The Markdown table of docs/scenarios.md's generated block "built-in-checks".
std::string BuiltInChecksTable();

}  // namespace wpsim::conformance
