#include "protocol/websocket/session.h"

#include <wslay/wslay.h>

#include <algorithm>
#include <cstring>

namespace wpsim::protocol::websocket {
namespace {
// Input bytes already parsed are dropped from the front of the buffer once this many pile up
// (or whenever the buffer empties), keeping the copy cost amortised.
constexpr size_t kInputCompactBytesMin = 4096;
// A reassembly buffer grown past this by a large message is released after delivery, so idle
// connections do not keep megabytes each.
constexpr size_t kMessageKeepCapacityMax = 256 * 1024;

// Validates text incrementally. Chat-style payloads are mostly ASCII: while the validator is
// between code points, a run of ASCII bytes (checked eight at a time) cannot change its state,
// so only the bytes from the first non-ASCII one on go through the DFA.
bool FeedUtf8(Utf8Validator& v, std::span<const uint8_t> data) {
  if (v.Complete()) {
    size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, data.data() + i, 8);
      if ((w & 0x8080808080808080ULL) != 0) break;
    }
    while (i < data.size() && data[i] < 0x80) ++i;
    data = data.subspan(i);
  }
  return v.Feed(data);
}

bool IsKnownOpcode(uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// The bytes of a frame header as wslay reads it (it refuses lengths not in shortest form).
uint64_t HeaderBytes(uint64_t payload_length, bool masked) {
  const uint64_t ext = payload_length < 126 ? 0 : payload_length <= 0xFFFF ? 2 : 8;
  return 2 + ext + (masked ? 4 : 0);
}

// wslay's frame context carries a 4 KiB input buffer, twice what an idle connection may
// otherwise cost. A session holds a context only while it is parsing or encoding; between
// frames the context is idle (empty input buffer, both state machines at a frame boundary) and
// interchangeable, so it goes back to this per-thread pool. Contexts are created with no user
// data: the callbacks find their session through tls_session, set around every wslay call.
// There is one pool per role: wslay never clears a context's output mask flag once a client
// frame set it, so a context that encoded client frames must not encode server frames.
constexpr size_t kIdleFrameContextsMax = 64;  // per role: ~270 KiB per thread at most

// Trivially destructible, so it stays usable after the guard below has emptied it at thread
// exit (sessions in static objects die after thread_local objects).
struct FrameContextPool {
  wslay_frame_context* idle[2][kIdleFrameContextsMax];  // [role]
  size_t count[2];
  bool closed;  // the thread is ending: contexts are freed, not kept
};
thread_local FrameContextPool tls_pool{};
struct FrameContextPoolGuard {
  ~FrameContextPoolGuard() {
    for (int r = 0; r < 2; ++r) {
      while (tls_pool.count[r] > 0) wslay_frame_context_free(tls_pool.idle[r][--tls_pool.count[r]]);
    }
    tls_pool.closed = true;
  }
};
thread_local FrameContextPoolGuard tls_pool_guard;

void PutContext(Role role, wslay_frame_context* ctx) {
  (void)&tls_pool_guard;  // odr-use: constructs the guard on this thread
  const int r = role == Role::kServer ? 0 : 1;
  if (!tls_pool.closed && tls_pool.count[r] < kIdleFrameContextsMax) {
    tls_pool.idle[r][tls_pool.count[r]++] = ctx;
  } else {
    wslay_frame_context_free(ctx);
  }
}
wslay_frame_context* TakeContext(Role role) {
  const int r = role == Role::kServer ? 0 : 1;
  return tls_pool.count[r] > 0 ? tls_pool.idle[r][--tls_pool.count[r]] : nullptr;
}
}  // namespace

thread_local Session* Session::tls_session_ = nullptr;

std::string_view CloseCauseName(CloseCause cause) {
  switch (cause) {
    case CloseCause::kPeerClosed: return "peer-closed";
    case CloseCause::kLocalClosed: return "local-closed";
    case CloseCause::kProtocolError: return "protocol-error";
    case CloseCause::kTimeout: return "timeout";
    case CloseCause::kTransportEnded: return "transport-ended";
  }
  return "?";
}

// wslay's frame callbacks. They only move bytes; no exception can leave them.
struct Session::Callbacks {
  static ssize_t Recv(uint8_t* buf, size_t len, int /*flags*/, void* user) {
    (void)user;
    Session* s = tls_session_;
    const size_t n = std::min(len, s->input_.size() - s->input_pos_);
    if (n == 0) return 0;  // wslay turns this into WSLAY_ERR_WANT_READ
    std::memcpy(buf, s->input_.data() + s->input_pos_, n);
    s->input_pos_ += n;
    s->wslay_fed_ += n;
    return static_cast<ssize_t>(n);
  }
  static ssize_t Send(const uint8_t* data, size_t len, int /*flags*/, void* user) {
    (void)user;
    tls_session_->output_.Append({data, len});
    return static_cast<ssize_t>(len);
  }
  static int GenMask(uint8_t* buf, size_t len, void* user) {
    (void)user;
    Session* s = tls_session_;
    for (size_t i = 0; i < len; i += 8) {
      uint64_t r = s->rng_->Next();
      for (size_t j = i; j < len && j < i + 8; ++j) {
        buf[j] = static_cast<uint8_t>(r);
        r >>= 8;
      }
    }
    return 0;
  }
};

Session::Session(Role role, const SessionOptions& options, sim::Rng rng)
    : role_(role), options_(options) {
  if (role == Role::kClient) rng_ = std::make_unique<sim::Rng>(rng);  // servers never mask
}

Session::~Session() {
  if (ctx_ == nullptr) return;
  if (WslayIdle()) {
    PutContext(role_, ctx_);
  } else {
    wslay_frame_context_free(ctx_);
  }
}

void Session::AcquireContext() {
  if (ctx_ != nullptr) return;
  if ((ctx_ = TakeContext(role_)) != nullptr) return;
  const wslay_frame_callbacks cb{Callbacks::Send, Callbacks::Recv, Callbacks::GenMask};
  WPSIM_ASSERT(wslay_frame_context_init(&ctx_, &cb, nullptr) == 0);
}

bool Session::WslayIdle() const { return !in_frame_ && wslay_fed_ == wslay_consumed_; }

void Session::ReleaseContextIfIdle() {
  if (ctx_ == nullptr || !WslayIdle()) return;
  PutContext(role_, ctx_);
  ctx_ = nullptr;
}

void Session::Start(Nanos now) {
  if (state_ != State::kOpen) return;
  if (options_.keepalive_interval > 0) deadlines_[kKeepalive] = now + options_.keepalive_interval;
  if (options_.idle_timeout > 0) deadlines_[kIdle] = now + options_.idle_timeout;
}

void Session::Receive(Nanos now, std::span<const uint8_t> data) {
  if (state_ == State::kClosed || data.empty()) return;
  input_.insert(input_.end(), data.begin(), data.end());
  pings_unanswered_ = 0;
  if (deadlines_[kIdle]) deadlines_[kIdle] = now + options_.idle_timeout;
}

void Session::ReceiveEof() { eof_ = true; }

void Session::CompactInput() {
  // Bytes wslay has read but not yet reported stay in input_: they are the start of the next
  // frame, whose header CheckNextFrameHeader reads (at most wslay's read buffer, 4 KiB).
  const size_t held = static_cast<size_t>(std::min<uint64_t>(wslay_fed_ - wslay_consumed_, input_pos_));
  const size_t drop = input_pos_ - held;
  if (held == 0 && input_pos_ == input_.size()) {
    input_.clear();
    input_pos_ = 0;
  } else if (drop >= kInputCompactBytesMin && drop * 2 >= input_.size()) {
    input_.erase(input_.begin(), input_.begin() + static_cast<ptrdiff_t>(drop));
    input_pos_ = held;
  }
}

std::optional<Event> Session::PollEvent() {
  if (clear_message_) {
    clear_message_ = false;
    message_.clear();
    if (message_.capacity() > kMessageKeepCapacityMax) message_.shrink_to_fit();
  }
  std::optional<Event> ev;
  if (pending_closed_) {
    ev = std::move(*pending_closed_);
    pending_closed_.reset();
  } else if (state_ != State::kClosed) {
    ev = Parse();
  }
  if (ev && ev->kind == Event::Kind::kClosed) closed_reported_ = true;
  return ev;
}

std::optional<Event> Session::Parse() {
  if (ctx_ == nullptr && input_pos_ == input_.size() && !eof_) return std::nullopt;  // idle
  AcquireContext();
  while (true) {
    if (auto too_big = CheckNextFrameHeader()) return too_big;
    wslay_frame_iocb iocb{};
    Session* const outer = tls_session_;
    tls_session_ = this;
    const ssize_t r = wslay_frame_recv(ctx_, &iocb);
    tls_session_ = outer;
    if (r == WSLAY_ERR_WANT_READ) {
      CompactInput();
      // No event refers to the context's buffer any more: give it back while idle.
      ReleaseContextIfIdle();
      if (eof_) {
        return Closed(CloseCause::kTransportEnded, close_code::kAbnormal,
                      "EOF without a closing handshake", false);
      }
      return std::nullopt;
    }
    if (r < 0) {
      // WSLAY_ERR_PROTO: a control frame over 125 bytes or without FIN, a 64-bit length with
      // the top bit set, or a length not in its shortest form.
      return Fail(close_code::kProtocolError, "malformed frame header");
    }
    if (!in_frame_) {
      wslay_consumed_ += HeaderBytes(iocb.payload_length, iocb.mask != 0);
      if (auto failed = OnFrameStart(iocb.fin, iocb.rsv, iocb.opcode, iocb.payload_length,
                                     iocb.mask != 0)) {
        return failed;
      }
    }
    const std::span<const uint8_t> data(iocb.data, iocb.data_length);
    wslay_consumed_ += data.size();
    frame_received_ += data.size();
    const bool frame_done = frame_received_ == frame_length_;
    if (frame_done) in_frame_ = false;

    if (IsControl(frame_opcode_)) {
      if (!data.empty()) {
        // Most control frames (keepalive pings and pongs) are empty: the buffer is only
        // allocated for the first one with a payload, so idle connections do not carry it.
        if (!control_) control_ = std::make_unique<std::array<uint8_t, kControlPayloadMax>>();
        std::memcpy(control_->data() + control_size_, data.data(), data.size());
      }
      control_size_ += data.size();
      if (frame_done) {
        if (auto ev = OnControlFrame()) return ev;
      }
      continue;
    }
    if (state_ != State::kOpen) continue;  // data after our Close is dropped

    if (message_opcode_ == Opcode::kText && !FeedUtf8(utf8_, data)) {
      return Fail(close_code::kInvalidPayload, "text message is not valid UTF-8");
    }
    const bool message_done = frame_done && frame_fin_;
    if (message_done && message_.empty() && frame_opcode_ != Opcode::kContinuation &&
        data.size() == frame_length_) {
      // The whole message is one frame and arrived in one piece: hand out wslay's buffer.
      in_message_ = false;
      if (message_opcode_ == Opcode::kText && !utf8_.Complete()) {
        return Fail(close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence");
      }
      Event ev;
      ev.kind = Event::Kind::kMessage;
      ev.opcode = message_opcode_;
      ev.payload = data;
      return ev;
    }
    message_.insert(message_.end(), data.begin(), data.end());
    if (message_done) {
      in_message_ = false;
      if (message_opcode_ == Opcode::kText && !utf8_.Complete()) {
        return Fail(close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence");
      }
      clear_message_ = true;
      Event ev;
      ev.kind = Event::Kind::kMessage;
      ev.opcode = message_opcode_;
      ev.payload = std::span<const uint8_t>(message_.data(), message_.size());
      return ev;
    }
  }
}

std::optional<Event> Session::CheckNextFrameHeader() {
  if (state_ != State::kOpen || in_frame_) return std::nullopt;
  // The next frame starts with the bytes wslay has read but not reported (kept by CompactInput).
  const uint64_t unreported = wslay_fed_ - wslay_consumed_;
  if (unreported > input_pos_) return std::nullopt;
  const size_t start = input_pos_ - static_cast<size_t>(unreported);
  const std::span<const uint8_t> next(input_.data() + start, input_.size() - start);
  if (next.size() < 2) return std::nullopt;
  const uint8_t opcode = next[0] & 0x0F;
  const bool rsv = (next[0] & 0x70) != 0;
  const bool masked = (next[1] & 0x80) != 0;
  // Only well-formed data frames are judged here; everything else takes the usual path (so a
  // frame with several faults is refused for the same one either way).
  if (rsv || masked != (role_ == Role::kServer)) return std::nullopt;
  if (opcode == static_cast<uint8_t>(Opcode::kContinuation)) {
    if (!in_message_) return std::nullopt;
  } else if (opcode == static_cast<uint8_t>(Opcode::kText) ||
             opcode == static_cast<uint8_t>(Opcode::kBinary)) {
    if (in_message_) return std::nullopt;
  } else {
    return std::nullopt;
  }
  uint64_t length = next[1] & 0x7F;
  if (length == 126) {
    if (next.size() < 4) return std::nullopt;
    length = (uint64_t{next[2]} << 8) | next[3];
  } else if (length == 127) {
    if (next.size() < 10) return std::nullopt;
    length = 0;
    for (size_t i = 2; i < 10; ++i) length = (length << 8) | next[i];
    if ((length >> 63) != 0) return std::nullopt;  // wslay refuses it (1002)
  }
  const size_t held = opcode == static_cast<uint8_t>(Opcode::kContinuation) ? message_.size() : 0;
  if (length > options_.message_bytes_max - std::min(held, options_.message_bytes_max)) {
    return Fail(close_code::kMessageTooBig, "message exceeds the size limit");
  }
  return std::nullopt;
}

std::optional<Event> Session::OnFrameStart(uint8_t fin, uint8_t rsv, uint8_t opcode,
                                           uint64_t length, bool masked) {
  if (rsv != 0) return Fail(close_code::kProtocolError, "reserved bits set without an extension");
  if (!IsKnownOpcode(opcode)) return Fail(close_code::kProtocolError, "reserved opcode");
  if (role_ == Role::kServer && !masked) {
    return Fail(close_code::kProtocolError, "client frame is not masked");
  }
  if (role_ == Role::kClient && masked) {
    return Fail(close_code::kProtocolError, "server frame is masked");
  }
  const auto op = static_cast<Opcode>(opcode);
  in_frame_ = true;
  frame_opcode_ = op;
  frame_fin_ = fin != 0;
  frame_length_ = length;
  frame_received_ = 0;
  if (IsControl(op)) {
    control_size_ = 0;
    return std::nullopt;
  }
  if (state_ != State::kOpen) return std::nullopt;  // dropped anyway
  if (op == Opcode::kContinuation) {
    if (!in_message_) return Fail(close_code::kProtocolError, "continuation without a message");
  } else {
    if (in_message_) {
      return Fail(close_code::kProtocolError, "new message inside a fragmented message");
    }
    in_message_ = true;
    message_opcode_ = op;
    message_.clear();
    utf8_.Reset();
  }
  if (length > options_.message_bytes_max - std::min(message_.size(), options_.message_bytes_max)) {
    return Fail(close_code::kMessageTooBig, "message exceeds the size limit");
  }
  return std::nullopt;
}

std::optional<Event> Session::OnControlFrame() {
  const std::span<const uint8_t> payload(control_ ? control_->data() : nullptr, control_size_);
  switch (frame_opcode_) {
    case Opcode::kPing: {
      if (state_ != State::kOpen) return std::nullopt;  // no Pong after our Close
      QueueFrame(Opcode::kPong, true, payload);
      Event ev;
      ev.kind = Event::Kind::kPing;
      ev.payload = payload;
      return ev;
    }
    case Opcode::kPong: {
      if (state_ != State::kOpen) return std::nullopt;
      Event ev;
      ev.kind = Event::Kind::kPong;
      ev.payload = payload;
      return ev;
    }
    case Opcode::kClose: {
      if (payload.size() == 1) return Fail(close_code::kProtocolError, "1-byte Close payload");
      uint16_t code = close_code::kNoStatus;
      std::string_view reason;
      if (payload.size() >= 2) {
        code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
        if (!IsValidCloseCode(code)) return Fail(close_code::kProtocolError, "invalid close code");
        reason = AsString(payload.subspan(2));
        if (!IsValidUtf8(reason)) {
          return Fail(close_code::kInvalidPayload, "close reason is not valid UTF-8");
        }
      }
      if (state_ == State::kOpen) {
        // Echo the peer's status code (RFC 6455 §5.5.1), without a reason.
        if (payload.empty()) {
          QueueFrame(Opcode::kClose, true, {});
        } else {
          QueueFrame(Opcode::kClose, true, payload.first(2));
        }
        return Closed(CloseCause::kPeerClosed, code, reason, true);
      }
      return Closed(CloseCause::kLocalClosed, code, reason, true);
    }
    default:
      WPSIM_ASSERT(false);
      return std::nullopt;
  }
}

void Session::QueueFrame(Opcode opcode, bool fin, std::span<const uint8_t> payload) {
  wslay_frame_iocb iocb{};
  iocb.fin = fin ? 1 : 0;
  iocb.opcode = static_cast<uint8_t>(opcode);
  iocb.payload_length = payload.size();
  iocb.mask = role_ == Role::kClient ? 1 : 0;
  iocb.data = payload.data();
  iocb.data_length = payload.size();
  // Our send callback always takes everything, so one call writes the whole frame (and leaves
  // the context's output side at a frame boundary).
  const bool borrowed = ctx_ == nullptr;  // then no event refers to the context's buffer
  AcquireContext();
  Session* const outer = tls_session_;
  tls_session_ = this;
  const ssize_t r = wslay_frame_send(ctx_, &iocb);
  tls_session_ = outer;
  WPSIM_ASSERT(r >= 0 && static_cast<size_t>(r) == payload.size());
  if (borrowed) ReleaseContextIfIdle();
}

void Session::QueueClose(uint16_t code, std::string_view reason) {
  std::array<uint8_t, kControlPayloadMax> buf{};
  buf[0] = static_cast<uint8_t>(code >> 8);
  buf[1] = static_cast<uint8_t>(code & 0xFF);
  const std::string_view cut = CloseReasonForFrame(reason);
  const size_t n = cut.size();
  if (n > 0) std::memcpy(buf.data() + 2, cut.data(), n);  // data() may be null when empty
  QueueFrame(Opcode::kClose, true, std::span<const uint8_t>(buf.data(), 2 + n));
}

Event Session::Closed(CloseCause cause, uint16_t code, std::string_view reason, bool clean) {
  state_ = State::kClosed;
  deadlines_ = {};
  close_reason_.assign(reason);
  Event ev;
  ev.kind = Event::Kind::kClosed;
  ev.cause = cause;
  ev.close_code = code;
  ev.close_reason = close_reason_;
  ev.clean = clean;
  return ev;
}

Event Session::Fail(uint16_t code, std::string_view reason) {
  if (state_ == State::kOpen) QueueClose(code, reason);
  return Closed(CloseCause::kProtocolError, code, reason, false);
}

Status Session::SendText(std::string_view text) {
  if (!IsValidUtf8(text)) return MakeError("invalid_utf8", "text messages must be UTF-8");
  return Send(Opcode::kText, AsBytes(text));
}

Status Session::SendBinary(std::span<const uint8_t> data) { return Send(Opcode::kBinary, data); }

Status Session::Send(Opcode opcode, std::span<const uint8_t> payload) {
  WPSIM_ASSERT(opcode == Opcode::kText || opcode == Opcode::kBinary);
  if (state_ != State::kOpen) return MakeError("closed", "the WebSocket is closing or closed");
  if (output_.bytes() + payload.size() > options_.output_bytes_max) {
    return MakeError("backpressure", "output queue is over SessionOptions::output_bytes_max");
  }
  const size_t step = options_.fragment_bytes_max;
  if (step == 0 || payload.size() <= step) {
    QueueFrame(opcode, true, payload);
    return Status::Ok();
  }
  Opcode op = opcode;
  while (!payload.empty()) {
    const size_t n = std::min(step, payload.size());
    QueueFrame(op, n == payload.size(), payload.first(n));
    payload = payload.subspan(n);
    op = Opcode::kContinuation;
  }
  return Status::Ok();
}

Result<std::span<uint8_t>> Session::SendEncodedCopy(std::span<const uint8_t> frame) {
  WPSIM_ASSERT(role_ == Role::kServer);
  if (state_ != State::kOpen) return MakeError("closed", "the WebSocket is closing or closed");
  if (output_.bytes() + frame.size() > options_.output_bytes_max) {
    return MakeError("backpressure", "output queue is over SessionOptions::output_bytes_max");
  }
  return output_.AppendCopy(frame);
}

Status Session::SendEncoded(const SharedBytes& frame) {
  WPSIM_ASSERT(role_ == Role::kServer);  // client frames must be masked per frame
  if (state_ != State::kOpen) return MakeError("closed", "the WebSocket is closing or closed");
  if (output_.bytes() + frame.size() > options_.output_bytes_max) {
    return MakeError("backpressure", "output queue is over SessionOptions::output_bytes_max");
  }
  output_.AppendShared(frame);
  return Status::Ok();
}

Status Session::Ping(std::span<const uint8_t> payload) {
  WPSIM_ASSERT(payload.size() <= kControlPayloadMax);
  if (state_ != State::kOpen) return MakeError("closed", "the WebSocket is closing or closed");
  QueueFrame(Opcode::kPing, true, payload);
  return Status::Ok();
}

void Session::Close(Nanos now, uint16_t code, std::string_view reason) {
  if (state_ != State::kOpen) return;
  WPSIM_ASSERT(IsValidCloseCode(code) || code == close_code::kNoStatus);
  if (code == close_code::kNoStatus) {
    QueueFrame(Opcode::kClose, true, {});  // RFC 6455 §7.1.5: no status code, so no reason
  } else {
    QueueClose(code, reason);  // cuts the reason to what a Close frame can carry
  }
  state_ = State::kClosing;
  deadlines_ = {};
  deadlines_[kCloseWait] = now + options_.close_timeout;
}

std::optional<Nanos> Session::NextDeadline() const {
  std::optional<Nanos> next;
  for (const auto& d : deadlines_) {
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

void Session::HandleTimeout(Nanos now) {
  if (state_ == State::kClosed || pending_closed_) return;
  // Fixed order (close wait, idle, keepalive) keeps equal deadlines deterministic.
  if (deadlines_[kCloseWait] && *deadlines_[kCloseWait] <= now) {
    pending_closed_ = std::make_unique<Event>(Closed(
        CloseCause::kTimeout, close_code::kAbnormal, "no Close from the peer in time", false));
    return;
  }
  if (deadlines_[kIdle] && *deadlines_[kIdle] <= now) {
    QueueClose(close_code::kGoingAway, "idle timeout");
    pending_closed_ = std::make_unique<Event>(
        Closed(CloseCause::kTimeout, close_code::kGoingAway, "idle timeout", false));
    return;
  }
  if (deadlines_[kKeepalive] && *deadlines_[kKeepalive] <= now) {
    if (options_.keepalive_unanswered_max > 0 &&
        pings_unanswered_ >= options_.keepalive_unanswered_max) {
      constexpr std::string_view kReason = "keep-alive timeout: pings unanswered";
      QueueClose(close_code::kGoingAway, kReason);
      pending_closed_ = std::make_unique<Event>(
          Closed(CloseCause::kTimeout, close_code::kGoingAway, kReason, false));
      return;
    }
    ++pings_unanswered_;
    QueueFrame(Opcode::kPing, true, {});
    deadlines_[kKeepalive] = now + options_.keepalive_interval;
  }
}

}  // namespace wpsim::protocol::websocket
