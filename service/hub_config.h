// Per-hub settings of the reference service: the ordered event handler list (PROTOCOL.md §12.1)
// and helpers to match an event against it and expand a handler's URL template.
//
// Matching rule (Microsoft emulator): handlers are tried in order and the first one whose
// system_events (for connect/connected/disconnected) or user_event_pattern (for any other
// event) matches wins. A pattern is comma-separated items; each item is a name or a glob ('*'
// any run of characters, '?' one character, so "*" matches every event and "chat.*" every
// event starting with "chat."); names compare case-insensitively (event names are
// case-insensitive, §13). YAML loading lives in
// app/serve_config.cc so that service/ stays free of yaml-cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sim/seam.h"

namespace wpsim::service {

struct EventHandlerSettings {
  // "http://host[:port]/path/{event}?code=..." — {event} and {hub} are replaced per request.
  std::string url_template;
  // "*", "name", "a,b,c" or globs such as "chat*,?ing"; empty matches no user event.
  std::string user_event_pattern;
  // Any of "connect", "connected", "disconnected".
  std::vector<std::string> system_events;

  bool MatchesSystemEvent(std::string_view event) const;
  bool MatchesUserEvent(std::string_view event) const;
};

struct HubSettings {
  std::vector<EventHandlerSettings> event_handlers;
  // anonymousConnectPolicy (PROTOCOL.md §2.2): true admits clients that bring no token at all
  // as anonymous users (no userId, roles or groups unless a connect handler supplies them).
  bool allow_anonymous = false;
};

// How the service talks to event handlers (upstream.h; the policy is in docs/conformance.md).
struct UpstreamOptions {
  // WebHook-Request-Origin; empty: the public endpoint's host, else the runtime's host name.
  std::string request_origin;
  sim::Nanos request_timeout = 100 * sim::kSecond;  // per attempt (the emulator's 100 s)
  // Delays before the 2nd, 3rd, ... attempt: at most retry_delays.size() + 1 attempts.
  std::vector<sim::Nanos> retry_delays{1 * sim::kSecond, 3 * sim::kSecond, 5 * sim::kSecond};
  bool validate = true;  // abuse protection (§12.2)
  sim::Nanos validation_timeout = 10 * sim::kSecond;
  sim::Nanos validation_ttl = 60 * sim::kSecond;
  sim::Nanos validation_retry_min = 1 * sim::kSecond;
  sim::Nanos validation_retry_max = 60 * sim::kSecond;
  size_t connections_per_origin_max = 8;
  size_t pending_requests_max = 4096;      // requests waiting for a pooled connection
  size_t per_connection_queue_max = 256;   // events of one connection waiting their turn
  size_t response_body_bytes_max = 1024 * 1024;
  // A pooled keep-alive connection idle this long is closed (.NET's PooledConnectionIdleTimeout
  // is 1 min; Node servers close idle sockets after 5 s, which the stale-connection retry covers).
  sim::Nanos idle_connection_timeout = 60 * sim::kSecond;
  // https:// handlers: PEM file of trusted CAs ("" = the system store) and whether to verify
  // the handler's certificate at all (false only for throwaway test endpoints).
  std::string tls_ca_file;
  std::string tls_ca_pem;  // trusted CAs as PEM; takes precedence over tls_ca_file
  bool tls_verify = true;
};

// Hub settings keyed by lower-case hub name (hub names are case-insensitive).
using HubSettingsMap = std::map<std::string, HubSettings, std::less<>>;
// Keys are service::HubKey(name) (service/names.h).

enum class EventKind : uint8_t { kSystem, kUser };
// True for connect, connected and disconnected.
bool IsSystemEventName(std::string_view event);

// Whether `hub` admits clients without a token (HubSettings::allow_anonymous).
bool AllowsAnonymous(const HubSettingsMap& hubs, std::string_view hub);
// The first handler of `hub` that takes `event`, or nullptr.
const EventHandlerSettings* FindEventHandler(const HubSettingsMap& hubs, std::string_view hub,
                                             EventKind kind, std::string_view event);

// `url_template` with {event} and {hub} replaced (values percent-encoded as path segments).
std::string ExpandUrlTemplate(std::string_view url_template, std::string_view hub,
                              std::string_view event);

// An absolute http:// or https:// URL split for the HTTP client.
struct HttpUrl {
  bool https = false;
  std::string host;        // without brackets for IPv6
  uint16_t port = 80;
  std::string host_header;  // "host" or "host:port" (port omitted when default)
  std::string target;       // origin-form path and query ("/" when empty)
  std::string Origin() const;  // "http://host:port" (the connection-pool key)
};
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// Checks one handler (URL scheme and host, {event} not in the host part, known system events).
Status ValidateEventHandler(const EventHandlerSettings& handler);

}  // namespace wpsim::service
