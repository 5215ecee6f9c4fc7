// The fan-out load model behind `wpsim bench`: bench parameters -> a conformance scenario.
//
// Theory of operation. A load is written as ordinary scenario YAML (so it can be printed,
// saved and rerun with `wpsim run`) and loaded with LoadScenarioText, so the runner's open-loop
// `repeat` with `rate` measures publish-to-receive latency from each send's intended time
// (coordinated-omission correction), counts throughput over time and checks that every
// subscriber received every message. Each `repeat` iteration sends one message per publisher,
// so the iteration rate is the total rate divided by the publisher count. Payloads carry the
// publisher and the iteration index, so every send is distinct and a delivery is matched to
// exactly its own send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "conformance/scenario.h"

namespace wpsim::conformance {

// Maximum sizes a bench accepts (the simulator holds every member and message in memory).
inline constexpr uint32_t kLoadMaxSubscribers = 1'000'000;
inline constexpr uint32_t kLoadMaxPublishers = 10'000;
inline constexpr uint64_t kLoadMaxMessages = 100'000'000;
inline constexpr uint32_t kLoadMaxPayloadBytes = 1 << 20;

enum class LoadPath { kBroadcast, kGroup, kClientGroup };
std::string_view LoadPathName(LoadPath path);  // "broadcast", "group", "client-group"

struct LoadSpec {
  ClientKind kind = ClientKind::kJson;  // the subscribers' kind (never rest)
  LoadPath path = LoadPath::kBroadcast;
  uint32_t subscribers = 1000;
  uint32_t publishers = 1;
  std::string rate = "1000/s";          // total messages per period, ParseRate grammar
  std::optional<uint64_t> messages;     // total messages (rounded up to whole iterations)
  std::optional<int64_t> duration_ns;   // or the length of the open-loop block
  uint32_t size = 64;                   // payload bytes (at least the unique prefix)
  int qos = 0;                          // MQTT kinds: subscribe and publish QoS (0 or 1)
  bool sim = true;                      // sim target: network section
  std::string latency = "1ms";          // sim: sim::Distribution grammar
  std::string bandwidth = "10Gbps";     // sim
  std::string name;                     // scenario name (default: bench-<kind>-<path>)
};

// The load's shape after validation.
struct LoadPlan {
  uint64_t iterations = 0;          // repeat iterations (one message per publisher each)
  uint64_t messages = 0;            // iterations * publishers
  uint64_t expected_deliveries = 0; // messages * subscribers
  std::string iteration_rate;       // the repeat's rate text
};

// Checks the spec (errors have code "usage" and say which parameter is wrong).
Result<LoadPlan> PlanLoad(const LoadSpec& spec);
// The scenario YAML for the spec.
Result<std::string> LoadScenarioYaml(const LoadSpec& spec);
// The scenario itself (LoadScenarioYaml, then the loader).
Result<Scenario> BuildLoadScenario(const LoadSpec& spec);

}  // namespace wpsim::conformance
