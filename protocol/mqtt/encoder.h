// MQTT packet encoder: packet structs -> wire bytes, for 3.1.1 and 5.0.
//
// Encode appends to a caller-owned buffer, so a connection that reuses one output vector
// encodes without allocating once the vector has grown to its working size. The encoder
// checks only what cannot be represented on the wire (string or binary fields over 65,535
// bytes, variable byte integers over 268,435,455, a 3.1.1 CONNACK for a 5.0-only reason
// code, AUTH in 3.1.1); anything representable is written as given, in the version's layout,
// so tests can also build packets a receiver must reject. Properties are written in
// ascending identifier order and omitted entirely in 3.1.1. 5.0 acknowledgements use the
// short forms the spec allows (PUBACK with Success and no properties is 2 bytes after the
// fixed header, DISCONNECT with Normal disconnection and no properties is empty, ...).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/mqtt/types.h"

namespace wpsim::protocol::mqtt {

// Appends the encoding of `packet` to *out. On error nothing is appended.
Status Encode(const Packet& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Connect& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Connack& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Publish& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Puback& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Pubrec& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Pubrel& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Pubcomp& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Subscribe& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Suback& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Unsubscribe& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Unsuback& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Pingreq& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Pingresp& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Disconnect& packet, ProtocolVersion version, std::vector<uint8_t>* out);
Status Encode(const Auth& packet, ProtocolVersion version, std::vector<uint8_t>* out);

// The number of bytes Encode would append (the MQTT "packet size": fixed header included),
// or an error where Encode would fail. Sessions compare it with the peer's Maximum Packet
// Size ([MQTT-3.1.2-24], [MQTT-3.2.2-15]) before sending.
Result<size_t> EncodedSize(const Packet& packet, ProtocolVersion version);

// Variable Byte Integer helpers (section 1.5.5). Values above kMaxVariableByteInteger are a
// programmer error here.
size_t VariableByteIntegerSize(uint32_t value);
// Writes the minimal encoding to `out` (at least 4 bytes of room); returns bytes written.
size_t WriteVariableByteInteger(uint32_t value, uint8_t* out);

}  // namespace wpsim::protocol::mqtt
