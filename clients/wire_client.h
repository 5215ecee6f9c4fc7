// WireClient: a byte-level client for conformance cases below the protocol clients, in the
// manner of Autobahn's and h2spec's cases. It writes exactly the bytes a step asks for (a
// hand-made HTTP/1.1 request, a WebSocket frame with any opcode, flags, mask and announced
// length, raw MQTT packets inside such frames) and reads what comes back with its own small
// HTTP/1.1 and RFC 6455 readers, not the service's protocol/ code, so a bug there cannot hide
// itself in the oracle.
//
// Theory of operation. Open() dials (on the runtime seam: the simulated network or a real
// socket); bytes written before the dial completes are queued. The stream is read as HTTP/1.1
// responses (Content-Length, chunked, or up to the end; none for HEAD and 1xx/204/304) until a
// 101 answers; from then on as WebSocket frames (server frames are expected unmasked; a masked
// one is recorded with masked = true, not refused). Every response, frame and the end of the
// stream is recorded as a WireEvent with the runtime clock; nothing is answered automatically
// (no pong, no close reply): the scenario decides.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/seam.h"

namespace wpsim::clients {

struct WireHttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in received order and case
  std::string body;
  // The first header of that name (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

struct WireFrame {
  bool fin = true;
  uint8_t rsv = 0;  // RSV1..3 as bits 2..0
  uint8_t opcode = 0;
  bool masked = false;
  std::string payload;  // unmasked
  // Close frames: the status code (none when the payload is empty) and the reason.
  std::optional<uint16_t> close_code;
  std::string close_reason;
};

struct WireEvent {
  enum class Kind { kResponse, kFrame, kEnd, kFailed };
  Kind kind = Kind::kEnd;
  int64_t time_ns = 0;
  WireHttpResponse response;  // kResponse
  WireFrame frame;            // kFrame
  std::string detail;         // kEnd: how the stream ended; kFailed: why the dial failed
};

// One frame to write. `length` announces a payload length other than the payload's own (the
// bytes sent are still exactly `payload`).
struct WireFrameSpec {
  bool fin = true;
  uint8_t rsv = 0;  // bits 2..0 = RSV1..RSV3
  uint8_t opcode = 1;
  bool mask = true;
  std::string payload;
  std::optional<uint64_t> length;
};

// The bytes of `f` as a client sends them (masked with a fixed key when f.mask).
std::string EncodeWireFrame(const WireFrameSpec& f);
// The description of an event for failure messages ("close 1002 \"bad rsv\"", "HTTP 400").
std::string DescribeWireEvent(const WireEvent& e);
std::string_view WireOpcodeName(uint8_t opcode);  // "text", "close", ... or "opcode 3"

class WireClient : public sim::StreamHandler {
 public:
  using DialWith = std::function<void(const sim::Address&, sim::DialFn)>;
  WireClient(sim::Runtime& runtime, sim::Address service, DialWith dial);
  ~WireClient() override;

  void Open();
  // Writes the bytes (queued until the stream is open). `methods`: the request methods whose
  // responses these bytes ask for, in order (HEAD responses carry no body).
  void Write(std::string bytes, std::vector<std::string> methods = {});
  // Half-close (FIN): nothing more is written.
  void Shutdown();
  void Close();

  bool ended() const { return ended_; }
  bool websocket() const { return websocket_; }
  const std::vector<WireEvent>& events() const { return events_; }
  // Called after each event is recorded.
  std::function<void()> on_event;

  // sim::StreamHandler
  void OnData(std::span<const uint8_t> data) override;
  void OnEnd() override;
  void OnClosed(sim::CloseReason reason, std::string_view detail) override;

 private:
  void Record(WireEvent e);
  void Parse();
  bool ParseResponse();  // false: need more bytes
  bool ParseFrame();

  sim::Runtime& runtime_;
  sim::Address service_;
  DialWith dial_;
  std::unique_ptr<sim::Stream> stream_;
  bool dialing_ = false;
  bool ended_ = false;
  bool websocket_ = false;
  bool shutdown_pending_ = false;
  std::string pending_out_;
  std::string in_;
  std::deque<std::string> methods_;
  std::vector<WireEvent> events_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wpsim::clients
