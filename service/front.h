// Front: one accepted TCP (or TLS) stream of the reference service.
//
// Theory of operation. A front starts in the HTTP phase: bytes go to an
// http::ServerConnection, each complete request is either a REST call (answered at once by
// rest_api.cc) or a client-endpoint WebSocket upgrade (client_endpoint.cc), anything else is
// 404. A successful upgrade switches the front to the WebSocket phase for good: bytes go to a
// protocol::websocket::Session whose events drive the attached ClientConnection.
//
// Output is never written from inside a callback chain that may be a fan-out: Send* calls
// queue into the session's output queue and mark the front dirty; Service flushes dirty
// fronts once per loop turn (Flush). In the HTTP phase the front flushes after each input
// chunk. Timers of the session (keepalive ping, close-handshake wait) are re-armed after
// every input and flush. When the session is finished and its output written, the front
// closes the stream and asks the service to bury it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/http/server_connection.h"
#include "protocol/websocket/session.h"
#include "sim/seam.h"

namespace wpsim::service {

class Service;
class ClientConnection;

class Front : public sim::StreamHandler {
 public:
  Front(Service& service, uint64_t id, std::unique_ptr<sim::Stream> stream);
  ~Front() override;
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  uint64_t id() const { return id_; }
  bool flush_scheduled = false;  // owned by Service::MarkDirty

  // --- the transport API used by ClientConnection (WebSocket phase) ---
  Status SendEncoded(const SharedBytes& frame);
  Status SendText(std::string_view text);
  // Starts the closing handshake; the attached connection is detached first.
  void CloseWebSocket(uint16_t code, std::string_view reason);
  // The logical connection stops listening to this transport.
  void Detach() { connection_ = nullptr; }
  // A recovered connection starts listening to this transport.
  void AttachConnection(ClientConnection* connection) { connection_ = connection; }
  // Writes all queued output to the stream.
  void Flush();

  // --- used while handling the upgrade (client_endpoint.cc) ---
  protocol::websocket::Session* StartWebSocket(uint64_t request_id, protocol::http::Response response,
                                               ClientConnection* connection);
  void RespondHttp(uint64_t request_id, protocol::http::Response response);
  const sim::Address& peer() const { return stream_->PeerAddress(); }

  // sim::StreamHandler
  void OnData(std::span<const uint8_t> data) override;
  void OnEnd() override;
  void OnWritable() override {}
  void OnClosed(sim::CloseReason reason, std::string_view detail) override;

 private:
  void PumpHttp();
  void PumpWebSocket();
  void ArmTimer();
  void Finish();  // closes the stream and buries this front
  void WriteHttpOutput();

  Service& service_;
  uint64_t id_;
  std::unique_ptr<sim::Stream> stream_;
  protocol::http::ServerConnection http_;
  std::unique_ptr<protocol::websocket::Session> ws_;
  ClientConnection* connection_ = nullptr;
  sim::TimerId timer_ = 0;
  sim::Nanos timer_deadline_ = 0;
  bool finished_ = false;
  bool transport_closed_reported_ = false;
};

// Handles one request in the HTTP phase: REST (rest_api.cc) or a client upgrade
// (client_endpoint.cc). Declared here, defined in those files.
void HandleRestRequest(Service& service, Front& front, const protocol::http::Request& request);
// Returns true when it took the request (the path is a client endpoint).
bool HandleClientEndpoint(Service& service, Front& front, const protocol::http::Request& request);

}  // namespace wpsim::service
