// Front: one accepted TCP (or TLS) stream of the reference service.
//
// Theory of operation. A front starts in the HTTP phase: bytes go to an
// http::ServerConnection, each complete request is either a REST call (answered at once by
// rest_api.cc) or a client-endpoint WebSocket upgrade (client_endpoint.cc); anything else is
// 404. A successful upgrade hands the stream to a protocol::websocket::Connection (the shared
// Session-on-Stream adapter, which coalesces writes and drives the session's timers) and the
// front becomes the *transport* of one logical ClientConnection: it forwards messages up and
// sends frames down. When the WebSocket ends, the front tells its connection (unless the
// connection detached first) and asks the service to bury it.
//
// Deadlines in the HTTP phase (ConnectionLimits): a request must arrive whole within
// request_read_timeout of its first byte (else 408 and close), and a connection with nothing
// in progress is closed after http_idle_timeout without input. One runtime timer carries the
// earlier of the two; it is re-armed only when a deadline moves earlier, and otherwise
// re-checked when it fires, so a busy keep-alive connection does not churn timers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/server_connection.h"
#include "protocol/websocket/stream_connection.h"
#include "sim/seam.h"

namespace wpsim::service {

class Service;
class ClientConnection;
class TraceFeed;

class Front : public sim::StreamHandler, public protocol::websocket::ConnectionHandler {
 public:
  Front(Service& service, uint64_t id, std::unique_ptr<sim::Stream> stream);
  ~Front() override;
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  uint64_t id() const { return id_; }
  sim::Address peer() const { return peer_; }

  // --- the transport API used by ClientConnection (WebSocket phase) ---
  Status SendEncoded(const SharedBytes& frame);
  // A copy of a pre-encoded frame, returned writable for a per-receiver patch.
  Result<std::span<uint8_t>> SendEncodedCopy(std::span<const uint8_t> frame);
  Status SendText(std::string_view text);
  Status SendBinary(std::span<const uint8_t> bytes);
  // Starts the closing handshake; the attached connection is detached first.
  void CloseWebSocket(uint16_t code, std::string_view reason);
  // The logical connection stops / starts listening to this transport.
  void Detach() { connection_ = nullptr; }
  void AttachConnection(ClientConnection* connection) { connection_ = connection; }

  // --- used while handling a request (client_endpoint.cc, rest_api.cc) ---
  // Accepts upgrade request `request_id` with `response` (a 101) and switches to WebSocket.
  void StartWebSocket(uint64_t request_id, protocol::http::Response response,
                      std::string subprotocol);
  void RespondHttp(uint64_t request_id, protocol::http::Response response);
  // RespondHttp without a trace event (the trace page's own answers).
  void RespondUntraced(uint64_t request_id, protocol::http::Response response);
  // Accepts request `request_id` as the live trace page's feed (service/trace.h): a WebSocket
  // without a client connection, whose sends fail once `output_bytes_max` bytes wait unsent.
  void StartViewerWebSocket(uint64_t request_id, protocol::http::Response response,
                            size_t output_bytes_max, TraceFeed* feed);
  // Reports a server frame of the attached connection to the tracer, for a sender that patches
  // its copy after queueing it (SendEncodedCopy is not traced itself).
  void TraceFrameOut(std::span<const uint8_t> frame);
  // Writes HTTP responses queued outside this front's own callbacks (an upstream answer
  // decided them) and serves requests pipelined behind them. No-op after the upgrade.
  void FlushHttp();

  // sim::StreamHandler (HTTP phase)
  void OnData(std::span<const uint8_t> data) override;
  void OnEnd() override;
  void OnWritable() override {}
  void OnClosed(sim::CloseReason reason, std::string_view detail) override;

  // protocol::websocket::ConnectionHandler (WebSocket phase)
  void OnMessage(protocol::websocket::Connection& connection, protocol::websocket::Opcode opcode,
                 std::span<const uint8_t> payload) override;
  void OnClosed(protocol::websocket::Connection& connection,
                const protocol::websocket::CloseInfo& info) override;

 private:
  void PumpHttp();
  void WriteHttpOutput();
  // The HTTP-phase deadline now in force (nullopt: none, e.g. an answer is pending).
  std::optional<sim::Nanos> HttpDeadline() const;
  void ArmHttpTimer();
  void OnHttpTimer();
  void CancelHttpTimer();
  void Finish();  // closes the stream (HTTP phase) and buries this front
  void ReportTransportClosed(bool client_closed, std::string_view reason);
  void StartWebSocketWith(uint64_t request_id, protocol::http::Response response,
                          std::string subprotocol, size_t output_bytes_max);
  // Tracing (service/trace.h); callers test service_.tracer() first.
  void TraceFrame(bool incoming, std::span<const uint8_t> payload, bool binary);
  void TraceRefused(std::string_view reason);

  Service& service_;
  uint64_t id_;
  sim::Address peer_;
  std::unique_ptr<sim::Stream> stream_;  // HTTP phase only
  // HTTP phase only: released once the stream is a WebSocket (its buffers and deques are
  // ~2 KiB that an idle connection would otherwise carry for its lifetime).
  std::unique_ptr<protocol::http::ServerConnection> http_;
  sim::Nanos last_input_at_ = 0;     // HTTP phase: when the last bytes arrived
  sim::Nanos request_started_at_ = 0;  // HTTP phase: first byte of the request in progress
  sim::TimerId http_timer_ = 0;
  sim::Nanos http_timer_at_ = 0;
  std::unique_ptr<protocol::websocket::Connection> ws_;  // WebSocket phase
  ClientConnection* connection_ = nullptr;
  TraceFeed* viewer_of_ = nullptr;  // set when this is a trace page's feed
  bool finished_ = false;
};

// The Host header value with and without its default port (audience comparisons).
std::vector<std::string> HostVariants(std::string_view host);

// Handles one request in the HTTP phase: REST (rest_api.cc) or a client upgrade
// (client_endpoint.cc). Declared here, defined in those files.
void HandleRestRequest(Service& service, Front& front, const protocol::http::Request& request);
// Returns true when it took the request (the path is a client endpoint).
bool HandleClientEndpoint(Service& service, Front& front, const protocol::http::Request& request);

}  // namespace wpsim::service
