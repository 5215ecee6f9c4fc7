// `wpsim run`: load scenarios, run them against a target, print a test-runner style summary,
// write reports and map the verdict to the documented exit codes (app/cli.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/common.h"

namespace wpsim::app {

struct RunFlags {
  std::vector<std::string> paths;
  std::string target = "sim";
  std::string connection_string;
  std::string ca_file;
  std::string listen;      // local in-process service: HOST:PORT (default 127.0.0.1:0)
  // Real targets: HOST:PORT of the scripted application server of event-handler scenarios.
  std::string upstream_listen;
  bool print_upstream_config = false;  // print the serve --config for it and exit
  std::string hub_suffix = "auto";  // "auto", "none" or the suffix itself
  std::string max_real_wait = "30s";  // real targets; "0" disables the limit
  std::optional<uint64_t> seed;
  std::vector<std::string> filters;
  std::vector<std::string> tags;
  int repeat = 1;
  std::string shard;  // "i/n", 1-based i
  ReportFileFlags reports;  // --junit/--json/--html/--md
  bool verbose = false;
  bool mutation = false;
  bool perturb = false;
  std::vector<std::string> inject_bugs;
  bool quiet = false;  // no per-scenario lines (mutation inner runs)
  bool list = false;   // --list: print the selection (app/list.h) instead of running it
};

void RegisterRun(CLI::App& sub, RunFlags& flags);
int RunRun(const RunFlags& flags, const std::vector<std::string>& argv);

}  // namespace wpsim::app
