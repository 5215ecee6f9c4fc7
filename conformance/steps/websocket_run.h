// The websocket family (plain WebSocket, json.webpubsub and json.reliable clients): connect,
// disconnect, kill, recover, joinGroup/leaveGroup, sendToGroup, event, sequenceAck, ping and raw
// frames, and the ack, closed and connected expectations. connect/disconnect/kill also serve
// MQTT members (through conformance/steps/mqtt_run.h).
#pragma once

#include "conformance/driver.h"

namespace wpsim::conformance {

void RegisterWebSocketFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
