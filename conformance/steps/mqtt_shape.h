// The MQTT family's YAML shape: client CONNECT options, Will, PUBLISH properties, the subscribe,
// unsubscribe and publish steps, and the CONNACK check.
#pragma once

#include <optional>

#include "conformance/shape/binding.h"

namespace wpsim::conformance::shape {

// The MQTT keys of a client definition, and the ones only mqtt5 clients take.
const Table<Client>& MqttClientTable();
const Keys& Mqtt5OnlyClientKeys();
void ReadMqttClientOptions(Context& c, const Map& m, Client& client);

// keepalive: whole seconds up to 65535.
ValueType<uint16_t> KeepaliveValue();

// CONNACK expectations (the connack expectation and connect's expect_connack).
const Table<ConnackExpect>& ConnackTable();
std::optional<ConnackExpect> ReadConnack(Context& c, const Node& n, const ClientRef& clients);

}  // namespace wpsim::conformance::shape
