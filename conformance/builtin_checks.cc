#include "conformance/builtin_checks.h"

#include <array>

namespace wpsim::conformance {
namespace {

constexpr std::array<BuiltInCheck, 4> kChecks = {{
    {"sequenceId at most once", "REL-003", "`REL-003`",
     "a reliable client (`json.reliable`, `protobuf.reliable`) receives the same `sequenceId` "
     "twice on one transport (PROTOCOL.md §6.1); a recovered connection's new transport starts "
     "over",
     "`sub received sequenceId 7 twice on one connection`"},
    {"steps complete", "", "the step's `case`, if it has one",
     "a step that waits for an answer (a connect's upgrade or CONNACK, an `ack`, a REST "
     "response, a SUBACK/PUBACK, a close) is still waiting after its `timeout` (default "
     "`run.step_timeout`); `async: true` steps are held to it when the run ends",
     "`step 'join' at file.yaml:12:5 did not complete in time`"},
    {"run time limit", "", "none (the scenario fails)",
     "the run is still issuing steps after `run.time_limit`; the remaining steps are not issued",
     "`the run exceeded run.time_limit (30s)`"},
    {"simulator event budget", "", "none (the scenario errors)",
     "sim only: the run used more simulator events than the budget (`wpsim run` default 50 "
     "million): the scenario ends as an error, not a failure",
     "`the scenario used more than 50000000 simulator events`"},
}};

}  // namespace

std::span<const BuiltInCheck> BuiltInChecks() { return kChecks; }

const BuiltInCheck& BuiltInCheckOf(BuiltIn which) { return kChecks[static_cast<size_t>(which)]; }

std::string BuiltInChecksTable() {
  std::string out = "| check | case | fails when | the failure reads |\n| --- | --- | --- | --- |\n";
  for (const BuiltInCheck& c : kChecks) {
    out += "| " + std::string(c.name) + " | " + std::string(c.reported_under) + " | " +
           std::string(c.fails_when) + " | " + std::string(c.reads) + " |\n";
  }
  return out;
}

}  // namespace wpsim::conformance
