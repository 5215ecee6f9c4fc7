// Shared fixtures for the MQTT codec tests: hex parsing and one rich sample of every packet
// type per version and direction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"
#include "protocol/mqtt/types.h"

namespace wpsim::protocol::mqtt::testing {

// "10 0d 00 04" or "100d0004" -> bytes. Aborts the test binary on bad input.
std::vector<uint8_t> Hex(std::string_view text);
std::string ToHex(const std::vector<uint8_t>& bytes);

struct Sample {
  std::string name;
  Packet packet;
};
// CONNECT first, then every packet type a Client sends (PUBLISH in several shapes).
std::vector<Sample> ClientToServerSamples(ProtocolVersion version);
// CONNACK first, then every packet type a Server sends.
std::vector<Sample> ServerToClientSamples(ProtocolVersion version);

std::vector<uint8_t> EncodeAll(const std::vector<Sample>& samples, ProtocolVersion version);

// Decodes `bytes` fed in chunks of `chunk` bytes (0: all at once). Stops at the first error;
// `error` (if given) receives it.
std::vector<Packet> DecodeAll(const std::vector<uint8_t>& bytes, DecoderOptions options,
                              size_t chunk, DecodeError* error = nullptr);

std::string Describe(const Packet& packet);

}  // namespace wpsim::protocol::mqtt::testing
