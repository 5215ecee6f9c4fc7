// Session: one WebSocket connection after the opening handshake (RFC 6455 §5-§7), sans-IO,
// on wslay's frame API. Server and client roles.
//
// Theory of operation (the h11/quinn shape):
//  * Input: Receive(now, bytes) only buffers. PollEvent() parses frames until one yields an
//    event (a complete message, a ping, a pong, or the end of the connection) and returns it;
//    nullopt means "need more bytes". Parsing lazily means events come out one at a time in
//    wire order, and whatever the owner sends in reaction to an event is queued before the
//    reaction to any later frame (an echo server echoes a message before failing on the bad
//    frame that followed it). Payload spans in an Event stay valid until the next call to
//    PollEvent() or Receive(); a single-frame message is handed out without an extra copy.
//  * Output: every frame the session produces (pongs, closes, keepalive pings, messages the
//    owner sends, pre-encoded frames queued with SendEncoded) goes into one OutputQueue in
//    order. The owner writes it wherever it likes (see OutputQueue; sim::Stream adapter in
//    stream_connection.h). The session never writes, reads a clock or draws randomness
//    except from the sim::Rng it owns (client masking keys, through wslay's genmask callback).
//  * Time is data: NextDeadline() is the earliest timer (keepalive ping, idle timeout, close
//    handshake timeout); the owner calls HandleTimeout(now) at or after it. A peer that
//    answers none of keepalive_unanswered_max pings in a row is closed with 1001.
//
// States: kOpen -> kClosing (we sent Close; waiting for the peer's) -> kClosed, or
// kOpen -> kClosed directly when the peer sends Close (we echo it), when we fail the
// connection (protocol error: Close with 1002/1007/1009 and no wait), on timeout, or at
// EOF. Exactly one kClosed event is reported; after it the owner writes the remaining output
// and closes the transport (a server closes TCP first, RFC 6455 §7.1.1).
//
// Rules enforced on input (each failure sends Close with the code and ends the session):
//  * RSV bits must be 0 (no extensions are negotiated); reserved opcodes are invalid (1002).
//  * The server requires masked frames, the client requires unmasked ones (1002).
//  * Control frames need FIN and at most 125 bytes of payload (checked by wslay); they may come
//    between the fragments of a message. A continuation frame without a started message, or a
//    new text/binary frame inside a fragmented message, is 1002.
//  * A message larger than SessionOptions::message_bytes_max is refused with 1009 as soon as a
//    frame header announces it, before its payload is buffered.
//  * Text must be UTF-8, checked incrementally across fragments so that an invalid byte fails
//    at once (1007). A Close frame's payload must be empty or a valid code (IsValidCloseCode)
//    plus a UTF-8 reason; a 1-byte payload or an invalid code is 1002, a bad reason 1007.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/websocket/frame.h"
#include "protocol/websocket/output_queue.h"
#include "sim/rng.h"

struct wslay_frame_context;

namespace wpsim::protocol::websocket {

using Nanos = int64_t;  // nanoseconds, the unit of sim::Nanos
inline constexpr Nanos kSecondNs = 1'000'000'000;

enum class Role { kServer, kClient };

struct SessionOptions {
  size_t message_bytes_max = kMessageBytesMaxDefault;
  // Data sends are refused (Error "backpressure") while more than this many bytes wait in the
  // output; control frames are always queued. The owner decides what a refusal means (the
  // service closes slow consumers with 1008).
  size_t output_bytes_max = 16 * 1024 * 1024;
  // Outgoing messages longer than this are sent as several frames (0: never fragment).
  size_t fragment_bytes_max = 0;
  Nanos keepalive_interval = 0;  // send a ping this often while open (0: never)
  // Close (1001) instead of sending the next keepalive ping when this many pings in a row got
  // nothing back (no pong nor any other byte from the peer) (0: never).
  int keepalive_unanswered_max = 0;
  Nanos idle_timeout = 0;        // close (1001) when nothing arrived for this long (0: never)
  Nanos close_timeout = 5 * kSecondNs;  // wait this long for the peer's Close
};

enum class State { kOpen, kClosing, kClosed };

enum class CloseCause {
  kPeerClosed,      // the peer sent Close; we echoed it
  kLocalClosed,     // we sent Close and the peer answered
  kProtocolError,   // the peer broke the protocol; we sent close_code and stopped
  kTimeout,         // idle timeout (we sent 1001) or no answer to our Close in time
  kTransportEnded,  // EOF without a closing handshake
};
std::string_view CloseCauseName(CloseCause cause);

struct Event {
  enum class Kind { kMessage, kPing, kPong, kClosed };
  Kind kind = Kind::kMessage;
  Opcode opcode = Opcode::kText;     // kMessage: kText or kBinary
  std::span<const uint8_t> payload;  // message, ping or pong payload
  // kClosed. close_code: the code the peer sent (kNoStatus when its Close had none) for
  // kPeerClosed/kLocalClosed; the code we sent for kProtocolError and idle timeouts;
  // kAbnormal (1006) otherwise. close_reason: the matching reason text (or why we failed).
  CloseCause cause = CloseCause::kPeerClosed;
  uint16_t close_code = 0;
  std::string_view close_reason;
  bool clean = false;  // Close frames went both ways

  std::string_view text() const { return AsString(payload); }
};

class Session {
 public:
  // `rng` supplies client masking keys; a server never draws from it.
  Session(Role role, const SessionOptions& options, sim::Rng rng = sim::Rng(0));
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Arms the timers. Call once, when the handshake completes.
  void Start(Nanos now);

  // --- input ---
  void Receive(Nanos now, std::span<const uint8_t> data);
  // The transport reached EOF. Already buffered bytes are still parsed first.
  void ReceiveEof();
  std::optional<Event> PollEvent();

  // --- sending (each queues whole frames) ---
  Status SendText(std::string_view text);
  Status SendBinary(std::span<const uint8_t> data);
  Status Send(Opcode opcode, std::span<const uint8_t> payload);
  // Queues a frame made by EncodeServerFrame (server role only), sharing its bytes, in order
  // with everything else this session sends. Allocates nothing in steady state.
  Status SendEncoded(const SharedBytes& frame);
  // Queues a copy of a pre-encoded server frame and returns the copy, writable until the next
  // call on this session, so the caller can patch per-receiver bytes (an MQTT packet id) of a
  // frame shared by many receivers. No allocation in steady state (the output arena is reused).
  Result<std::span<uint8_t>> SendEncodedCopy(std::span<const uint8_t> frame);
  Status Ping(std::span<const uint8_t> payload = {});
  // Starts the closing handshake (no-op unless open). `code` must be IsValidCloseCode; any
  // reason is accepted and the frame carries CloseReasonForFrame(reason) (at most 123 bytes,
  // cut at a UTF-8 boundary). close_code::kNoStatus (1005) sends a Close frame without a
  // payload (no status code, so no reason). The kClosed event reports what the frame carried.
  void Close(Nanos now, uint16_t code, std::string_view reason = {});

  // --- time ---
  std::optional<Nanos> NextDeadline() const;
  void HandleTimeout(Nanos now);

  // --- output ---
  OutputQueue& output() { return output_; }
  const OutputQueue& output() const { return output_; }
  bool HasOutput() const { return !output_.empty(); }

  Role role() const { return role_; }
  State state() const { return state_; }
  // True while the session holds a wslay frame context (mid-frame); idle sessions borrow one
  // from a per-thread pool only while parsing or encoding (tests; memory per idle connection).
  bool holds_frame_context() const { return ctx_ != nullptr; }
  // True once kClosed has been reported and every byte has been taken from the output: the
  // owner should now close the transport.
  bool Finished() const { return state_ == State::kClosed && closed_reported_ && output_.empty(); }
  const SessionOptions& options() const { return options_; }

 private:
  struct Callbacks;
  friend struct Callbacks;
  enum Timer { kKeepalive, kIdle, kCloseWait, kTimerCount };

  void QueueFrame(Opcode opcode, bool fin, std::span<const uint8_t> payload);
  void QueueClose(uint16_t code, std::string_view reason);
  Event Fail(uint16_t code, std::string_view reason);
  Event Closed(CloseCause cause, uint16_t code, std::string_view reason, bool clean);
  std::optional<Event> OnFrameStart(uint8_t fin, uint8_t rsv, uint8_t opcode, uint64_t length,
                                    bool masked);
  // wslay reports a frame only with its first payload byte, so a header announcing a huge
  // message would wait unanswered for payload. Between frames, this reads the next header from
  // the input (the bytes wslay has buffered without reporting are kept there) and fails at once
  // (1009) when the message it starts or continues is over SessionOptions::message_bytes_max.
  std::optional<Event> CheckNextFrameHeader();
  std::optional<Event> OnControlFrame();
  std::optional<Event> Parse();
  void CompactInput();
  // The wslay context is borrowed from a per-thread pool while in use (see session.cc).
  void AcquireContext();
  void ReleaseContextIfIdle();
  bool WslayIdle() const;  // no frame half-parsed, no byte buffered inside wslay
  static thread_local Session* tls_session_;  // the session whose wslay call is running

  Role role_;
  SessionOptions options_;
  std::unique_ptr<sim::Rng> rng_;  // client role only (masking keys)
  wslay_frame_context* ctx_ = nullptr;  // null while idle (pooled)
  uint64_t wslay_fed_ = 0;              // input bytes handed to wslay
  uint64_t wslay_consumed_ = 0;         // bytes of the frames wslay has reported
  State state_ = State::kOpen;
  bool closed_reported_ = false;
  bool eof_ = false;
  int pings_unanswered_ = 0;  // keepalive pings sent since the peer last sent a byte
  std::unique_ptr<Event> pending_closed_;  // from a timeout or Close, reported by PollEvent
  std::string close_reason_;             // storage for Event::close_reason

  std::vector<uint8_t> input_;
  size_t input_pos_ = 0;

  // Frame being received.
  bool in_frame_ = false;
  Opcode frame_opcode_ = Opcode::kContinuation;
  bool frame_fin_ = false;
  uint64_t frame_length_ = 0;
  uint64_t frame_received_ = 0;
  // Message being received (data frames).
  bool in_message_ = false;
  Opcode message_opcode_ = Opcode::kText;
  std::vector<uint8_t> message_;
  bool clear_message_ = false;
  Utf8Validator utf8_;
  std::unique_ptr<std::array<uint8_t, kControlPayloadMax>> control_;  // on first use
  size_t control_size_ = 0;

  std::array<std::optional<Nanos>, kTimerCount> deadlines_{};
  OutputQueue output_;
};

}  // namespace wpsim::protocol::websocket
