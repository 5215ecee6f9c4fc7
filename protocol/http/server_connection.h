// ServerConnection: the server side of one HTTP/1.1 connection, sans-IO.
//
// Theory of operation. The owner feeds the bytes it reads with Receive() (and ReceiveEof() at
// EOF), then takes events with PollEvent() until it returns nothing:
//  * kRequest — a complete request with its id (1, 2, 3, ... in arrival order). Requests may
//    be pipelined: several can be outstanding at once, up to Limits::pipelined_requests_max;
//    requests are taken from the parser one per PollEvent, so an owner that answers at once
//    never reaches it, and a request beyond it is answered 429 (Retry-After: 1) in its turn
//    while the connection stays open.
//  * kContinue — the head of a request that sent "Expect: 100-continue" and whose body has
//    not arrived yet. The owner calls Continue(id) to let the client send it (the interim
//    "100 Continue" goes out in order), or answers at once with Respond(id, ...) to refuse
//    it (the connection then closes after that response, since the client may or may not
//    send the body). A kRequest event for the same id follows if the body comes.
//  * kError — the input was not acceptable HTTP or broke a limit. The connection has already
//    queued the error response (ErrorResponse(): 400, 408, 413, 414, 431 or 505 with
//    Connection: close) after the responses still owed, and reads nothing more.
// The owner answers each request with Respond(id, response), in any order; responses leave
// in request order (a response waits in its slot until every earlier one is out). Output is
// polled: PeekOutput()/ConsumeOutput() (partial writes allowed) or TakeOutput().
//
// Keep-alive: after a request that does not keep the connection alive (Connection: close,
// HTTP/1.0 without keep-alive) or a response carrying Connection: close, the connection stops
// reading; WantsClose() turns true once every owed response has been taken from the output.
//
// Upgrade: a request with Connection: upgrade + Upgrade (a WebSocket handshake) stops HTTP
// parsing. The owner validates it (protocol/websocket/handshake.h) and either calls
// AcceptUpgrade(id, response_101), which queues the 101 and returns every byte received after
// the request head (they belong to the new protocol), or Respond(id, refusal), which closes
// the connection after the refusal. Bytes that arrive while the decision is pending are held,
// up to Limits::upgrade_buffer_bytes_max.
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

struct ServerEvent {
  enum class Kind { kRequest, kContinue, kError };
  Kind kind = Kind::kRequest;
  Request request;  // kRequest: complete; kContinue: head only (empty body)
  HttpError error;  // kError
};

class ServerConnection {
 public:
  explicit ServerConnection(const Limits& limits = Limits{});

  void Receive(std::span<const uint8_t> data);
  // The client shut down its writing side. An unfinished request becomes a kError event
  // (without a response: nobody is listening for it); the connection wants to close once the
  // responses still owed are out.
  void ReceiveEof();
  std::optional<ServerEvent> PollEvent();

  // The final response to request `id` (a kRequest or kContinue id not yet answered).
  void Respond(uint64_t id, Response response);
  // Sends "100 Continue" for a kContinue request (no-op if its body is already complete or it
  // was already answered).
  void Continue(uint64_t id);
  // Accepts the upgrade request `id` with `response` (status 101). Returns the bytes that
  // followed the request head; after this the connection is done with HTTP and the owner
  // feeds later bytes to the new protocol. Requires a pending upgrade with that id.
  std::vector<uint8_t> AcceptUpgrade(uint64_t id, Response response);

  bool HasOutput() const { return out_pos_ < out_.size(); }
  std::span<const uint8_t> PeekOutput() const;
  void ConsumeOutput(size_t n);
  std::string TakeOutput();

  // True when the owner should close the transport: the connection will read no more and
  // every response it owes has been taken from the output.
  bool WantsClose() const;
  bool upgraded() const { return upgraded_; }
  bool upgrade_pending() const { return upgrade_id_ != 0; }
  const Parser& parser() const { return parser_; }
  // Requests received and not yet fully answered.
  size_t outstanding() const { return slots_.size(); }
  // Requests answered 429 because pipelined_requests_max others were unanswered.
  uint64_t refused_over_limit() const { return refused_over_limit_; }
  // The owner's request-read deadline passed: a partial request is dropped, 408 Request
  // Timeout is queued after the responses still owed, and nothing more is read.
  void TimeOut();
  // True while some bytes of a request have arrived but not all of it.
  bool request_in_progress() const { return reading_ && !parser_.idle(); }

 private:
  struct Slot {
    uint64_t id = 0;
    bool head_request = false;      // answer without a body
    bool complete = false;          // the request (with body) has fully arrived
    bool answered = false;          // Respond() was called
    bool continue_wanted = false;   // Continue() called, 100 not yet written
    bool continue_sent = false;
    bool close_after = false;
    std::string response;           // serialised final response, waiting for its turn
  };

  Slot* FindSlot(uint64_t id);
  void Pump();  // takes parser events until one becomes an event of ours
  void Take(ParserEvent pe);
  void RefuseOverLimit(uint64_t id, bool keep_alive, bool body_pending);
  void HandleEof();
  void Release();  // writes ready responses in order
  void FailWith(const HttpError& error, bool respond);

  Limits limits_;
  Parser parser_;
  std::deque<ServerEvent> events_;
  std::deque<Slot> slots_;
  uint64_t next_id_ = 1;
  uint64_t head_id_ = 0;  // id given to the request whose kContinue head was last reported
  bool reading_ = true;   // false after close/error/upgrade decision
  bool closing_ = false;  // close after the owed responses
  bool eof_ = false;      // the client half-closed (judged once the parsed requests are out)
  uint64_t refused_over_limit_ = 0;
  bool upgraded_ = false;
  uint64_t upgrade_id_ = 0;
  std::vector<uint8_t> upgrade_bytes_;
  std::string out_;
  size_t out_pos_ = 0;
};

}  // namespace wpsim::protocol::http
