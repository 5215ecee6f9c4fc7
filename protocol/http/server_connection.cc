#include "protocol/http/server_connection.h"

#include <algorithm>

#include "base/result.h"

namespace wpsim::protocol::http {
namespace {
constexpr std::string_view kContinueLine = "HTTP/1.1 100 Continue\r\n\r\n";
}  // namespace

ServerConnection::ServerConnection(const Limits& limits)
    : limits_(limits), parser_(Parser::Type::kRequest, limits) {}

ServerConnection::Slot* ServerConnection::FindSlot(uint64_t id) {
  for (Slot& s : slots_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

void ServerConnection::Receive(std::span<const uint8_t> data) {
  if (upgraded_ || data.empty()) return;
  if (upgrade_id_ != 0 || parser_.upgraded()) {
    if (upgrade_bytes_.size() + data.size() > limits_.upgrade_buffer_bytes_max) {
      // The client pushes more than a handshake's worth before the answer: give up on it.
      HttpError e{400, "upgrade_buffer_full",
                  "more than Limits::upgrade_buffer_bytes_max bytes before the upgrade answer",
                  parser_.offset() + upgrade_bytes_.size()};
      upgrade_id_ = 0;
      slots_.clear();
      FailWith(e, /*respond=*/false);
      return;
    }
    upgrade_bytes_.insert(upgrade_bytes_.end(), data.begin(), data.end());
    return;
  }
  if (!reading_ || eof_) return;
  const size_t consumed = parser_.Feed(data);
  if (parser_.upgraded()) {
    // Everything after the upgrade request's head belongs to the next protocol (held until
    // the owner decides; the request itself is reported by PollEvent in its turn).
    upgrade_bytes_.assign(data.begin() + static_cast<ptrdiff_t>(consumed), data.end());
  }
}

// Requests are taken from the parser one at a time, when the owner asks for the next event:
// an owner that answers each request as it comes never has more than one outstanding, however
// many the client pipelined in one write, and the in-flight bound only bites when answers are
// really pending.
void ServerConnection::Pump() {
  while (events_.empty() && reading_) {
    if (parser_.HasEvent()) {
      Take(parser_.Next());
      continue;
    }
    if (parser_.failed()) {
      FailWith(parser_.error(), /*respond=*/true);
    } else if (eof_) {
      HandleEof();
    }
    break;
  }
}

// A request beyond Limits::pipelined_requests_max is answered 429 at once, in its turn among
// the responses, and the connection stays usable: the client learns which requests to repeat.
void ServerConnection::RefuseOverLimit(uint64_t id, bool keep_alive, bool body_pending) {
  ++refused_over_limit_;
  Slot slot;
  slot.id = id;
  slot.complete = !body_pending;
  slot.answered = true;
  // A refused Expect: 100-continue head may or may not be followed by its body: close after.
  slot.close_after = !keep_alive || body_pending;
  Response r;
  r.status = 429;
  r.headers.Add("Content-Type", "text/plain; charset=utf-8");
  r.headers.Add("Retry-After", "1");
  if (slot.close_after) r.headers.Add("Connection", "close");
  r.body = "Too Many Requests: more unanswered requests than the connection may hold\n";
  AppendResponse(slot.response, r);
  slots_.push_back(std::move(slot));
  if (!keep_alive || body_pending) {
    reading_ = false;
    closing_ = true;
  }
  Release();
}

void ServerConnection::Take(ParserEvent pe) {
  if (pe.kind == ParserEvent::Kind::kHead) {
    const uint64_t id = next_id_++;
    head_id_ = id;
    if (slots_.size() >= limits_.pipelined_requests_max) {
      RefuseOverLimit(id, pe.message.keep_alive, /*body_pending=*/true);
      return;
    }
    Slot slot;
    slot.id = id;
    slots_.push_back(std::move(slot));
    ServerEvent ev;
    ev.kind = ServerEvent::Kind::kContinue;
    ev.request = std::move(pe.message).ToRequest();
    ev.request.id = id;
    events_.push_back(std::move(ev));
    return;
  }
  uint64_t id = head_id_;
  head_id_ = 0;
  Slot* slot = nullptr;
  if (id == 0) {
    id = next_id_++;
    if (slots_.size() >= limits_.pipelined_requests_max && !pe.message.upgrade) {
      RefuseOverLimit(id, pe.message.keep_alive, /*body_pending=*/false);
      return;
    }
    Slot s;
    s.id = id;
    slots_.push_back(std::move(s));
    slot = &slots_.back();
  } else {
    slot = FindSlot(id);  // null when an early refusal was already written
  }
  Request request = std::move(pe.message).ToRequest();
  request.id = id;
  if (!request.keep_alive) {
    reading_ = false;
    closing_ = true;
  }
  if (slot == nullptr || slot->answered) return;
  slot->complete = true;
  slot->head_request = request.IsHead();
  slot->close_after = !request.keep_alive;
  if (request.upgrade) {
    upgrade_id_ = id;
    reading_ = false;
    if (eof_) closing_ = true;
  }
  ServerEvent ev;
  ev.kind = ServerEvent::Kind::kRequest;
  ev.request = std::move(request);
  events_.push_back(std::move(ev));
}

void ServerConnection::FailWith(const HttpError& error, bool respond) {
  reading_ = false;
  closing_ = true;
  ServerEvent ev;
  ev.kind = ServerEvent::Kind::kError;
  ev.error = error;
  events_.push_back(std::move(ev));
  if (!respond) return;
  // Requests whose bodies never completed cannot be answered any more.
  std::erase_if(slots_, [](const Slot& s) { return !s.complete && !s.answered; });
  Slot slot;
  slot.id = next_id_++;
  slot.complete = true;
  slot.answered = true;
  slot.close_after = true;
  AppendResponse(slot.response, ErrorResponse(error));
  slots_.push_back(std::move(slot));
  Release();
}

std::optional<ServerEvent> ServerConnection::PollEvent() {
  Pump();
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ServerConnection::Respond(uint64_t id, Response response) {
  Slot* slot = FindSlot(id);
  // Unknown ids are requests dropped because the connection is closing: a normal race.
  if (slot == nullptr || slot->answered) return;
  WPSIM_ASSERT(response.status >= 200);
  if (id == upgrade_id_) {
    // Refused upgrade: whatever followed the head was meant for another protocol.
    upgrade_id_ = 0;
    upgrade_bytes_.clear();
    slot->close_after = true;
  }
  if (!slot->complete) slot->close_after = true;  // refused before the body arrived
  if (response.headers.HasToken("Connection", "close")) slot->close_after = true;
  if (slot->close_after) {
    reading_ = false;
    closing_ = true;
    if (!response.headers.HasToken("Connection", "close")) {
      response.headers.Add("Connection", "close");
    }
  }
  slot->answered = true;
  AppendResponse(slot->response, response, slot->head_request);
  Release();
}

void ServerConnection::Continue(uint64_t id) {
  Slot* slot = FindSlot(id);
  // Sent even when the body has already arrived: RFC 9110 §10.1.1 lets a server omit it then,
  // but sending it keeps the output independent of how the input was split into reads.
  if (slot == nullptr || slot->answered || slot->continue_sent) return;
  slot->continue_wanted = true;
  Release();
}

std::vector<uint8_t> ServerConnection::AcceptUpgrade(uint64_t id, Response response) {
  WPSIM_ASSERT(upgrade_id_ == id && id != 0);
  WPSIM_ASSERT(response.status == 101);
  Slot* slot = FindSlot(id);
  WPSIM_ASSERT(slot != nullptr && !slot->answered);
  slot->answered = true;
  AppendResponse(slot->response, response);
  upgrade_id_ = 0;
  upgraded_ = true;
  reading_ = false;
  Release();
  return std::move(upgrade_bytes_);
}

void ServerConnection::Release() {
  while (!slots_.empty()) {
    Slot& front = slots_.front();
    if (front.continue_wanted && !front.continue_sent && !front.answered) {
      out_ += kContinueLine;
      front.continue_sent = true;
    }
    if (!front.answered) break;
    out_ += front.response;
    const bool close = front.close_after;
    slots_.pop_front();
    if (close) {
      // Nothing after a closing response is ever answered.
      reading_ = false;
      closing_ = true;
      slots_.clear();
      events_.erase(std::remove_if(events_.begin(), events_.end(),
                                   [](const ServerEvent& e) {
                                     return e.kind != ServerEvent::Kind::kError;
                                   }),
                    events_.end());
      break;
    }
  }
}

void ServerConnection::ReceiveEof() {
  if (upgraded_) return;
  eof_ = true;
  if (upgrade_id_ != 0 || !reading_) {
    reading_ = false;
    closing_ = true;
  }
  // Otherwise the requests already parsed are still reported (Pump), and the EOF is judged
  // after the last of them (HandleEof).
}

void ServerConnection::HandleEof() {
  if (!parser_.upgraded()) {
    parser_.FeedEof();
    while (reading_ && parser_.HasEvent()) Take(parser_.Next());
    if (!parser_.idle() || parser_.failed()) {
      // A request cut short: there is nobody to answer.
      std::erase_if(slots_, [](const Slot& s) { return !s.complete && !s.answered; });
      HttpError e = parser_.error();
      if (e.code.empty()) e = HttpError{400, "eof_in_message", "EOF inside a request", parser_.offset()};
      FailWith(e, /*respond=*/false);
    }
  }
  reading_ = false;
  closing_ = true;
}

void ServerConnection::TimeOut() {
  if (upgraded_ || !reading_) return;
  // Requests already received keep their answers; the partial one is dropped.
  std::erase_if(slots_, [](const Slot& s) { return !s.complete && !s.answered; });
  FailWith(HttpError{408, "request_timeout", "the request did not arrive in time",
                     parser_.offset()},
           /*respond=*/true);
}

std::span<const uint8_t> ServerConnection::PeekOutput() const {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(out_.data()) + out_pos_,
                                  out_.size() - out_pos_);
}

void ServerConnection::ConsumeOutput(size_t n) {
  WPSIM_ASSERT(n <= out_.size() - out_pos_);
  out_pos_ += n;
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
}

std::string ServerConnection::TakeOutput() {
  std::string s = out_.substr(out_pos_);
  out_.clear();
  out_pos_ = 0;
  return s;
}

bool ServerConnection::WantsClose() const {
  return closing_ && !upgraded_ && slots_.empty() && !HasOutput();
}

}  // namespace wpsim::protocol::http
