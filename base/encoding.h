// Small encodings used by several codecs: base64 (standard and URL alphabets), lower-case hex,
// and UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wpsim {

std::string Base64Encode(std::span<const uint8_t> data);
std::string Base64UrlEncode(std::span<const uint8_t> data);  // no padding (RFC 7515)
// Strict: rejects characters outside the alphabet and bad padding; nullopt on error.
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);
// Accepts input with or without '=' padding.
std::optional<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);
std::string HexEncode(std::span<const uint8_t> data);

// Incremental UTF-8 validator (for fragmented WebSocket text messages).
class Utf8Validator {
 public:
  // Feeds bytes; returns false as soon as the input can no longer be valid UTF-8.
  bool Feed(std::span<const uint8_t> data);
  // True when everything fed so far is complete, valid UTF-8.
  bool Complete() const { return state_ == 0; }
  void Reset() { state_ = 0; }

 private:
  uint32_t state_ = 0;
};

bool IsValidUtf8(std::string_view text);

}  // namespace wpsim
