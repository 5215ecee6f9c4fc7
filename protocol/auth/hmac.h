// HMAC-SHA256 helpers (mbedTLS) shared by JWT signing and the CloudEvents `ce-signature`
// header (PROTOCOL.md §12.3). Keys are always the UTF-8 bytes of the AccessKey string.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wpsim::protocol::auth {

inline constexpr size_t kSha256DigestBytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256DigestBytes>;

Sha256Digest HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths, never on where the bytes differ.
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

// `sha256=<hex(HMAC_SHA256(key, connection_id))>` for each key, comma-joined in key order
// (primary first), lower-case hex: the value of the upstream `ce-signature` header.
std::string CloudEventSignature(std::span<const std::string> access_keys,
                                std::string_view connection_id);
std::string CloudEventSignature(std::string_view access_key, std::string_view connection_id);

// True when any comma-separated `sha256=<hex>` entry of `header_value` matches the signature of
// `connection_id` under any of `access_keys` (what an event handler checks; the express SDK
// accepts a request when one of the entries matches). Hex comparison is case-insensitive.
bool VerifyCloudEventSignature(std::string_view header_value,
                               std::span<const std::string> access_keys,
                               std::string_view connection_id);

}  // namespace wpsim::protocol::auth
