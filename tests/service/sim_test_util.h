// Helpers shared by the service simulation tests: run the simulated network for a while and pick
// a client's observations of one kind.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "clients/observation.h"
#include "sim/sim_network.h"

namespace wpsim::service::testing {

// Lets `duration` of virtual time pass; fails the test when the network reports an error.
inline void RunNetwork(sim::SimNetwork& net, sim::Nanos duration) {
  Status s = net.RunFor(duration);
  ASSERT_TRUE(s.ok()) << s.error().message;
}

// The observations of `kind` a simulated client (WsClient, MqttClient) recorded, in order.
template <typename Client>
std::vector<const clients::Observation*> ObservationsOf(const Client& client,
                                                        clients::Observation::Kind kind) {
  std::vector<const clients::Observation*> out;
  for (const clients::Observation& o : client.observations()) {
    if (o.kind == kind) out.push_back(&o);
  }
  return out;
}

}  // namespace wpsim::service::testing
