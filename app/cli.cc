#include "app/cli.h"

#include "app/bench.h"
#include "app/explore.h"
#include "app/report.h"
#include "app/run.h"
#include "app/serve.h"
#include "app/version.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

namespace wpsim::app {

int RunCli(const std::vector<std::string>& argv) {
  CLI::App app{"wpsim: deterministic simulation and conformance harness for Azure Web PubSub",
               "wpsim"};
  app.set_version_flag("--version", [] { return VersionText(); }, "Print the version and build details, then exit");
  app.require_subcommand(1);

  auto* serve = app.add_subcommand(
      "serve", "Run the reference Web PubSub service on real sockets (a local emulator)");
  auto* run = app.add_subcommand(
      "run", "Run YAML scenarios against a target (sim, local or remote) and write reports");
  auto* explore = app.add_subcommand(
      "explore", "Run one scenario under many seeds with perturbation to find and shrink races");
  auto* bench = app.add_subcommand("bench", "Run the fan-out load driver and report throughput");
  auto* report = app.add_subcommand("report", "Compare or merge JSON reports");
  ServeFlags serve_flags;
  RegisterServe(*serve, serve_flags);
  RunFlags run_flags;
  RegisterRun(*run, run_flags);
  ReportFlags report_flags;
  RegisterReport(*report, report_flags);
  ExploreFlags explore_flags;
  RegisterExplore(*explore, explore_flags);
  BenchFlags bench_flags;
  RegisterBench(*bench, bench_flags);

  std::vector<std::string> args(argv.rbegin(), argv.rend() - 1);  // CLI11 wants reversed args
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (serve->parsed()) return RunServe(serve_flags);
  if (run->parsed()) return RunRun(run_flags, argv);
  if (report->parsed()) return RunReportCommand(report_flags);
  if (explore->parsed()) return RunExplore(explore_flags, argv);
  if (bench->parsed()) return RunBench(bench_flags, argv);
  return kExitUsage;
}

}  // namespace wpsim::app
