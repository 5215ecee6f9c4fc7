// The flow family: wait, barrier, parallel, repeat and wait_until. The first four are registered
// without an issue function (running them is the driver's own work, conformance/runner.cc);
// wait_until is issued here, on the observation stream.
//
// The family's types are part of the scenario model (conformance/scenario.h includes this
// header); their YAML shape lives in conformance/steps/flow.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"
#include "conformance/units.h"

namespace wpsim::conformance {

struct WaitStep {
  int64_t duration_ns = 0;  // virtual in sim, real on local/remote targets
};

struct BarrierStep {
  std::optional<ClientRef> clients;  // restrict to these members' pending operations
  bool quiesce = true;  // sim: also wait until no message is in flight
};

struct ParallelStep {};  // children in Step::children

struct RepeatStep {
  std::optional<uint64_t> count;
  std::optional<Rate> rate;
  std::optional<int64_t> duration_ns;
  std::string index_var = "i";  // "${i}" in strings of the children
};

// Waits until every addressed member has received `received` messages since the step was
// issued: group and server messages (json, reliable), frames (websocket), PUBLISH (mqtt).
struct WaitUntilStep {
  ClientRef clients;
  uint64_t received = 1;
};

// Registers the steps' names and shapes (conformance/driver.h).
void RegisterFlowFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
