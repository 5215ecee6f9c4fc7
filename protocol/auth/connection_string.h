// Web PubSub connection strings and the URLs and token audiences derived from them
// (PROTOCOL.md §1.3, §1.4), matching @azure/web-pubsub 1.2.0 (tests/data/jwt/sdk_vectors.json).
//
// Parse rules: pairs separated by ';', each split at its first '='; keys case-insensitive;
// keys and values trimmed of spaces/tabs; empty segments ignored; a segment without '=' or a
// duplicate key is an error (the .NET rule; JS silently keeps the last); Endpoint and AccessKey
// are required and non-empty; an endpoint without a scheme gets "https://"; only http and https
// are accepted; `Port` (1..65535) overrides the endpoint's port; a port equal to the scheme's
// default is dropped (as WHATWG URL and .NET Uri do); scheme and host are lower-cased; a
// trailing '/' is removed. Unknown keys (other than Version) are kept for Print.
//
// Known difference from the JS SDK: it tests `startsWith("http")` case-sensitively, so
// "Endpoint=HTTPS://host" becomes a mangled "https://https//host"; wpsim reads the scheme.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace wpsim::protocol::auth {

inline constexpr char kConnectionStringInvalid[] = "connection_string_invalid";
// Longest connection string Parse accepts.
inline constexpr size_t kConnectionStringBytesMax = 8 * 1024;

struct ConnectionString {
  std::string scheme;      // "http" or "https"
  std::string host;        // lower-case; IPv6 literals keep their brackets
  std::optional<uint16_t> port;  // nullopt: the scheme's default port
  std::string path;        // "" or "/prefix" (no trailing '/')
  std::string access_key;
  std::optional<std::string> version;
  std::vector<std::pair<std::string, std::string>> extra;  // unknown keys, in input order

  // "<scheme>://<host>[:<port>]<path>", no trailing '/'. The REST base URL: requests go to
  // Endpoint() + "/api/hubs/<hub>/...".
  std::string Endpoint() const;
  bool operator==(const ConnectionString&) const = default;
};

Result<ConnectionString> ParseConnectionString(std::string_view text);
// "Endpoint=<Endpoint()>;AccessKey=<key>;[Port=<p>;]" + "Version=<v>;" when present + extras.
// The port is printed inside the endpoint, so Parse(Print(x)) == x (modulo the Port key).
std::string PrintConnectionString(const ConnectionString& cs);

enum class ClientType : uint8_t {
  kDefault,   // /client/hubs/{hub}
  kMqtt,      // /clients/mqtt/hubs/{hub}
  kSocketIo,  // /clients/socketio/hubs/{hub}
};

// "client/hubs/<hub>" etc., without a leading '/'; the hub is not escaped (as in the JS SDK).
std::string ClientRelativePath(std::string_view hub, ClientType type);
// The client `aud`: "<http(s) endpoint>/client/hubs/<hub>" (PROTOCOL.md §2.1).
std::string ClientAudience(const ConnectionString& cs, std::string_view hub, ClientType type);
// The WebSocket base URL: the endpoint with http→ws, https→wss, + the relative path. The JS SDK's
// `baseUrl`; its `url` is ClientUrl(...) + "?access_token=" + token.
std::string ClientBaseUrl(const ConnectionString& cs, std::string_view hub, ClientType type);
std::string ClientUrl(const ConnectionString& cs, std::string_view hub, ClientType type,
                      std::string_view token);

}  // namespace wpsim::protocol::auth
