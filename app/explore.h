// `wpsim explore`: see app/explore.cc and docs/cli.md.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace wpsim::app {

struct ExploreFlags {
  std::vector<std::string> extras;  // replaced by the real flags when the command lands
};

void RegisterExplore(CLI::App& sub, ExploreFlags& flags);
int RunExplore(const ExploreFlags& flags, const std::vector<std::string>& argv);

}  // namespace wpsim::app
