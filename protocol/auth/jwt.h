// JWT with HS256 only (RFC 7519 / RFC 7515 compact serialisation), as used by Azure Web PubSub
// for client access tokens and REST bearer tokens (PROTOCOL.md §2.1, §2.3).
//
// Verification order (each failure has its own Error.code, see kJwt* below):
//   1. shape: at most kJwtTokenBytesMax bytes, exactly three '.'-separated segments;
//   2. header: base64url → JSON object; `alg` "none" → kJwtAlgNone, anything but "HS256" →
//      kJwtUnsupportedAlg; `typ`, when present, must be "JWT" (case-insensitive);
//   3. signature: HMAC-SHA256 over "<header>.<payload>" with each key, compared in constant
//      time, before the payload is parsed at all;
//   4. payload: base64url → JSON object; registered claims type-checked (kJwtInvalidClaim);
//   5. time: exp (required by default), nbf, with a symmetric clock skew; `now` is an argument;
//   6. audience against the expected list (exact or case-insensitive).
// The key is the UTF-8 bytes of the AccessKey string, never its base64 decoding.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace wpsim::protocol::auth {

// Error.code values of Verify (stable; callers map them to HTTP 401 and log them).
inline constexpr char kJwtMalformed[] = "jwt_malformed";              // shape, base64url, JSON
inline constexpr char kJwtAlgNone[] = "jwt_alg_none";                 // unsecured JWT
inline constexpr char kJwtUnsupportedAlg[] = "jwt_unsupported_alg";   // not HS256
inline constexpr char kJwtInvalidTyp[] = "jwt_invalid_typ";           // typ present, not JWT
inline constexpr char kJwtBadSignature[] = "jwt_bad_signature";
inline constexpr char kJwtInvalidClaim[] = "jwt_invalid_claim";       // e.g. exp not a number
inline constexpr char kJwtMissingExp[] = "jwt_missing_exp";
inline constexpr char kJwtExpired[] = "jwt_expired";
inline constexpr char kJwtNotYetValid[] = "jwt_not_yet_valid";        // nbf in the future
inline constexpr char kJwtAudienceMismatch[] = "jwt_audience_mismatch";

// Longest token Verify looks at; longer input is kJwtMalformed without decoding.
inline constexpr size_t kJwtTokenBytesMax = 64 * 1024;

enum class AudienceMatch : uint8_t {
  kExact,            // byte-for-byte
  kCaseInsensitive,  // ASCII case folding (the Microsoft emulator's rule)
};

struct VerifyOptions {
  int64_t now_unix_seconds = 0;
  int64_t clock_skew_seconds = 0;  // applied to exp and nbf
  // The token must carry at least one `aud` equal (per audience_match) to one of these.
  // Empty: the audience is not checked.
  std::vector<std::string> audiences;
  AudienceMatch audience_match = AudienceMatch::kExact;
  bool require_exp = true;
  // Also read initial groups from a `group` claim (PROTOCOL.md §2.1 CONFLICT: the MQTT how-to
  // names it `group`, every SDK `webpubsub.group`). Values are appended after webpubsub.group.
  bool accept_group_claim = false;
};

// One claim of the payload as the upstream `connect` event's `claims` map wants it: the claim
// name and its values as strings. Strings stay as they are, numbers and booleans become their
// JSON text, an array contributes one value per element (nested arrays/objects as compact JSON),
// an object is one compact JSON value, null is one empty string.
struct ClaimValues {
  std::string name;
  std::vector<std::string> values;
  bool operator==(const ClaimValues&) const = default;
};

struct Claims {
  std::vector<std::string> audiences;         // aud: a string becomes one element
  std::optional<std::string> subject;         // sub: the user id
  std::vector<std::string> roles;             // role: array or single string
  std::vector<std::string> groups;            // webpubsub.group (+ group if accepted)
  std::optional<int64_t> expires_at;          // exp, unix seconds (fractions truncated)
  std::optional<int64_t> not_before;          // nbf
  std::optional<int64_t> issued_at;           // iat
  std::vector<ClaimValues> all;               // every claim in payload order, registered too
};

// Signs `payload_json` verbatim under the header {"alg":"HS256","typ":"JWT"} (the exact header
// jsonwebtoken emits). The payload is not validated: callers pass a JSON object's text.
std::string Sign(std::string_view payload_json, std::string_view key);

Result<Claims> Verify(std::string_view token, std::string_view key, const VerifyOptions& options);
// Accepts a token signed with any of `keys` (primary and secondary access key).
Result<Claims> Verify(std::string_view token, std::span<const std::string> keys,
                      const VerifyOptions& options);

}  // namespace wpsim::protocol::auth
