// Upstream: the reference service's calls to the application server (event handlers,
// PROTOCOL.md §12) — CloudEvents in HTTP binary mode over a keep-alive HTTP/1.1 client on the
// runtime seam, so the same code talks to a real Express app (UvRuntime) and to
// clients::AppServer in simulation.
//
// ---------------------------------------------------------------------------------------------
// API for callers (WebSocket connections here, MQTT sessions in service/mqtt_*):
//
//   Upstream& up = service.upstream();
//   UpstreamContext ctx{.hub = "chat", .connection_id = id, .user_id = user, .subprotocol = p};
//   if (up.HasHandler(ctx.hub, EventKind::kSystem, "connect")) {
//     up.Connect(ctx, Upstream::ConnectBody(claims, query, headers, subprotocols),
//                [alive](const UpstreamResult& r) { ... r.status, r.body ... });
//   }
//   up.Connected(ctx);                                   // non-blocking, no callback
//   up.UserEvent(ctx, "message", "text/plain", bytes, [](const UpstreamResult& r) {...});
//   up.Disconnected(ctx, reason);                        // always call once when the
//                                                        // connection ends (forgets its state)
//   MQTT bodies differ (§12.8): build the JSON yourself and use Send(UpstreamEvent{...}) with
//   `ctx.source` = "/hubs/{hub}/client/{clientId}/{physicalConnectionId}" and
//   `ctx.extra_headers` = {ce-physicalConnectionId, ce-sessionId, mqtt-<name>...}; mark the
//   session's final event with `last = true` (or call Forget(connection_id) after it).
//
// Callbacks run later on the runtime's loop, never inside the call that queued them, and only
// while the Upstream lives; callers capture their own liveness flag (a connection may end
// before its event is answered). `r.ok()` is true for a 2xx answer.
// ---------------------------------------------------------------------------------------------
//
// Theory of operation.
//  * Handler matching: the hub's handler list (hub_config.h), first match wins. No handler:
//    the callback gets Outcome::kNoHandler (callers usually check HasHandler first).
//  * Ordering: events of one connection id are sent one at a time in the order they were
//    queued (a user event's reply and its ce-connectionState update are applied before the
//    next event of that connection is built), at most `per_connection_queue_max` waiting.
//    Different connections proceed in parallel over the pool.
//  * Abuse protection (§12.2): before the first event to a handler URL, OPTIONS
//    <url with {event}=validate> with WebHook-Request-Origin; 2xx with WebHook-Allowed-Origin
//    "*" or our origin validates; an OPTIONS answered 404 is retried as GET (the emulator's
//    fallback). Events wait for the first validation. A success is trusted
//    for `validation_ttl` and then re-validated in the background (events keep flowing); a
//    failure fails waiting events with kValidationFailed and is retried no sooner than after
//    a backoff of 1 s doubling to `validation_retry_max` (the emulator's AbuseProtector).
//  * Retries (§12.7, emulator policy): a request that times out, fails on the network or is
//    answered 408 or 5xx is sent again after retry_delays[0], [1], ... (1 s, 3 s, 5 s: at most
//    4 attempts); 429 and every other status are final. Retries keep the same ce-id.
//  * HTTP client: per origin (scheme, host, port) at most `connections_per_origin_max`
//    keep-alive connections, one request at a time each; requests beyond that wait in a queue
//    of at most `pending_requests_max`. Each attempt has `request_timeout` (virtual time in
//    simulation); a timed-out connection is reset, never reused. A connection idle for
//    `idle_connection_timeout` is closed. https:// handlers are dialled through sim/tls
//    (SNI = host, system CA store or `tls_ca_file`, ALPN http/1.1).
//  * Connection state: a `ce-connectionState` response header (connect or user event) sets the
//    state sent on that connection's later events; an empty value clears it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/auth/jwt.h"
#include "protocol/http/message.h"
#include "protocol/http/url.h"
#include "service/hub_config.h"
#include "sim/seam.h"

namespace wpsim::service {

class TraceObserver;

struct ServiceOptions;

// Who an event is about.
struct UpstreamContext {
  std::string hub;
  std::string connection_id;
  std::optional<std::string> user_id;
  std::string subprotocol;  // selected subprotocol; "" when none (never sent on connect)
  // ce-source; empty means "/hubs/{hub}/client/{connectionId}".
  std::string source;
  // Extra request headers (MQTT: ce-physicalConnectionId, ce-sessionId, mqtt-<name>).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

struct UpstreamResult {
  enum class Outcome : uint8_t {
    kResponse,          // the handler answered: status, headers, body
    kNoHandler,         // no handler of the hub takes this event
    kValidationFailed,  // the handler URL failed abuse-protection validation
    kTimeout,           // every attempt timed out (or the last one did)
    kNetworkError,      // dial failure, reset, malformed response
    kOverloaded,        // a named queue maximum was reached; nothing was sent
  };
  Outcome outcome = Outcome::kResponse;
  int status = 0;
  protocol::http::Headers headers;
  std::string body;
  std::string error;  // what went wrong when outcome != kResponse
  int attempts = 0;

  bool ok() const { return outcome == Outcome::kResponse && status >= 200 && status < 300; }
  // "status 500", "timeout after 4 attempts", ... (logs, ack messages).
  std::string Describe() const;
};
std::string_view OutcomeName(UpstreamResult::Outcome outcome);

using UpstreamResultFn = std::function<void(const UpstreamResult&)>;

struct UpstreamEvent {
  UpstreamContext context;
  EventKind kind = EventKind::kUser;
  std::string name;          // connect, connected, disconnected, or the user event name
  std::string content_type;  // request Content-Type
  std::string body;
  bool last = false;  // the connection's final event: forget its state and ordering afterwards
};

// The parsed body of a 200 answer to `connect` (§12.4). Absent fields keep the defaults.
struct ConnectResponse {
  std::optional<std::string> user_id;
  std::optional<std::vector<std::string>> groups;
  std::optional<std::vector<std::string>> roles;
  std::optional<std::string> subprotocol;
};
// Empty body and `null` give an all-absent response; invalid JSON or wrong types are errors.
Result<ConnectResponse> ParseConnectResponse(std::string_view body);

// RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.000Z") for ce-time.
std::string Rfc3339(sim::Nanos unix_nanos);

class Upstream {
 public:
  Upstream(sim::Runtime& runtime, const ServiceOptions& options);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  bool HasHandler(std::string_view hub, EventKind kind, std::string_view event) const;

  void Send(UpstreamEvent event, UpstreamResultFn done);
  void Connect(const UpstreamContext& context, std::string body_json, UpstreamResultFn done);
  void Connected(const UpstreamContext& context);
  // Sends `disconnected` when a handler takes it, and forgets the connection either way.
  void Disconnected(const UpstreamContext& context, std::string_view reason);
  void UserEvent(const UpstreamContext& context, std::string_view event,
                 std::string content_type, std::string body, UpstreamResultFn done);
  // Drops the connection's state once its queued events are done.
  void Forget(const std::string& connection_id);

  // The `connect` request body (§12.4): claims, query (access_token removed), headers
  // (Authorization and hop-by-hop headers removed), subprotocols, clientCertificates (empty).
  static std::string ConnectBody(const protocol::auth::Claims& claims,
                                 const protocol::http::QueryPairs& query,
                                 const protocol::http::Headers& headers,
                                 const std::vector<std::string>& subprotocols);

  // The current ce-connectionState of a connection ("" when none).
  std::string ConnectionState(std::string_view connection_id) const;
  // The WebHook-Request-Origin value.
  const std::string& origin() const { return origin_; }
  // Requests sent (attempts and validations) since creation: tests and metrics.
  uint64_t requests_sent() const;
  // Reports every request and its outcome to `tracer` (service/trace.h); null: none.
  void set_tracer(TraceObserver* tracer) { tracer_ = tracer; }

 private:
  class Pool;
  struct Call;
  // Per connection id: the events waiting their turn and the ce-connectionState.
  struct ConnectionRecord {
    std::deque<uint64_t> queue;  // call ids; the front one is in progress when busy
    bool busy = false;
    bool forget = false;  // erase once the queue is empty
    std::string state;
  };
  // Abuse-protection state of one validation URL.
  struct Validation {
    enum class State : uint8_t { kUnknown, kPending, kValid, kInvalid };
    State state = State::kUnknown;
    bool revalidating = false;
    sim::Nanos expires = 0;  // valid until / earliest retry after failure
    sim::Nanos backoff = 0;
    std::string detail;
    std::vector<uint64_t> waiters;  // call ids
  };

  void Pump(const std::string& connection_id);
  void Start(uint64_t call_id);
  void Dispatch(uint64_t call_id);
  void OnAttemptDone(uint64_t call_id, UpstreamResult result);
  void TraceAttempt(uint64_t call_id, const UpstreamResult& result);
  void Finish(uint64_t call_id, UpstreamResult result);
  void Validate(const std::string& key);
  void SendValidation(const std::string& key, std::string_view method);
  void OnValidated(const std::string& key, bool ok, std::string detail);
  void FailLater(UpstreamResultFn done, UpstreamResult result);

  sim::Runtime& runtime_;
  const ServiceOptions& options_;
  std::string origin_;
  std::unique_ptr<Pool> pool_;
  uint64_t next_call_id_ = 1;
  uint64_t next_event_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
  std::map<std::string, ConnectionRecord, std::less<>> connections_;
  std::map<std::string, Validation, std::less<>> validations_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  TraceObserver* tracer_ = nullptr;
};

}  // namespace wpsim::service
