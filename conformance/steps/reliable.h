// The reliable family (json.reliable.webpubsub.azure.v1): the recover and sequence_ack steps.
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/reliable.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

enum class RecoverFault { kNone, kBadToken, kUnknownConnection };

struct RecoverStep {
  ClientRef clients;
  RecoverFault fault = RecoverFault::kNone;
};

struct SequenceAckStep {
  ClientRef clients;
  std::optional<uint64_t> sequence_id;  // nullopt: the highest sequenceId received so far
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterReliableFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
