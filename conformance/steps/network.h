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

// Swarm testing (`wpsim explore --swarm`, conformance/explore.h): the fault kinds and ranges a
// seed's fault plan is drawn from (the `swarm:` section; read by explore only, a run ignores it).
enum class SwarmFault { kLatency, kLoss, kPartition, kReset, kSlowReader, kClockSkew, kServiceDelay };
std::string_view SwarmFaultName(SwarmFault f);

struct SwarmSettings {
  bool present = false;  // the file has a `swarm:` section
  SourcePos pos;
  // The kinds drawn from; empty: latency, loss, partition, slow_reader and service_delay (reset
  // and clock_skew change what a client legally observes, so a scenario opts into them).
  std::vector<SwarmFault> faults;
  uint64_t max_faults = 4;            // a plan has 0..max_faults faults
  std::optional<int64_t> window_ns;   // faults start in [0, window); nullopt: the run's length
  int64_t max_duration_ns = 50'000'000;   // a fault lasts 1ms..this, then heals
  int64_t max_latency_ns = 20'000'000;    // latency faults: lognormal median in 1ms..this
  double max_loss = 0.05;                 // loss faults: 0.5%..this
  uint64_t min_receive_window = 4096;     // slow readers: a window of this..64 KiB
  int64_t max_clock_skew_ns = 5'000'000'000;  // clock skew: -this..+this
  std::optional<ClientRef> clients;       // the clients faults target (default: every client)
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterNetworkFamily(FamilyRegistry& r);

// The liveness phase (the `eventually:` section): heals every partition, sets every link back to
// the scenario's settings and every clock skew to 0 (sim only; a no-op on other targets).
class RunContext;
void HealAllFaults(RunContext& cx);

}  // namespace wpsim::conformance
