// Configuration of the reference service, and the bug-injection switches used to prove the
// conformance suite has teeth (FoundationDB's BUGGIFY turned into mutation testing).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "service/hub_config.h"
#include "service/reliable_outbox.h"
#include "sim/seam.h"

namespace wpsim::service {

// The default access key, like the Microsoft emulator's (documented in docs/cli.md). It is a
// development key: anyone can read it here.
inline constexpr std::string_view kDefaultAccessKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

// Each bug deliberately breaks one rule the conformance suite checks.
enum class Bug : uint8_t {
  kSkipRoleCheck,            // every join/leave/send is allowed regardless of roles
  kAckBeforeApply,           // sendToGroup acks, fans out 2 ms later (lost if the connection ends)
  kDropNoEcho,               // noEcho is ignored: publishers receive their own messages
  kResetSequenceOnRecover,   // reliable sequence ids restart at 1 after a recovery
  kDuplicateOnReplay,        // recovery replays every un-acked message twice
  kFanoutSkipLast,           // a fan-out skips its last receiver
  kIgnoreTokenExpiry,        // expired client tokens are accepted
  // Race-specific bugs (issue 17): each shows only when two operations overlap in time.
  kLateJoinAck,              // joinGroup applied at once, acked 2 ms later
  kLeaveAckBeforeApply,      // leaveGroup acked at once, applied 2 ms later
  kUnorderedFanout,          // every other client group fan-out dispatched 2 ms late
  kAckIdsLostOnRecover,      // the ackId cache is cleared by a recovery
  kReplayFromLastSent,         // a recovery replays only what was never written to a transport
};
std::string_view BugName(Bug bug);
std::optional<Bug> ParseBug(std::string_view name);
// Every bug with a one-line description, in a stable order (for --list-bugs).
const std::vector<std::pair<Bug, std::string_view>>& AllBugs();

// Bounds that keep one client from taking the service away from the others (issue 20). Each
// is a `wpsim serve` flag and a `limits:` key in --config; docs/reliability.md gives the reason
// for every default and the answer the client sees. 0 disables a bound.
struct ConnectionLimits {
  // A request must arrive complete (head and body) within this time of its first byte; else
  // 408 Request Timeout and the connection closes (slowloris).
  sim::Nanos request_read_timeout = 30 * sim::kSecond;
  // A connection that has not upgraded, has no request in progress and none unanswered is
  // closed after this long without input (HTTP keep-alive idle; also a silent new connection).
  sim::Nanos http_idle_timeout = 120 * sim::kSecond;
  // A WebSocket that answers none of this many keepalive pings in a row (websocket_keepalive
  // apart) is closed with 1001.
  int websocket_pings_unanswered_max = 3;
  // Accepted TCP connections in total, and from one peer address. Beyond: 503 Service
  // Unavailable with Connection: close, other connections unaffected.
  size_t connections_max = 16000;
  size_t connections_per_peer_max = 4000;
  // Groups one connection may be in (not documented for the real service). A join beyond it
  // is refused: JSON ack error BadRequest, REST 400, MQTT SUBACK 0x97 Quota exceeded.
  size_t groups_per_connection_max = 1000;
  // Unanswered requests held per HTTP connection; a request beyond it is answered 429.
  size_t pipelined_requests_max = 32;
  // Group streams one connection may publish at once (PROTOCOL.md §9.1; not documented for
  // the real service) and the longest idle timeout a stream may ask for. A start beyond
  // either is closed with streamClosed BadRequest.
  size_t streams_per_connection_max = 100;
  uint64_t stream_idle_timeout_ms_max = 3600000;
};

struct ServiceOptions {
  // Primary and optional secondary key. Tokens signed with any of them are accepted.
  std::vector<std::string> access_keys{std::string(kDefaultAccessKey)};
  // When set ("https://example.com:8443"), client token audiences and REST audiences are also
  // checked against this endpoint, not only against the request's Host (reverse proxies).
  std::string public_endpoint;
  // Whether the listener is TLS (audiences and client URLs then use https/wss).
  bool tls = false;
  // Accepted clock difference for exp/nbf (the Microsoft emulator allows 5 minutes).
  int64_t token_clock_skew_seconds = 300;
  // Reliable connections stay recoverable this long after their transport drops (§6.4).
  sim::Nanos recovery_window = 30 * sim::kSecond;
  ReliableLimits reliable_limits;
  // The service's WebSocket keepalive ping interval (hub setting default 20 s, §13).
  sim::Nanos websocket_keepalive = 20 * sim::kSecond;
  size_t message_bytes_max = 1024 * 1024;
  // Bytes a connection may have waiting to be written before it is closed as a slow consumer.
  size_t connection_output_bytes_max = 16 * 1024 * 1024;
  std::set<Bug> bugs;
  // Per-hub settings (event handlers), keyed by lower-case hub name (hub_config.h).
  HubSettingsMap hubs;
  // The event-handler HTTP client: timeouts, retries, validation, pool bounds (upstream.h).
  UpstreamOptions upstream;
  // Connection-level bounds (deadlines, connection caps, groups per connection).
  ConnectionLimits limits;

  bool HasBug(Bug bug) const { return bugs.count(bug) != 0; }
};

}  // namespace wpsim::service
