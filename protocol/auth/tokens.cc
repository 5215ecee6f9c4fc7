#include "protocol/auth/tokens.h"

#include <nlohmann/json.hpp>

#include "protocol/auth/jwt.h"

namespace wpsim::protocol::auth {
namespace {

// JSON.stringify and nlohmann agree on escaping for valid UTF-8 (control characters as \b \f
// \n \r \t or lower-case \u00xx, nothing else escaped). Invalid UTF-8 becomes U+FFFD.
std::string Dump(const nlohmann::ordered_json& payload) {
  return payload.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::string BuildClientTokenForAudience(std::string_view audience,
                                        const ClientTokenOptions& options,
                                        std::string_view access_key) {
  // Key order follows jsonwebtoken: the SDK's payload object (role, webpubsub.group), then
  // iat, exp, then the options mapped to claims (aud, sub).
  nlohmann::ordered_json payload = nlohmann::ordered_json::object();
  if (options.roles) payload["role"] = *options.roles;
  if (options.groups) payload["webpubsub.group"] = *options.groups;
  payload["iat"] = options.issued_at;
  payload["exp"] = options.expires_at;
  payload["aud"] = std::string(audience);
  if (options.user_id && !options.user_id->empty()) payload["sub"] = *options.user_id;
  return Sign(Dump(payload), access_key);
}

std::string BuildClientToken(const ConnectionString& cs, std::string_view hub,
                             const ClientTokenOptions& options) {
  return BuildClientTokenForAudience(ClientAudience(cs, hub, options.client_type), options,
                                     cs.access_key);
}

std::string BuildRestToken(std::string_view request_url, int64_t issued_at, int64_t expires_at,
                           std::string_view access_key) {
  nlohmann::ordered_json payload = nlohmann::ordered_json::object();
  payload["iat"] = issued_at;
  payload["exp"] = expires_at;
  payload["aud"] = std::string(request_url);
  return Sign(Dump(payload), access_key);
}

}  // namespace wpsim::protocol::auth
