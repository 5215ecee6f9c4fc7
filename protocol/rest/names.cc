#include "protocol/rest/names.h"

#include <cstdint>

#include "base/encoding.h"

namespace wpsim::protocol::rest {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Decodes one code point of valid UTF-8 at text[i]; advances i.
uint32_t DecodeAt(std::string_view text, size_t& i) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : 1;
  uint32_t cp = b0 & (0x3F >> extra);
  ++i;
  for (int k = 0; k < extra && i < text.size(); ++k, ++i) {
    cp = (cp << 6) | (static_cast<uint8_t>(text[i]) & 0x3F);
  }
  return cp;
}

// .NET char.IsWhiteSpace: Unicode categories Zs, Zl, Zp plus U+0009..U+000D, U+0085.
bool IsUnicodeWhiteSpace(uint32_t cp) {
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0) return true;
  if (cp < 0x1680) return false;
  return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

bool IsValidHubName(std::string_view hub) {
  if (hub.empty() || hub.size() > kHubNameLengthMax || !IsAsciiLetter(hub[0])) return false;
  for (char c : hub.substr(1)) {
    if (IsAsciiLetter(c) || IsAsciiDigit(c)) continue;
    switch (c) {
      case '_':
      case '`':
      case ',':
      case '.':
      case '[':
      case ']':
        continue;
      default:
        return false;
    }
  }
  return true;
}

std::string HubKey(std::string_view hub) {
  std::string key(hub);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

std::optional<size_t> Utf16Length(std::string_view text) {
  if (!IsValidUtf8(text)) return std::nullopt;
  size_t units = 0;
  for (char c : text) {
    const auto b = static_cast<uint8_t>(c);
    if ((b & 0xC0) != 0x80) ++units;  // a lead byte starts one code point
    if (b >= 0xF0) ++units;           // supplementary planes need a surrogate pair
  }
  return units;
}

bool IsAllWhiteSpace(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (!IsUnicodeWhiteSpace(DecodeAt(text, i))) return false;
  }
  return true;
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

bool IsValidGroupName(std::string_view group) {
  const std::optional<size_t> length = Utf16Length(group);
  if (!length || *length == 0 || *length > kGroupNameLengthMax) return false;
  return !IsAllWhiteSpace(group);
}

}  // namespace wpsim::protocol::rest
