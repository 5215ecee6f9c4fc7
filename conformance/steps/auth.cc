#include "conformance/steps/auth.h"

#include "base/encoding.h"
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
  nlohmann::ordered_json payload = nlohmann::ordered_json::object();
  if (!c.roles.empty()) {
    if (t.role_as_string && c.roles.size() == 1) {
      payload["role"] = c.roles[0];
    } else {
      payload["role"] = c.roles;
    }
  }
  if (!c.groups.empty()) payload[t.group_claim] = c.groups;
  payload["iat"] = iat;
  if (nbf) payload["nbf"] = *nbf;
  if (t.fault != TokenFault::kNoExpiry) payload["exp"] = exp;
  payload["aud"] = aud;
  if (mem.user && !mem.user->empty()) payload["sub"] = *mem.user;
  for (const auto& [name, value] : t.claims) payload[name] = value;
  const std::string text = payload.dump();
  const std::string key = t.fault == TokenFault::kWrongKey
                              ? std::string("a-different-key-of-sufficient-length-0123456789")
                              : cs.access_key;
  if (t.fault == TokenFault::kAlgNone) {
    const std::string header = R"({"alg":"none","typ":"JWT"})";
    auto b64 = [](const std::string& s) {
      return Base64UrlEncode(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    };
    return b64(header) + "." + b64(text) + ".";
  }
  std::string token = auth::Sign(text, key);
  if (t.fault == TokenFault::kBadSignature && !token.empty()) {
    char& last = token[token.size() - 2];
    last = last == 'A' ? 'B' : 'A';
  }
  return token;
}

}  // namespace wpsim::conformance
