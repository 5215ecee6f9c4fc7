// What the MQTT connection, handshake and session files of the reference service share
// (service/mqtt_connection.cc, mqtt_connect.cc, mqtt_session.cc): the protocol namespaces'
// short names and the payload helpers (defined in mqtt_session.cc). Internal to those files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/auth/jwt.h"
#include "protocol/mqtt/types.h"
#include "protocol/webpubsub/payload.h"
#include "protocol/websocket/frame.h"

namespace wpsim::service {

namespace mqtt = protocol::mqtt;
namespace ws = protocol::websocket;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;

using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

// The bytes as text (no copy).
std::string_view AsText(std::span<const uint8_t> bytes);

// The Web PubSub payload of an MQTT application message (§10.5): the 5.0 content type gives
// the dataType, 3.1.1 is always binary; text and json must be UTF-8 (json also valid JSON).
std::optional<wps::Payload> PayloadOf(ProtocolVersion version, const mqtt::Properties& properties,
                                      std::span<const uint8_t> bytes);

// Properties of a received PUBLISH (or will) that the server forwards unaltered
// ([MQTT-3.3.2-4], -15, -16, -17, -20); topic alias and subscription ids are per hop.
mqtt::Properties ForwardedProperties(const mqtt::Properties& in);

}  // namespace wpsim::service
