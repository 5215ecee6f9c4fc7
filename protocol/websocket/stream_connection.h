// Connection: binds a websocket::Session to a sim::Stream and a sim::Runtime (the runtime
// seam, sim/seam.h, is its only dependency beyond protocol/). The service and the clients use
// it the same way on SimRuntime and UvRuntime.
//
// Theory of operation. The Connection is the stream's StreamHandler. Each stream callback
// (OnData, OnEnd, OnWritable, OnClosed) and each timer feeds the session, delivers the
// session's events to the ConnectionHandler, then flushes the session's output with one
// Stream::Write (write coalescing: everything queued during the callback leaves together; a
// lone pre-encoded fan-out frame goes out as the same SharedBytes, uncopied). Sends made
// outside a callback (the service fanning out a message from another connection's callback)
// are flushed by a zero-delay timer, so all frames queued in one loop turn share one Write.
// The session's NextDeadline() is mirrored in one runtime timer (keepalive pings, idle and
// close timeouts).
//
// Client side: the constructor writes the upgrade request; the 101 is validated with
// ClientHandshake, and the bytes that followed it feed the session. A refused or invalid
// handshake ends with OnClosed (handshake_failed, http_status set).
//
// Callbacks never run from inside a call the owner makes on the Connection (like the seam).
// OnClosed is the last call; the handler may destroy the Connection inside it, and only there
// or outside callbacks. After the session reports its end the Connection flushes and
// gracefully closes the stream (the server thereby closes TCP first, RFC 6455 §7.1.1).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/http/client_connection.h"
#include "protocol/websocket/handshake.h"
#include "protocol/websocket/session.h"
#include "sim/seam.h"

namespace wpsim::protocol::websocket {

class Connection;

struct CloseInfo {
  CloseCause cause = CloseCause::kTransportEnded;
  uint16_t code = close_code::kAbnormal;  // as Event::close_code
  std::string reason;
  bool clean = false;
  // Client side: the opening handshake failed (then `http_status` is the server's status, or
  // 0 when the answer was not HTTP or the stream died first, and `reason` says why).
  bool handshake_failed = false;
  int http_status = 0;
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Client side: the handshake completed (subprotocol() is the server's choice).
  virtual void OnOpen(Connection& connection) { (void)connection; }
  virtual void OnMessage(Connection& connection, Opcode opcode,
                         std::span<const uint8_t> payload) = 0;
  virtual void OnPing(Connection& connection, std::span<const uint8_t> payload) {
    (void)connection;
    (void)payload;
  }
  virtual void OnPong(Connection& connection, std::span<const uint8_t> payload) {
    (void)connection;
    (void)payload;
  }
  // The last call; the handler may destroy the Connection here.
  virtual void OnClosed(Connection& connection, const CloseInfo& info) = 0;
};

// FlushBatch: connections that queued frames outside their own callbacks (the receivers of a
// fan-out) are flushed by ONE posted task per loop turn, instead of one zero-delay timer per
// connection — the difference between O(receivers) scheduler operations per fan-out and O(1).
// A connection joins a batch with Connection::SetFlushBatch; the batch must outlive it.
class FlushBatch {
 public:
  explicit FlushBatch(sim::Runtime& runtime) : runtime_(runtime) {}
  ~FlushBatch();
  FlushBatch(const FlushBatch&) = delete;
  FlushBatch& operator=(const FlushBatch&) = delete;
  size_t pending() const { return pending_.size(); }

 private:
  friend class Connection;
  void Add(Connection* connection);
  void Remove(Connection* connection);
  void Run();

  sim::Runtime& runtime_;
  std::vector<Connection*> pending_;  // slots of removed connections are nullptr
  bool posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class Connection final : public sim::StreamHandler {
 public:
  // Server side, after http::ServerConnection::AcceptUpgrade (whose output, including the
  // 101, the owner has already written to `stream`). `initial` is what AcceptUpgrade returned.
  Connection(sim::Runtime& runtime, std::unique_ptr<sim::Stream> stream,
             ConnectionHandler* handler, const SessionOptions& options, std::string subprotocol,
             std::span<const uint8_t> initial);
  // Client side, on a freshly dialled stream: sends handshake.BuildRequest(extra) and opens
  // when the server's 101 checks out. `rng` supplies masking keys.
  Connection(sim::Runtime& runtime, std::unique_ptr<sim::Stream> stream,
             ConnectionHandler* handler, const SessionOptions& options,
             ClientHandshake handshake, const http::Headers& extra, sim::Rng rng);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Status SendText(std::string_view text);
  Status SendBinary(std::span<const uint8_t> data);
  // A frame from EncodeServerFrame (server side); zero-copy, in order with other sends.
  Status SendEncoded(const SharedBytes& frame);
  // A copy of a pre-encoded server frame, returned for patching (Session::SendEncodedCopy).
  Result<std::span<uint8_t>> SendEncodedCopy(std::span<const uint8_t> frame);
  Status Ping(std::span<const uint8_t> payload = {});
  // Starts the closing handshake; OnClosed follows when it completes or times out.
  void Close(uint16_t code, std::string_view reason = {});
  // Drops the transport at once (no closing handshake, no OnClosed).
  void Abort();

  bool open() const { return session_ && session_->state() == State::kOpen; }
  const std::string& subprotocol() const { return subprotocol_; }
  // Null on the client side until the handshake completes.
  Session* session() { return session_.get(); }
  sim::Stream* stream() { return stream_.get(); }
  uint64_t writes() const { return writes_; }
  // Sends made outside this connection's callbacks are flushed by `batch` (nullptr: by a
  // zero-delay timer of its own).
  void SetFlushBatch(FlushBatch* batch) { batch_ = batch; }  // Stream::Write calls made (for tests/benches)

  // sim::StreamHandler
  void OnData(std::span<const uint8_t> data) override;
  void OnEnd() override;
  void OnWritable() override;
  void OnClosed(sim::CloseReason reason, std::string_view detail) override;

 private:
  // Runs after every input: delivers events, flushes, closes when done, re-arms the timer.
  // Returns false when the Connection was finished (and possibly destroyed by the handler).
  bool Pump();
  void Flush(bool force);
  void ScheduleKick();
  void Rearm();
  void OnTimer();
  void HandshakeInput(std::span<const uint8_t> data, bool eof);
  void Finish(const CloseInfo& info);  // the final step: OnClosed

  sim::Runtime& runtime_;
  std::unique_ptr<sim::Stream> stream_;
  ConnectionHandler* handler_;
  std::unique_ptr<Session> session_;
  std::string subprotocol_;
  // Client side, until the session exists: the opening handshake. Behind a pointer so that
  // server connections (most of a service's memory) do not carry it.
  struct ClientOpening {
    ClientOpening(const SessionOptions& o, ClientHandshake h, sim::Rng r)
        : options(o), handshake(std::move(h)), rng(r) {}
    SessionOptions options;
    ClientHandshake handshake;
    http::ClientConnection http;
    sim::Rng rng;
  };
  std::unique_ptr<ClientOpening> opening_;

  bool in_pump_ = false;
  bool finished_ = false;
  std::shared_ptr<bool> alive_;  // lets Pump notice that the handler destroyed us
  sim::TimerId deadline_timer_ = 0;
  std::optional<Nanos> armed_deadline_;
  sim::TimerId kick_timer_ = 0;  // zero-delay: flush sends made outside our callbacks
  std::vector<uint8_t> scratch_;  // gathers a multi-chunk batch into one Write (capacity reused)
  uint64_t writes_ = 0;
  friend class FlushBatch;
  static constexpr size_t kNoSlot = static_cast<size_t>(-1);
  FlushBatch* batch_ = nullptr;
  size_t batch_slot_ = kNoSlot;  // index in batch_->pending_ while queued there
};

}  // namespace wpsim::protocol::websocket
