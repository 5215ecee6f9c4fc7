// The MQTT family (MQTT 3.1.1 and 5.0 over WebSocket): the MQTT side of connect and disconnect,
// subscribe, unsubscribe and publish, and the connack, suback and puback expectations.
#pragma once

#include <cstdint>

#include "conformance/driver.h"

namespace wpsim::conformance {

void RegisterMqttFamily(FamilyRegistry& r);

// Connects MQTT member m (one client, and so one session state, across connects); done() when
// the CONNACK arrives or the transport ends. The CONNACK is recorded for step `s`.
std::function<bool()> ConnectMqtt(RunContext& cx, uint32_t m, const ConnectStep& c, const Step& s);
// Sends DISCONNECT for member m; appends the wait for the close when it was open.
void DisconnectMqtt(RunContext& cx, uint32_t step, uint32_t m, const DisconnectStep& d,
                    PendingList& out);

}  // namespace wpsim::conformance
