#include "app/explore.h"

#include <iostream>

#include "app/cli.h"

namespace wpsim::app {

void RegisterExplore(CLI::App& sub, ExploreFlags& flags) { sub.allow_extras(); (void)flags; }

int RunExplore(const ExploreFlags&, const std::vector<std::string>&) {
  std::cerr << "wpsim explore: not implemented yet\n";
  return kExitUsage;
}

}  // namespace wpsim::app
