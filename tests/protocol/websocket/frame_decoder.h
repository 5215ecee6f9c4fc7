// A deliberately independent, minimal frame decoder for tests: lists the frames in a byte
// string as readable lines, e.g.  text "Hello"   ping masked ""   close 1002 "reason".
// Non-final frames are marked "nofin"; a truncated tail is reported as "partial".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/protocol/http/case_file.h"

namespace wpsim::testing {

struct DecodedFrame {
  bool fin = true;
  uint8_t rsv = 0;
  uint8_t opcode = 0;
  bool masked = false;
  std::string payload;  // unmasked
};

inline std::vector<DecodedFrame> DecodeFrames(const std::string& bytes, bool* partial = nullptr) {
  std::vector<DecodedFrame> out;
  size_t p = 0;
  if (partial) *partial = false;
  while (p < bytes.size()) {
    auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    if (bytes.size() - p < 2) break;
    DecodedFrame f;
    f.fin = (byte(p) & 0x80) != 0;
    f.rsv = (byte(p) >> 4) & 7;
    f.opcode = byte(p) & 0xF;
    f.masked = (byte(p + 1) & 0x80) != 0;
    uint64_t len = byte(p + 1) & 0x7F;
    size_t h = p + 2;
    if (len == 126) {
      if (bytes.size() < h + 2) break;
      len = (uint64_t{byte(h)} << 8) | byte(h + 1);
      h += 2;
    } else if (len == 127) {
      if (bytes.size() < h + 8) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | byte(h + i);
      h += 8;
    }
    uint8_t mask[4] = {0, 0, 0, 0};
    if (f.masked) {
      if (bytes.size() < h + 4) break;
      for (int i = 0; i < 4; ++i) mask[i] = byte(h + i);
      h += 4;
    }
    if (bytes.size() - h < len) break;
    f.payload = bytes.substr(h, len);
    for (size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ mask[i % 4]);
    out.push_back(f);
    p = h + len;
  }
  if (partial && p < bytes.size()) *partial = true;
  return out;
}

inline std::string DescribeFrame(const DecodedFrame& f) {
  static const char* kNames[16] = {"continuation", "text", "binary", "op3", "op4", "op5", "op6",
                                   "op7", "close", "ping", "pong", "opB", "opC", "opD", "opE", "opF"};
  std::string s = kNames[f.opcode];
  if (!f.fin) s += " nofin";
  if (f.rsv) s += " rsv" + std::to_string(f.rsv);
  if (f.masked) s += " masked";
  if (f.opcode == 8 && f.payload.size() >= 2) {
    const int code = (static_cast<uint8_t>(f.payload[0]) << 8) | static_cast<uint8_t>(f.payload[1]);
    s += " " + std::to_string(code) + " \"" + Escape(f.payload.substr(2)) + "\"";
  } else if (f.payload.size() > 64) {
    s += " <" + std::to_string(f.payload.size()) + " bytes>";
  } else {
    s += " \"" + Escape(f.payload) + "\"";
  }
  return s;
}

inline std::vector<std::string> DescribeFrames(const std::string& bytes) {
  bool partial = false;
  std::vector<std::string> lines;
  for (const DecodedFrame& f : DecodeFrames(bytes, &partial)) lines.push_back(DescribeFrame(f));
  if (partial) lines.push_back("partial");
  return lines;
}

}  // namespace wpsim::testing
