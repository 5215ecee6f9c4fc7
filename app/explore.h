// `wpsim explore FILE`: run one scenario under many seeds with scheduler perturbation, group the
// failures by signature, shrink each to a minimal scenario that still fails the same way, write
// it and print the command that reproduces it (conformance/explore.h does the work).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/common.h"

namespace wpsim::app {

struct ExploreFlags {
  std::string path;  // a scenario file, or a directory with --filter picking one scenario
  std::vector<std::string> filters;
  std::string target = "sim";
  uint64_t seeds = 100;
  uint64_t start_seed = 1;
  bool no_perturb = false;
  std::vector<std::string> inject_bugs;
  uint64_t stop_after = 1;
  bool no_shrink = false;
  uint64_t shrink_budget = 400;
  uint64_t check_seeds = 10;
  std::string out;  // minimal scenario file (default wpsim-report/explore/<name>.yaml)
  ReportFileFlags reports;  // --junit/--json/--html/--md
  bool verbose = false;
  uint64_t census = 0;  // --census N: run N seeds (all of them) and count the distinct outcomes
  bool swarm = false;   // --swarm: every seed also draws a fault plan
  std::string match;    // --match REPORT.json: find a seed with the report's observed outcome
  double time_budget = 0;  // --time-budget SECONDS: stop the seed loop after this much wall time
};

void RegisterExplore(CLI::App& sub, ExploreFlags& flags);
int RunExplore(const ExploreFlags& flags, const std::vector<std::string>& argv);

}  // namespace wpsim::app
