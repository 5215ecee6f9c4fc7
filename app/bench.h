// `wpsim bench`: see app/bench.cc and docs/cli.md.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace wpsim::app {

struct BenchFlags {
  std::vector<std::string> extras;  // replaced by the real flags when the command lands
};

void RegisterBench(CLI::App& sub, BenchFlags& flags);
int RunBench(const BenchFlags& flags, const std::vector<std::string>& argv);

}  // namespace wpsim::app
