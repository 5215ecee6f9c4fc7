// `wpsim bench`: the fan-out load driver. Builds an open-loop load (conformance/load.h), runs it
// after a baseline load in the same process, prints a k6-style summary with the
// measured-vs-baseline ratios, evaluates --threshold expressions and writes the usual reports.
// See docs/cli.md ("wpsim bench") for flags and exit codes. With --workers N or --shard i/n
// the load runs in the wpsim-load engine (bench/load) instead of the scenario runner: several
// processes or machines on one group, their figures merged (docs/ci.md, "Load from several
// machines").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/common.h"

namespace wpsim::app {

struct BenchFlags {
  std::string target = "sim";
  std::string kind = "json";
  std::string path = "broadcast";
  uint32_t subscribers = 1000;
  uint32_t publishers = 1;
  std::string rate = "1000/s";
  std::string messages;  // empty: not given
  std::string duration;  // empty: not given (default: 1000 messages when neither is)
  std::string size = "64";
  int qos = 0;
  std::string latency = "1ms";
  std::string bandwidth = "10Gbps";
  uint64_t seed = 1;
  std::string baseline = "websocket";  // a kind (with --path broadcast) or "none"
  std::vector<std::string> thresholds;
  std::string listen;  // local: HOST:PORT of the in-process service
  std::string connection_string;  // local/remote: a running service (else WebPubSubConnectionString)
  std::string ca_file;            // extra CA certificates for https endpoints
  ReportFileFlags reports;  // --junit/--json/--html/--md
  bool print_scenario = false;
  uint32_t workers = 0;  // > 0: the load in N processes of the wpsim-load engine (local/remote)
  std::string shard;     // "i/n": shard i of a load spread over n machines (needs start_at)
  double start_at = 0;   // shards: wall-clock start instant, seconds since 1970
};

void RegisterBench(CLI::App& sub, BenchFlags& flags);
int RunBench(const BenchFlags& flags, const std::vector<std::string>& argv);

}  // namespace wpsim::app
