// ClientConnection: the client side of one HTTP/1.1 connection, sans-IO.
//
// Theory of operation. SendRequest() serialises a request into the output (requests may be
// pipelined) and remembers whether it was HEAD, because the response to a HEAD has no body.
// The owner feeds received bytes with Receive() and takes events with PollEvent():
//  * kResponse — a response. Interim 1xx responses (100 Continue) are reported too and do not
//    answer a request; every final response answers the oldest request still open.
//  * kError — the response stream was not acceptable HTTP or broke a limit (sticky).
// A 101 Switching Protocols response ends HTTP: upgraded() turns true and TakeUpgradeBytes()
// returns what followed the 101 head (the first bytes of the new protocol). ReceiveEof()
// completes a response whose body runs to the end of the connection.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/http/message.h"
#include "protocol/http/parser.h"

namespace wpsim::protocol::http {

struct ClientEvent {
  enum class Kind { kResponse, kError };
  Kind kind = Kind::kResponse;
  Response response;
  HttpError error;
};

class ClientConnection {
 public:
  explicit ClientConnection(const Limits& limits = Limits{});

  void SendRequest(const Request& request);
  void Receive(std::span<const uint8_t> data);
  void ReceiveEof();
  std::optional<ClientEvent> PollEvent();

  bool HasOutput() const { return out_pos_ < out_.size(); }
  std::span<const uint8_t> PeekOutput() const;
  void ConsumeOutput(size_t n);
  std::string TakeOutput();

  // Requests sent and not yet answered by a final response.
  size_t outstanding() const { return outstanding_; }
  bool upgraded() const { return parser_.upgraded(); }
  bool failed() const { return parser_.failed(); }
  std::vector<uint8_t> TakeUpgradeBytes() { return std::move(upgrade_bytes_); }
  const Parser& parser() const { return parser_; }

 private:
  void Drain();

  Parser parser_;
  std::deque<ClientEvent> events_;
  size_t outstanding_ = 0;
  bool error_reported_ = false;
  std::vector<uint8_t> upgrade_bytes_;
  std::string out_;
  size_t out_pos_ = 0;
};

}  // namespace wpsim::protocol::http
