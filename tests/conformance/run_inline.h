// Helpers for runner tests that run an inline YAML scenario on the sim target.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "conformance/loader.h"
#include "conformance/runner.h"
#include "reports/model.h"

namespace wpsim::conformance::test_util {

// Loads `yaml` (a load error fails the test) and runs it with default options.
inline reports::ScenarioResult RunInline(const std::string& yaml, const std::string& file = "inline.yaml") {
  LoadResult loaded = LoadScenarioText(yaml, file);
  EXPECT_TRUE(loaded.ok()) << FormatDiagnostics(loaded.diagnostics);
  reports::ScenarioResult r;
  if (loaded.ok()) RunScenario(*loaded.scenario, RunnerOptions{}, r);
  return r;
}

// Every failure as "message / actual", one per line (for assertion messages).
inline std::string Failures(const reports::ScenarioResult& r) {
  std::string out;
  for (const reports::Failure& f : r.failures) out += f.message + " / " + f.actual + "\n";
  return out;
}

}  // namespace wpsim::conformance::test_util
