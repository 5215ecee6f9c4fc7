#include "app/bench.h"

#include <iostream>

#include "app/cli.h"

namespace wpsim::app {

void RegisterBench(CLI::App& sub, BenchFlags& flags) { sub.allow_extras(); (void)flags; }

int RunBench(const BenchFlags&, const std::vector<std::string>&) {
  std::cerr << "wpsim bench: not implemented yet\n";
  return kExitUsage;
}

}  // namespace wpsim::app
