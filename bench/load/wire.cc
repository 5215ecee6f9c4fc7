#include "bench/load/wire.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace wpsim::load {

int64_t NowNs(bool realtime) {
  timespec ts{};
  clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t UnixSeconds() { return static_cast<int64_t>(time(nullptr)); }

bool ParseTarget(const std::string& text, Target* out, std::string* error) {
  std::string rest;
  if (text.rfind("ws://", 0) == 0) {
    rest = text.substr(5);
  } else if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("mqtt://", 0) == 0) {
    rest = text.substr(7);
    out->mqtt_tcp = true;
  } else {
    *error = "--target must start with ws://, http:// or mqtt:// (TLS is not supported by this driver)";
    return false;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    *error = "--target needs an explicit port, e.g. ws://127.0.0.1:8080";
    return false;
  }
  out->host = rest.substr(0, colon);
  const long port = std::strtol(rest.c_str() + colon + 1, nullptr, 10);
  if (port <= 0 || port > 65535) {
    *error = "--target has an invalid port in '" + text + "'";
    return false;
  }
  out->port = static_cast<uint16_t>(port);
  return true;
}

// ---- payload marker ---------------------------------------------------------------------------

void WriteHex(char* out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[value & 0xf];
    value >>= 4;
  }
}

bool ReadHex(const char* in, int digits, uint64_t* value) {
  uint64_t v = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = in[i];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *value = v;
  return true;
}

std::string MakePayload(uint32_t seq, int64_t sent_ns, uint32_t size) {
  std::string p(std::max<size_t>(size, kMarkerSize), 'x');
  p[0] = 'M';
  WriteHex(p.data() + 1, seq, 8);
  WriteHex(p.data() + 9, static_cast<uint64_t>(sent_ns), 16);
  return p;
}

// ---- wire helpers -----------------------------------------------------------------------------

void AppendVarint(std::string* out, size_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value) byte |= 0x80;
    out->push_back(static_cast<char>(byte));
  } while (value);
}

void AppendU16(std::string* out, size_t value) {
  out->push_back(static_cast<char>((value >> 8) & 0xff));
  out->push_back(static_cast<char>(value & 0xff));
}

void AppendMqttString(std::string* out, std::string_view s) {
  AppendU16(out, s.size());
  out->append(s);
}

std::string MqttPacket(uint8_t first_byte, const std::string& body) {
  std::string out(1, static_cast<char>(first_byte));
  AppendVarint(&out, body.size());
  out += body;
  return out;
}

std::string MqttConnect(bool v5, const std::string& client_id) {
  std::string body;
  AppendMqttString(&body, "MQTT");
  body.push_back(static_cast<char>(v5 ? 5 : 4));
  body.push_back(0x02);  // clean session / clean start
  AppendU16(&body, kMqttKeepAliveSeconds);  // wpsim refuses 0 on 3.1.1 (1-180 s)
  if (v5) body.push_back(0);
  AppendMqttString(&body, client_id);
  return MqttPacket(0x10, body);
}

std::string MqttSubscribe(bool v5, const std::string& topic) {
  std::string body;
  AppendU16(&body, 1);
  if (v5) body.push_back(0);
  AppendMqttString(&body, topic);
  body.push_back(0);  // QoS 0
  return MqttPacket(0x82, body);
}

std::string MqttPublish(bool v5, const std::string& topic, const std::string& payload) {
  std::string body;
  AppendMqttString(&body, topic);
  if (v5) body.push_back(0);
  body += payload;
  return MqttPacket(0x30, body);
}

void AppendClientFrame(std::string* out, uint8_t opcode, std::string_view payload) {
  static constexpr uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};
  out->push_back(static_cast<char>(0x80 | opcode));
  const size_t n = payload.size();
  if (n < 126) {
    out->push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    out->push_back(static_cast<char>(0x80 | 126));
    AppendU16(out, n);
  } else {
    out->push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((uint64_t{n} >> (8 * i)) & 0xff));
  }
  out->append(reinterpret_cast<const char*>(kMask), 4);
  const size_t start = out->size();
  out->append(payload);
  for (size_t i = 0; i < n; ++i) (*out)[start + i] = static_cast<char>((*out)[start + i] ^ kMask[i & 3]);
}

}  // namespace wpsim::load
