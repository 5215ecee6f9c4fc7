#include "conformance/steps/auth.h"

#include <algorithm>

#include "base/encoding.h"
#include "protocol/auth/hmac.h"
#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"

namespace wpsim::conformance {

namespace auth = protocol::auth;

std::string Token(RunContext& cx, uint32_t m, const TokenOptions& t) {
  const Client& c = cx.sc.ClientOf(m);
  const Member& mem = cx.sc.members[m];
  if (t.fault == TokenFault::kMissing) return "";
  if (t.fault == TokenFault::kMalformed) return "not-a-jwt";
  const int64_t now = cx.env.ClientRuntime(m).UnixNow() / sim::kSecond;
  int64_t iat = now;
  int64_t exp = now + t.lifetime_ns.value_or(3600 * sim::kSecond) / sim::kSecond;
  std::optional<int64_t> nbf;
  if (t.fault == TokenFault::kExpired) {
    iat = now - 7200;
    exp = now - 3600;
  }
  if (t.fault == TokenFault::kNotYetValid) nbf = now + 3600;
  const auth::ConnectionString& cs = cx.env.connection_string();
  const bool is_mqtt = IsMqtt(c.kind);
  std::string aud = t.audience.value_or(auth::ClientAudience(
      cs, cx.sc.hub, is_mqtt ? auth::ClientType::kMqtt : auth::ClientType::kDefault));
  if (t.fault == TokenFault::kWrongAudience) {
    aud = cs.Endpoint() + (is_mqtt ? "/clients/mqtt/hubs/not-" : "/client/hubs/not-") + cx.sc.hub;
  }
  auto omitted = [&t](std::string_view claim) {
    return std::find(t.omit.begin(), t.omit.end(), claim) != t.omit.end();
  };
  nlohmann::ordered_json payload = nlohmann::ordered_json::object();
  if (!c.roles.empty() && !omitted("role")) {
    if (t.role_as_string && c.roles.size() == 1) {
      payload["role"] = c.roles[0];
    } else {
      payload["role"] = c.roles;
    }
  }
  if (!c.groups.empty() && !omitted(t.group_claim)) payload[t.group_claim] = c.groups;
  if (!omitted("iat")) payload["iat"] = iat;
  if (nbf && !omitted("nbf")) payload["nbf"] = *nbf;
  if (t.fault != TokenFault::kNoExpiry && !omitted("exp")) payload["exp"] = exp;
  if (!omitted("aud")) payload["aud"] = aud;
  if (mem.user && !mem.user->empty() && !omitted("sub")) payload["sub"] = *mem.user;
  for (const auto& [name, value] : t.claims) payload[name] = value;
  const std::string key = t.fault == TokenFault::kWrongKey
                              ? std::string("a-different-key-of-sufficient-length-0123456789")
                              : cs.access_key;
  auto b64 = [](const std::string& s) {
    return Base64UrlEncode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  };
  // header.payload signed with HS256 under `key` (the header as written, whatever its alg).
  auto sign = [&](const std::string& text) {
    if (!t.header) return auth::Sign(text, key);
    std::string token = b64(*t.header) + "." + b64(text);
    const auth::Sha256Digest mac = auth::HmacSha256(key, token);
    return token + "." + Base64UrlEncode(mac);
  };
  std::string text = payload.dump();
  if (t.fault == TokenFault::kAlgNone) {
    const std::string header = R"({"alg":"none","typ":"JWT"})";
    return b64(header) + "." + b64(text) + ".";
  }
  std::string token = sign(text);
  if (t.pad_to_bytes && token.size() < *t.pad_to_bytes) {
    // Each byte of the `pad` claim adds 4/3 of a byte to the token: size the claim from the
    // shortfall, then grow it one byte at a time to the first length at or over the target.
    nlohmann::ordered_json padded = payload;
    padded["pad"] = "";
    const size_t base = sign(padded.dump()).size();
    size_t fill = base < *t.pad_to_bytes ? (*t.pad_to_bytes - base) * 3 / 4 : 0;
    for (;;) {
      padded["pad"] = std::string(fill, 'x');
      token = sign(padded.dump());
      if (token.size() >= *t.pad_to_bytes) break;
      ++fill;
    }
  }
  if (t.fault == TokenFault::kBadSignature && !token.empty()) {
    char& last = token[token.size() - 2];
    last = last == 'A' ? 'B' : 'A';
  }
  if (t.fault == TokenFault::kSignatureFirstByte) {
    // The signature's first base64url character holds the top six bits of its first byte.
    char& first = token[token.rfind('.') + 1];
    first = first == 'A' ? 'B' : 'A';
  }
  if (t.fault == TokenFault::kFourSegments) token += "." + b64("{}");
  return token;
}

}  // namespace wpsim::conformance
