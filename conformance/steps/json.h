// The json family (json.webpubsub.azure.v1 requests, also sent by reliable clients): the join,
// leave, send_to_group and event steps with their ackIds, and the ack expectation.
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/json.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

// ackId handling for client requests.
struct AckSpec {
  enum class Mode { kNone, kAuto, kExplicit };
  Mode mode = Mode::kNone;
  uint64_t id = 0;  // kExplicit only. kAuto: the runner allocates per connection from 1 upward
                    // (skipping ids the scenario uses explicitly for that client).
};

struct GroupStep {  // join / leave
  ClientRef clients;
  std::string group;
  AckSpec ack;
};

struct JoinStep : GroupStep {};

struct LeaveStep : GroupStep {};

struct SendToGroupStep {
  ClientRef clients;
  std::string group;
  Payload payload;
  std::optional<bool> no_echo;
  AckSpec ack;
};

struct EventStep {
  ClientRef clients;
  std::string event;
  Payload payload;
  AckSpec ack;
};

struct AckExpect {
  std::optional<uint32_t> step;    // the step that sent the request (all its members)
  std::optional<ClientRef> client;  // or client + ack_id
  std::optional<uint64_t> ack_id;
  bool success = true;
  std::optional<std::string> error;    // error name (implies success false)
  std::optional<std::string> message;  // error message, exact
  std::optional<std::string> message_contains;
  TimeWindow window;
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterJsonFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
