// Builders for the two kinds of HS256 tokens the SDKs mint locally from an AccessKey:
// the client access token (getClientAccessToken, PROTOCOL.md §2.1) and the REST bearer token
// (PROTOCOL.md §2.3). Output is byte-identical to @azure/web-pubsub 1.2.0 (jsonwebtoken 9) for
// the same inputs and issue time: payload key order role, webpubsub.group, iat, exp, aud, sub.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/auth/connection_string.h"

namespace wpsim::protocol::auth {

struct ClientTokenOptions {
  std::optional<std::string> user_id;  // `sub`; nullopt or "" ⇒ anonymous (no sub), as in JS
  // nullopt ⇒ claim omitted; an empty vector is written as [] (the SDK does the same).
  std::optional<std::vector<std::string>> roles;
  std::optional<std::vector<std::string>> groups;
  int64_t issued_at = 0;   // iat, unix seconds (the simulation's `now`)
  int64_t expires_at = 0;  // exp; the SDK default is issued_at + 3600
  ClientType client_type = ClientType::kDefault;
};

// The client access token for `hub`; its audience is ClientAudience(cs, hub, client_type).
std::string BuildClientToken(const ConnectionString& cs, std::string_view hub,
                             const ClientTokenOptions& options);
// Same, from an explicit audience (e.g. a token for a service reached through a proxy).
std::string BuildClientTokenForAudience(std::string_view audience,
                                        const ClientTokenOptions& options,
                                        std::string_view access_key);

// REST bearer token: payload {"iat":..,"exp":..,"aud":"<request_url>"} where request_url is the
// full URL including the query (what JS and .NET both send, PROTOCOL.md §2.3 CONFLICT).
std::string BuildRestToken(std::string_view request_url, int64_t issued_at, int64_t expires_at,
                           std::string_view access_key);

}  // namespace wpsim::protocol::auth
