// wpsim-load's wire helpers: the clock, the target address, the payload marker and the few
// client-side WebSocket frames and MQTT packets the driver sends. Hand-encoded on purpose: they
// are the load driver's hot path and stay independent of the service's own codecs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wpsim::load {

// Nanoseconds of CLOCK_MONOTONIC (one machine) or CLOCK_REALTIME (shards on several machines).
int64_t NowNs(bool realtime = false);
int64_t UnixSeconds();

// Where to connect: host, port, and whether MQTT runs over plain TCP (mqtt://).
struct Target {
  std::string host;
  uint16_t port = 0;
  bool mqtt_tcp = false;
};
// ws://HOST:PORT, http://HOST:PORT or mqtt://HOST:PORT.
bool ParseTarget(const std::string& text, Target* out, std::string* error);

// ---- payload marker: "M<seq:8 hex><send time:16 hex>", padded with 'x' to the size ----------
inline constexpr size_t kMarkerSize = 1 + 8 + 16;
void WriteHex(char* out, uint64_t value, int digits);
bool ReadHex(const char* in, int digits, uint64_t* value);
std::string MakePayload(uint32_t seq, int64_t sent_ns, uint32_t size);

// ---- MQTT packets and masked client WebSocket frames -----------------------------------------
inline constexpr int kMqttKeepAliveSeconds = 120;
inline constexpr int64_t kMqttPingIntervalNs = 60'000'000'000;

void AppendVarint(std::string* out, size_t value);
void AppendU16(std::string* out, size_t value);
void AppendMqttString(std::string* out, std::string_view s);
std::string MqttPacket(uint8_t first_byte, const std::string& body);
std::string MqttConnect(bool v5, const std::string& client_id);
std::string MqttSubscribe(bool v5, const std::string& topic);
std::string MqttPublish(bool v5, const std::string& topic, const std::string& payload);
// A masked client frame (RFC 6455 5.3); the masking key is fixed, which servers accept.
void AppendClientFrame(std::string* out, uint8_t opcode, std::string_view payload);

}  // namespace wpsim::load
