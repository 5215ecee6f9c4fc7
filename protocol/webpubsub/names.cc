#include "protocol/webpubsub/names.h"

#include <cstdint>

#include "base/encoding.h"

namespace wpsim::protocol::webpubsub {
namespace {

bool IsWhiteSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsValidGroupName(std::string_view group) {
  if (group.empty() || group.size() > 4 * kGroupNameLengthMax || !IsValidUtf8(group)) {
    return false;
  }
  size_t utf16_units = 0;
  bool all_space = true;
  for (size_t i = 0; i < group.size();) {
    const uint8_t c = static_cast<uint8_t>(group[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c, len = 1;
    } else if (c < 0xe0) {
      cp = c & 0x1f, len = 2;
    } else if (c < 0xf0) {
      cp = c & 0x0f, len = 3;
    } else {
      cp = c & 0x07, len = 4;
    }
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(group[i + k]) & 0x3f);
    i += len;
    utf16_units += cp >= 0x10000 ? 2 : 1;
    if (!IsWhiteSpace(cp)) all_space = false;
  }
  return !all_space && utf16_units <= kGroupNameLengthMax;
}

bool IsValidEventName(std::string_view event) {
  if (event.empty() || event.size() > kEventNameLengthMax || !IsAsciiLetter(event[0])) {
    return false;
  }
  for (char c : event.substr(1)) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsValidHubName(std::string_view hub) {
  if (hub.empty() || hub.size() > 128 || !IsAsciiLetter(hub[0])) return false;
  for (char c : hub.substr(1)) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '_' && c != '`' && c != ',' && c != '.' &&
        c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

}  // namespace wpsim::protocol::webpubsub
