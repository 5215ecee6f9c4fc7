// The network family (sim only): the network section (default and per-client links, scheduled
// partitions) and the partition, heal, delay, reset and set_clock_skew steps.
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/network.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

enum class PartitionDirection { kBoth, kClientToService, kServiceToClient };
std::string_view PartitionDirectionName(PartitionDirection d);

struct ScheduledPartition {
  SourcePos pos;
  int64_t at_ns = 0;
  std::optional<int64_t> duration_ns;  // heal after this long; nullopt = until a heal step
  ClientRef clients;
  bool upstream = false;  // the service <-> application server link instead of clients
  PartitionDirection direction = PartitionDirection::kBoth;
};

struct NetworkSettings {
  bool present = false;  // the file has a `network:` section
  LinkSettings defaults;
  LinkSettings upstream;  // service <-> application server link
  std::optional<int64_t> stream_timeout_ns;  // a stalled stream resets after this (TCP-like)
  std::vector<ScheduledPartition> partitions;
};

struct PartitionStep {
  std::optional<ClientRef> clients;  // nullopt with all=true: every client
  bool all = false;
  bool upstream = false;
  PartitionDirection direction = PartitionDirection::kBoth;
};

struct HealStep {
  std::optional<ClientRef> clients;
  bool all = false;
  bool upstream = false;
};

struct DelayStep {  // change link settings
  std::optional<ClientRef> clients;
  bool all = false;
  bool upstream = false;
  LinkSettings link;
};

struct ResetStep {  // TCP-like reset of the members' streams
  ClientRef clients;
};

struct ClockSkewStep {
  std::optional<ClientRef> clients;  // nullopt: the service's clock
  int64_t skew_ns = 0;               // signed
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterNetworkFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
