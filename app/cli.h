// The wpsim command line. BuildCli registers every subcommand; RunCli parses and dispatches.
// Kept in a library so tests can drive the CLI in-process.
#pragma once

#include <string>
#include <vector>

namespace wpsim::app {

// Exit codes, documented in docs/cli.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitConformanceFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitThreshold = 3;

// Parses argv (argv[0] is the program name) and runs the chosen subcommand.
int RunCli(const std::vector<std::string>& argv);

}  // namespace wpsim::app
