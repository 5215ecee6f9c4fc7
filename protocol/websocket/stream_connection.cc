#include "protocol/websocket/stream_connection.h"

namespace wpsim::protocol::websocket {

Connection::Connection(sim::Runtime& runtime, std::unique_ptr<sim::Stream> stream,
                       ConnectionHandler* handler, const SessionOptions& options,
                       std::string subprotocol, std::span<const uint8_t> initial)
    : runtime_(runtime),
      stream_(std::move(stream)),
      handler_(handler),
      session_(std::make_unique<Session>(Role::kServer, options)),
      subprotocol_(std::move(subprotocol)),
      alive_(std::make_shared<bool>(true)) {
  WPSIM_ASSERT(stream_ != nullptr && handler_ != nullptr);
  stream_->SetHandler(this);
  const Nanos now = runtime_.Now();
  session_->Start(now);
  if (!initial.empty()) {
    // Frames that arrived with the handshake: deliver them from the loop, not from here.
    session_->Receive(now, initial);
    ScheduleKick();
  }
  Rearm();
}

Connection::Connection(sim::Runtime& runtime, std::unique_ptr<sim::Stream> stream,
                       ConnectionHandler* handler, const SessionOptions& options,
                       ClientHandshake handshake, const http::Headers& extra, sim::Rng rng)
    : runtime_(runtime),
      stream_(std::move(stream)),
      handler_(handler),
      opening_(std::make_unique<ClientOpening>(options, std::move(handshake), rng)),
      alive_(std::make_shared<bool>(true)) {
  WPSIM_ASSERT(stream_ != nullptr && handler_ != nullptr);
  stream_->SetHandler(this);
  opening_->http.SendRequest(opening_->handshake.BuildRequest(extra));
  const std::string request = opening_->http.TakeOutput();
  stream_->Write(AsBytes(request));
  ++writes_;
}

FlushBatch::~FlushBatch() {
  *alive_ = false;
  for (Connection* c : pending_) {
    if (c != nullptr) c->batch_slot_ = Connection::kNoSlot;
  }
}

void FlushBatch::Add(Connection* connection) {
  connection->batch_slot_ = pending_.size();
  pending_.push_back(connection);
  if (posted_) return;
  posted_ = true;
  runtime_.Post([this, alive = alive_] {
    if (*alive) Run();
  });
}

void FlushBatch::Remove(Connection* connection) {
  pending_[connection->batch_slot_] = nullptr;
  connection->batch_slot_ = Connection::kNoSlot;
}

void FlushBatch::Run() {
  posted_ = false;
  // Pumping may destroy connections (they clear their slot) or queue more (appended, and
  // flushed in this same pass); the vector keeps its capacity between turns.
  constexpr size_t kPrefetchAhead = 8;  // flushing is bound by memory latency, not work
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (i + kPrefetchAhead < pending_.size() && pending_[i + kPrefetchAhead] != nullptr) {
      const char* p = reinterpret_cast<const char*>(pending_[i + kPrefetchAhead]);
      for (size_t line = 0; line < 4; ++line) __builtin_prefetch(p + 64 * line);
    }
    Connection* c = pending_[i];
    if (c == nullptr) continue;
    pending_[i] = nullptr;
    c->batch_slot_ = Connection::kNoSlot;
    c->Pump();
  }
  pending_.clear();
}

Connection::~Connection() {
  *alive_ = false;
  if (batch_ != nullptr && batch_slot_ != kNoSlot) batch_->Remove(this);
  if (deadline_timer_ != 0) runtime_.CancelTimer(deadline_timer_);
  if (kick_timer_ != 0) runtime_.CancelTimer(kick_timer_);
  if (stream_) stream_->SetHandler(nullptr);
}

Status Connection::SendText(std::string_view text) {
  if (!session_) return MakeError("not_open", "the WebSocket handshake has not completed");
  Status s = session_->SendText(text);
  if (s.ok()) ScheduleKick();
  return s;
}

Status Connection::SendBinary(std::span<const uint8_t> data) {
  if (!session_) return MakeError("not_open", "the WebSocket handshake has not completed");
  Status s = session_->SendBinary(data);
  if (s.ok()) ScheduleKick();
  return s;
}

Result<std::span<uint8_t>> Connection::SendEncodedCopy(std::span<const uint8_t> frame) {
  if (!session_) return MakeError("not_open", "the WebSocket handshake has not completed");
  Result<std::span<uint8_t>> copy = session_->SendEncodedCopy(frame);
  if (copy.ok()) ScheduleKick();
  return copy;
}

Status Connection::SendEncoded(const SharedBytes& frame) {
  if (!session_) return MakeError("not_open", "the WebSocket handshake has not completed");
  Status s = session_->SendEncoded(frame);
  if (s.ok()) ScheduleKick();
  return s;
}

Status Connection::Ping(std::span<const uint8_t> payload) {
  if (!session_) return MakeError("not_open", "the WebSocket handshake has not completed");
  Status s = session_->Ping(payload);
  if (s.ok()) ScheduleKick();
  return s;
}

void Connection::Close(uint16_t code, std::string_view reason) {
  if (finished_) return;
  if (!session_) {
    // Still handshaking: there is no WebSocket to close politely.
    Abort();
    return;
  }
  session_->Close(runtime_.Now(), code, reason);
  ScheduleKick();
}

void Connection::Abort() {
  if (finished_) return;
  finished_ = true;
  if (deadline_timer_ != 0) runtime_.CancelTimer(deadline_timer_);
  if (kick_timer_ != 0) runtime_.CancelTimer(kick_timer_);
  deadline_timer_ = kick_timer_ = 0;
  stream_->Reset();
}

void Connection::OnData(std::span<const uint8_t> data) {
  if (finished_) return;
  if (!session_) {
    HandshakeInput(data, false);
    return;
  }
  session_->Receive(runtime_.Now(), data);
  Pump();
}

void Connection::OnEnd() {
  if (finished_) return;
  if (!session_) {
    HandshakeInput({}, true);
    return;
  }
  session_->ReceiveEof();
  Pump();
}

void Connection::OnWritable() {
  if (finished_ || !session_) return;
  Flush(false);
}

void Connection::OnClosed(sim::CloseReason reason, std::string_view detail) {
  (void)reason;
  if (finished_) return;
  CloseInfo info;
  info.cause = CloseCause::kTransportEnded;
  info.code = close_code::kAbnormal;
  info.reason = std::string(detail);
  info.handshake_failed = !session_;
  Finish(info);
}

void Connection::HandshakeInput(std::span<const uint8_t> data, bool eof) {
  http::ClientConnection& http = opening_->http;
  if (eof) {
    http.ReceiveEof();
  } else {
    http.Receive(data);
  }
  while (auto ev = http.PollEvent()) {
    CloseInfo fail;
    fail.handshake_failed = true;
    fail.cause = CloseCause::kProtocolError;
    if (ev->kind == http::ClientEvent::Kind::kError) {
      fail.reason = "handshake answer is not HTTP: " + ev->error.reason;
      stream_->Close();
      Finish(fail);
      return;
    }
    const http::Response& response = ev->response;
    if (response.status >= 100 && response.status < 200 && response.status != 101) continue;
    Result<std::string> chosen = opening_->handshake.ValidateResponse(response);
    if (!chosen.ok()) {
      fail.http_status = response.status;
      fail.reason = chosen.error().message;
      stream_->Close();
      Finish(fail);
      return;
    }
    subprotocol_ = std::move(chosen.value());
    const std::vector<uint8_t> rest = http.TakeUpgradeBytes();
    const Nanos now = runtime_.Now();
    session_ = std::make_unique<Session>(Role::kClient, opening_->options, opening_->rng);
    opening_.reset();
    session_->Start(now);
    session_->Receive(now, rest);
    const auto alive = alive_;
    handler_->OnOpen(*this);
    if (!*alive || finished_) return;
    if (eof) session_->ReceiveEof();
    Pump();
    return;
  }
  if (eof) {
    CloseInfo fail;
    fail.handshake_failed = true;
    fail.reason = "the server closed the stream before answering the handshake";
    stream_->Close();
    Finish(fail);
  }
}

bool Connection::Pump() {
  if (finished_ || !session_) return false;
  const auto alive = alive_;
  in_pump_ = true;
  while (auto ev = session_->PollEvent()) {
    switch (ev->kind) {
      case Event::Kind::kMessage:
        handler_->OnMessage(*this, ev->opcode, ev->payload);
        break;
      case Event::Kind::kPing:
        handler_->OnPing(*this, ev->payload);
        break;
      case Event::Kind::kPong:
        handler_->OnPong(*this, ev->payload);
        break;
      case Event::Kind::kClosed: {
        in_pump_ = false;
        CloseInfo info;
        info.cause = ev->cause;
        info.code = ev->close_code;
        info.reason = std::string(ev->close_reason);
        info.clean = ev->clean;
        Flush(/*force=*/true);
        stream_->Close();
        Finish(info);
        return false;
      }
    }
    if (!*alive) return false;
    if (finished_) {
      in_pump_ = false;
      return false;
    }
  }
  in_pump_ = false;
  Flush(false);
  Rearm();
  return true;
}

void Connection::Finish(const CloseInfo& info) {
  finished_ = true;
  if (deadline_timer_ != 0) runtime_.CancelTimer(deadline_timer_);
  if (kick_timer_ != 0) runtime_.CancelTimer(kick_timer_);
  deadline_timer_ = kick_timer_ = 0;
  armed_deadline_.reset();
  handler_->OnClosed(*this, info);  // may destroy *this: nothing may follow
}

void Connection::Flush(bool force) {
  if (!session_ || !stream_) return;
  OutputQueue& q = session_->output();
  if (q.empty()) return;
  if (!force && !stream_->Writable()) return;  // OnWritable resumes; the session bounds the rest
  if (q.chunks() == 1) {
    if (const SharedBytes* shared = q.FrontShared()) {
      stream_->Write(*shared);  // the fan-out frame itself, not a copy
    } else {
      stream_->Write(q.Front());
    }
  } else {
    scratch_.clear();
    q.CopyTo(scratch_);
    stream_->Write(std::span<const uint8_t>(scratch_));
  }
  ++writes_;
  q.Consume(q.bytes());
}

void Connection::ScheduleKick() {
  if (in_pump_ || finished_) return;
  if (batch_ != nullptr) {
    if (batch_slot_ == kNoSlot) batch_->Add(this);
    return;
  }
  if (kick_timer_ != 0) return;
  kick_timer_ = runtime_.SetTimer(runtime_.Now(), [this] {
    kick_timer_ = 0;
    Pump();
  });
}

void Connection::Rearm() {
  if (finished_ || !session_) return;
  const std::optional<Nanos> next = session_->NextDeadline();
  if (next == armed_deadline_) return;
  if (deadline_timer_ != 0) runtime_.CancelTimer(deadline_timer_);
  deadline_timer_ = 0;
  armed_deadline_ = next;
  if (next) {
    deadline_timer_ = runtime_.SetTimer(*next, [this] {
      deadline_timer_ = 0;
      armed_deadline_.reset();
      OnTimer();
    });
  }
}

void Connection::OnTimer() {
  if (finished_ || !session_) return;
  session_->HandleTimeout(runtime_.Now());
  Pump();
}

}  // namespace wpsim::protocol::websocket
