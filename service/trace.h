// The live trace seam (`wpsim serve --trace-ui`, docs/trace.md): what the service reports to an
// observer, how a report becomes the JSON the trace page reads, and TraceFeed, the observer that
// serves the page and its WebSocket feed on the service's own port.
//
// Theory of operation. Service::tracer() is null unless a tracer was installed, and every hook
// in service/ tests it before building anything (TraceEvent holds views, so a hook allocates
// nothing itself): with the flag off, tracing costs one pointer test per hook. With a tracer,
// each event is encoded once into a JSON text, kept in a ring bounded in events and in bytes
// (replayed to a page that opens later, after a snapshot of the connections still open), and
// queued to every open page. A page that does not read fast enough is closed (1008) when its
// queue passes viewer_output_bytes_max; the service never waits for a page.
//
// What a page is told: connections (connected, refused with the service's reason, closed),
// groups joined and left, every WebSocket frame in both directions (decoded for the JSON
// subprotocols, summarised for MQTT, base64 for other binary frames), HTTP requests on the
// service port (REST calls and client upgrades, with their answers) and event-handler requests
// with their outcome. Access tokens in request targets are replaced by "<redacted>"; message
// contents are shown as sent.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/message.h"
#include "sim/seam.h"

namespace wpsim::service {

class Front;
class Service;

enum class TraceKind : uint8_t {
  kHttpRequest,       // a request on the service port: a REST call or a client upgrade
  kHttpResponse,      // its answer (status; body: why an upgrade was refused)
  kRefused,           // refused without an answer to a request (connection caps, bad HTTP,
                      // timeouts, an MQTT CONNECT refused): `text` says why
  kConnected,         // a client connection was admitted to its hub
  kClosed,            // a client connection ended (or detached, for a reliable one): `text`
  kFrameIn,           // a WebSocket message from a client
  kFrameOut,          // a WebSocket message to a client
  kGroupJoin,         // a connection joined `group`
  kGroupLeave,        // a connection left `group`
  kUpstreamRequest,   // an event-handler request (`text`: the event name)
  kUpstreamResponse,  // its outcome (`status` when the handler answered, `text` otherwise)
};
std::string_view TraceKindName(TraceKind kind);

// One report. Views are valid only during TraceObserver::OnTrace.
struct TraceEvent {
  TraceKind kind = TraceKind::kHttpRequest;
  uint64_t front = 0;    // the transport (Front) id, 0 when none
  uint64_t request = 0;  // the HTTP request id on that front, or the upstream event id
  std::string_view hub;
  std::string_view connection_id;
  std::string_view user_id;
  std::string_view group;
  std::string_view subprotocol;  // frames: how the payload is decoded
  std::string_view method;
  std::string_view target;
  int status = 0;
  std::string_view text;
  std::span<const uint8_t> payload;
  bool binary = false;  // frames: a binary message
};

class TraceObserver {
 public:
  virtual ~TraceObserver() = default;
  virtual void OnTrace(const TraceEvent& event) = 0;
  // Offered every HTTP request on the service port before routing; true when it took it.
  virtual bool HandleHttp(Front& front, const protocol::http::Request& request) {
    (void)front;
    (void)request;
    return false;
  }
};

// Hook helpers for the connection life cycle; each does nothing unless service.tracer() is set.
void TraceConnected(Service& service, uint64_t front, std::string_view hub,
                    std::string_view connection_id, const std::optional<std::string>& user_id,
                    std::string_view subprotocol);
void TraceClosed(Service& service, std::string_view hub, std::string_view connection_id,
                 const std::optional<std::string>& user_id, std::string_view reason);
void TraceRefused(Service& service, uint64_t front, std::string_view reason);

// Payload bytes shown per frame or body; the rest is cut (the event says how many bytes).
inline constexpr size_t kTracePayloadBytesMax = 16 * 1024;

// The JSON object a page receives for `event`: {"seq","at_ms","kind", then the non-empty
// fields, then for frames "json" (JSON subprotocols), "summary" (MQTT packets, protobuf
// requests), "text" or "base64", and "bytes"}. Hub and group are also taken from REST targets
// (/api/hubs/{hub}/groups/{group}/...), client upgrade targets and JSON frames' "group".
std::string EncodeTraceEvent(const TraceEvent& event, uint64_t seq, sim::Nanos at);
// `target` with the value of every access_token query parameter replaced by "<redacted>".
std::string RedactTarget(std::string_view target);
// The payload of a server WebSocket frame as written (unmasked; header stripped), with whether
// it is binary; empty for control frames.
std::span<const uint8_t> ServerFramePayload(std::span<const uint8_t> frame, bool* binary);

struct TraceFeedOptions {
  // Required as ?token= on /trace and /trace/ws (compared in constant time). Empty: no check.
  std::string token;
  std::string page_html;  // served at /trace
  size_t ring_events_max = 5000;
  size_t ring_bytes_max = 8 * 1024 * 1024;
  // A page whose queue of unsent events passes this is closed (1008): never slows the service.
  size_t viewer_output_bytes_max = 4 * 1024 * 1024;
};

// Serves GET /trace (the page) and /trace/ws (the feed) and fans events out to open pages.
class TraceFeed final : public TraceObserver {
 public:
  TraceFeed(Service& service, TraceFeedOptions options);
  ~TraceFeed() override;
  TraceFeed(const TraceFeed&) = delete;
  TraceFeed& operator=(const TraceFeed&) = delete;

  void OnTrace(const TraceEvent& event) override;
  bool HandleHttp(Front& front, const protocol::http::Request& request) override;

  size_t viewer_count() const { return viewers_.size(); }
  size_t ring_size() const { return ring_.size(); }
  size_t ring_bytes() const { return ring_bytes_; }
  uint64_t dropped_viewers() const { return dropped_viewers_; }
  uint64_t events() const { return next_seq_ - 1; }
  const std::string& token() const { return options_.token; }

  // Called by Front when a page's WebSocket ends.
  void OnViewerClosed(Front& front);

 private:
  void Push(std::string encoded);
  void SendTo(Front& front, const std::string& encoded);
  bool Authorized(const protocol::http::Request& request) const;

  Service& service_;
  TraceFeedOptions options_;
  uint64_t next_seq_ = 1;
  std::deque<std::string> ring_;
  size_t ring_bytes_ = 0;
  std::set<uint64_t> viewers_;  // front ids of open pages
  uint64_t dropped_viewers_ = 0;
  // Open connections (id -> its encoded `connected` event) and their groups, replayed first to
  // a page that opens later so it knows connections older than the ring.
  std::map<std::string, std::string, std::less<>> live_;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> live_groups_;
  std::map<std::string, std::string, std::less<>> live_hub_;
};

}  // namespace wpsim::service
