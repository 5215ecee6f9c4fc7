// Helpers for the reports tests: run a command, make a scratch directory, find tools.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace wpsim::reports::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline bool HaveTool(const std::string& name) {
  return RunCommand("command -v " + name).exit_code == 0;
}

// A fresh directory under the build tree, named after the test.
inline std::string ScratchDir(const std::string& name) {
  const std::string dir = std::string(WPSIM_BINARY_DIR) + "/tests/reports/scratch/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace wpsim::reports::testing
