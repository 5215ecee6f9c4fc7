#include "protocol/auth/hmac.h"

#include <mbedtls/md.h>

#include "base/encoding.h"
#include "base/result.h"
#include "base/shared_bytes.h"

namespace wpsim::protocol::auth {

Sha256Digest HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Sha256Digest out{};
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  WPSIM_ASSERT(info != nullptr);
  // mbedTLS only fails on a null md_info, which the assertion above already excludes.
  const int rc = mbedtls_md_hmac(info, key.data(), key.size(), data.data(), data.size(),
                                 out.data());
  WPSIM_ASSERT(rc == 0);
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  return HmacSha256(AsBytes(key), AsBytes(data));
}

bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = static_cast<uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

std::string CloudEventSignature(std::span<const std::string> access_keys,
                                std::string_view connection_id) {
  std::string out;
  for (const std::string& key : access_keys) {
    if (!out.empty()) out += ',';
    out += "sha256=";
    out += HexEncode(HmacSha256(key, connection_id));
  }
  return out;
}

std::string CloudEventSignature(std::string_view access_key, std::string_view connection_id) {
  const std::string keys[] = {std::string(access_key)};
  return CloudEventSignature(keys, connection_id);
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool VerifyCloudEventSignature(std::string_view header_value,
                               std::span<const std::string> access_keys,
                               std::string_view connection_id) {
  bool matched = false;
  while (true) {
    const size_t comma = header_value.find(',');
    std::string_view entry = Trim(header_value.substr(0, comma));
    constexpr std::string_view kPrefix = "sha256=";
    if (entry.size() == kPrefix.size() + 2 * kSha256DigestBytes &&
        entry.substr(0, kPrefix.size()) == kPrefix) {
      std::string_view hex = entry.substr(kPrefix.size());
      Sha256Digest given{};
      bool hex_ok = true;
      for (size_t i = 0; i < kSha256DigestBytes; ++i) {
        const int hi = HexValue(hex[2 * i]);
        const int lo = HexValue(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) hex_ok = false;
        given[i] = static_cast<uint8_t>(((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo));
      }
      if (hex_ok) {
        for (const std::string& key : access_keys) {
          if (ConstantTimeEqual(HmacSha256(key, connection_id), given)) matched = true;
        }
      }
    }
    if (comma == std::string_view::npos) break;
    header_value.remove_prefix(comma + 1);
  }
  return matched;
}

}  // namespace wpsim::protocol::auth
