#include "protocol/auth/jwt.h"

#include <limits>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/shared_bytes.h"
#include "protocol/auth/hmac.h"

namespace wpsim::protocol::auth {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Header of every token we sign: the bytes jsonwebtoken produces for HS256.
constexpr std::string_view kHeaderSegment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

// Deepest JSON nesting a header or payload may have. Claims never nest deeply; the bound keeps
// the recursive stringification of nested claim values off the edge of the stack.
constexpr int kJsonNestingMax = 32;

Error Fail(const char* code, std::string message) { return MakeError(code, std::move(message)); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Nesting depth of a JSON text, ignoring brackets inside strings. Stops counting at the limit.
int NestingDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > kJsonNestingMax) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// Decodes one base64url segment (no '=' padding allowed, RFC 7515 §2) into text.
std::optional<std::string> DecodeSegment(std::string_view segment) {
  if (segment.find('=') != std::string_view::npos) return std::nullopt;
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

template <typename Json>
std::optional<Json> ParseObject(const std::string& text) {
  if (NestingDepth(text) > kJsonNestingMax) return std::nullopt;
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

std::string ClaimValueText(const OrderedJson& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return std::string();
  // Strings inside nested values were validated as UTF-8 by the parser, so dump cannot throw.
  return v.dump();
}

// Reads a NumericDate (RFC 7519 §2): any JSON number, fractions truncated, clamped to int64.
std::optional<int64_t> NumericDate(const OrderedJson& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(u);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    constexpr double kLimit = 9.0e18;
    if (d >= kLimit) return std::numeric_limits<int64_t>::max();
    if (d <= -kLimit) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// A claim that is a string or an array of strings (role, webpubsub.group, aud).
bool AppendStrings(const OrderedJson& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return true;
  }
  if (!v.is_array()) return false;
  for (const auto& item : v) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}

Result<Claims> ReadClaims(const OrderedJson& payload, const VerifyOptions& options) {
  Claims claims;
  for (auto it = payload.begin(); it != payload.end(); ++it) {
    const std::string& name = it.key();
    const OrderedJson& value = it.value();
    ClaimValues entry{name, {}};
    if (value.is_array()) {
      for (const auto& item : value) entry.values.push_back(ClaimValueText(item));
    } else {
      entry.values.push_back(ClaimValueText(value));
    }
    claims.all.push_back(std::move(entry));

    auto bad = [&](const char* what) {
      return Fail(kJwtInvalidClaim, "claim '" + name + "' " + what);
    };
    if (name == "aud") {
      if (!AppendStrings(value, claims.audiences)) return bad("must be a string or strings");
    } else if (name == "sub") {
      if (!value.is_string()) return bad("must be a string");
      claims.subject = value.get<std::string>();
    } else if (name == "role") {
      if (!AppendStrings(value, claims.roles)) return bad("must be a string or strings");
    } else if (name == "webpubsub.group") {
      if (!AppendStrings(value, claims.groups)) return bad("must be a string or strings");
    } else if (name == "exp" || name == "nbf" || name == "iat") {
      auto date = NumericDate(value);
      if (!date) return bad("must be a number");
      (name == "exp" ? claims.expires_at : name == "nbf" ? claims.not_before : claims.issued_at) =
          *date;
    }
  }
  if (options.accept_group_claim) {
    auto it = payload.find("group");
    if (it != payload.end() && !AppendStrings(*it, claims.groups)) {
      return Fail(kJwtInvalidClaim, "claim 'group' must be a string or strings");
    }
  }
  return claims;
}

}  // namespace

std::string Sign(std::string_view payload_json, std::string_view key) {
  std::string token;
  token.reserve(kHeaderSegment.size() + payload_json.size() * 4 / 3 + 48);
  token += kHeaderSegment;
  token += '.';
  token += Base64UrlEncode(AsBytes(payload_json));
  const Sha256Digest mac = HmacSha256(key, token);
  token += '.';
  token += Base64UrlEncode(mac);
  return token;
}

Result<Claims> Verify(std::string_view token, std::string_view key, const VerifyOptions& options) {
  const std::string keys[] = {std::string(key)};
  return Verify(token, keys, options);
}

Result<Claims> Verify(std::string_view token, std::span<const std::string> keys,
                      const VerifyOptions& options) {
  WPSIM_ASSERT(!keys.empty());
  WPSIM_ASSERT(options.clock_skew_seconds >= 0 && options.clock_skew_seconds < (int64_t{1} << 40));
  if (token.size() > kJwtTokenBytesMax) return Fail(kJwtMalformed, "token too long");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail(kJwtMalformed, "a JWT has exactly three segments");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  auto header_text = DecodeSegment(header_b64);
  if (!header_text) return Fail(kJwtMalformed, "header is not base64url");
  auto header = ParseObject<nlohmann::json>(*header_text);
  if (!header) return Fail(kJwtMalformed, "header is not a JSON object");
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) {
    return Fail(kJwtMalformed, "header has no string 'alg'");
  }
  const std::string& alg_name = alg->get_ref<const std::string&>();
  if (EqualsIgnoreCase(alg_name, "none")) return Fail(kJwtAlgNone, "unsecured JWT (alg none)");
  if (alg_name != "HS256") return Fail(kJwtUnsupportedAlg, "only HS256 is accepted");
  auto typ = header->find("typ");
  if (typ != header->end() &&
      (!typ->is_string() || !EqualsIgnoreCase(typ->get_ref<const std::string&>(), "JWT"))) {
    return Fail(kJwtInvalidTyp, "header 'typ' is not JWT");
  }

  auto signature = signature_b64.find('=') == std::string_view::npos
                       ? Base64UrlDecode(signature_b64)
                       : std::nullopt;
  if (!signature) return Fail(kJwtMalformed, "signature is not base64url");
  const std::string_view signed_part = token.substr(0, dot2);
  bool signature_ok = false;
  for (const std::string& key : keys) {
    // Every key is tried even after a match, so timing does not reveal which key signed.
    if (ConstantTimeEqual(HmacSha256(key, signed_part), *signature)) signature_ok = true;
  }
  if (!signature_ok) return Fail(kJwtBadSignature, "signature does not match");

  auto payload_text = DecodeSegment(payload_b64);
  if (!payload_text) return Fail(kJwtMalformed, "payload is not base64url");
  auto payload = ParseObject<OrderedJson>(*payload_text);
  if (!payload) return Fail(kJwtMalformed, "payload is not a JSON object");
  Result<Claims> claims = ReadClaims(*payload, options);
  if (!claims.ok()) return claims;

  const int64_t now = options.now_unix_seconds;
  const int64_t skew = options.clock_skew_seconds;
  if (!claims->expires_at) {
    if (options.require_exp) return Fail(kJwtMissingExp, "token has no 'exp'");
  } else if (now - skew >= *claims->expires_at) {
    return Fail(kJwtExpired, "token expired");
  }
  if (claims->not_before && now + skew < *claims->not_before) {
    return Fail(kJwtNotYetValid, "token not valid yet (nbf)");
  }
  if (!options.audiences.empty()) {
    bool matched = false;
    for (const std::string& expected : options.audiences) {
      for (const std::string& aud : claims->audiences) {
        if (options.audience_match == AudienceMatch::kExact ? aud == expected
                                                            : EqualsIgnoreCase(aud, expected)) {
          matched = true;
        }
      }
    }
    if (!matched) return Fail(kJwtAudienceMismatch, "no 'aud' matches the expected audience");
  }
  return claims;
}

}  // namespace wpsim::protocol::auth
