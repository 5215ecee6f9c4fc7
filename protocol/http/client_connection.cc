#include "protocol/http/client_connection.h"

#include "base/result.h"

namespace wpsim::protocol::http {

ClientConnection::ClientConnection(const Limits& limits)
    : parser_(Parser::Type::kResponse, limits) {}

void ClientConnection::SendRequest(const Request& request) {
  AppendRequest(out_, request);
  parser_.ExpectResponse(request.IsHead());
  ++outstanding_;
}

void ClientConnection::Receive(std::span<const uint8_t> data) {
  if (parser_.upgraded()) {
    upgrade_bytes_.insert(upgrade_bytes_.end(), data.begin(), data.end());
    return;
  }
  const size_t consumed = parser_.Feed(data);
  Drain();
  if (parser_.upgraded()) {
    upgrade_bytes_.insert(upgrade_bytes_.end(), data.begin() + static_cast<ptrdiff_t>(consumed),
                          data.end());
  }
}

void ClientConnection::ReceiveEof() {
  parser_.FeedEof();
  Drain();
}

void ClientConnection::Drain() {
  while (parser_.HasEvent()) {
    ParserEvent pe = parser_.Next();
    ClientEvent ev;
    ev.kind = ClientEvent::Kind::kResponse;
    ev.response = std::move(pe.message).ToResponse();
    // 1xx responses are interim, except 101, which is the final answer to an upgrade.
    const int status = ev.response.status;
    if ((status >= 200 || status == 101) && outstanding_ > 0) --outstanding_;
    events_.push_back(std::move(ev));
  }
  if (parser_.failed() && !error_reported_) {
    error_reported_ = true;
    ClientEvent ev;
    ev.kind = ClientEvent::Kind::kError;
    ev.error = parser_.error();
    events_.push_back(std::move(ev));
  }
}

std::optional<ClientEvent> ClientConnection::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::span<const uint8_t> ClientConnection::PeekOutput() const {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(out_.data()) + out_pos_,
                                  out_.size() - out_pos_);
}

void ClientConnection::ConsumeOutput(size_t n) {
  WPSIM_ASSERT(n <= out_.size() - out_pos_);
  out_pos_ += n;
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
}

std::string ClientConnection::TakeOutput() {
  std::string s = out_.substr(out_pos_);
  out_.clear();
  out_pos_ = 0;
  return s;
}

}  // namespace wpsim::protocol::http
