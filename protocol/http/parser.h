// Parser: one direction of an HTTP/1.1 connection (requests or responses) on llhttp 9.
//
// Theory of operation. Bytes go in through Feed(); llhttp calls back with pieces of the
// start line, headers and body, which are accumulated into the message being parsed. Finished
// messages (and, for requests that say Expect: 100-continue, their heads as soon as the header
// section ends) queue up as events that the owner takes with Next(). The parser never writes.
//
// States: kParsing -> (kUpgraded | kFailed). Both ends are final:
//  * kUpgraded: a message with a successful Upgrade (a request with Connection: upgrade and
//    Upgrade, or a 101 response) is complete; Feed() returned how many bytes belonged to HTTP,
//    and every later byte belongs to the next protocol (the owner keeps them).
//  * kFailed: sticky, like llhttp itself. error() says why, with the HTTP status to answer and
//    the byte offset in the whole input where parsing stopped. Limits (Limits) are checked as
//    bytes arrive, never after buffering an unbounded amount.
// Every limit check uses absolute offsets in the input, so the outcome does not depend on how
// the input was split into Feed() calls.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>

#include "protocol/http/message.h"

struct llhttp__internal_s;  // llhttp_t; llhttp.h stays out of our headers

namespace wpsim::protocol::http {

// One parsed message, request or response (the fields of the other kind stay empty).
struct ParsedMessage {
  std::string method;  // requests
  std::string target;  // requests
  int status = 0;      // responses
  std::string reason;  // responses
  int version_minor = 1;
  Headers headers;
  std::string body;
  bool keep_alive = true;
  bool upgrade = false;
  bool expect_continue = false;
  bool chunked = false;

  Request ToRequest() &&;
  Response ToResponse() &&;
};

struct ParserEvent {
  enum class Kind {
    kHead,      // header section of a request that asked Expect: 100-continue (body follows)
    kMessage,   // a complete message
  };
  Kind kind = Kind::kMessage;
  ParsedMessage message;
};

class Parser {
 public:
  enum class Type { kRequest, kResponse };
  enum class State { kParsing, kUpgraded, kFailed };

  Parser(Type type, const Limits& limits);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses `data`; returns how many bytes were HTTP. That is all of them while parsing
  // succeeds; fewer when the parser fails or a message completes an upgrade.
  size_t Feed(std::span<const uint8_t> data);
  // The peer closed its side: completes a body delimited by EOF, or fails an unfinished message.
  void FeedEof();

  // Response parsing needs to know which requests were HEAD (their responses have no body even
  // with a Content-Length). Call once per request sent, in order.
  void ExpectResponse(bool to_head_request);

  bool HasEvent() const { return !events_.empty(); }
  ParserEvent Next();  // requires HasEvent()
  size_t pending_events() const { return events_.size(); }

  State state() const { return state_; }
  bool failed() const { return state_ == State::kFailed; }
  bool upgraded() const { return state_ == State::kUpgraded; }
  const HttpError& error() const { return error_; }
  // Bytes consumed so far (the offset of the next byte Feed() will see).
  uint64_t offset() const { return base_; }
  // True when no message is partially parsed (a clean place for the peer to close).
  bool idle() const { return !in_message_; }

 private:
  struct Callbacks;
  friend struct Callbacks;

  uint64_t Abs(const char* p) const;
  int CheckHead(const char* end);
  // Records a limit violation. `offset` is the absolute offset of the first byte past the
  // limit (computed, so it does not depend on how the input was split); 0 lets Feed() use
  // llhttp's error position instead.
  int Fail(int status, const char* code, const char* reason, uint64_t offset = 0);
  void CommitHeader();
  void Reset();

  Type type_;
  Limits limits_;
  State state_ = State::kParsing;
  HttpError error_;
  std::unique_ptr<::llhttp__internal_s> llhttp_;
  std::deque<ParserEvent> events_;
  std::deque<bool> response_to_head_;  // response parser: one entry per request sent

  // Current message.
  ParsedMessage current_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool in_message_ = false;
  bool in_head_ = false;
  bool start_known_ = false;
  uint64_t message_start_ = 0;
  uint64_t fail_offset_ = 0;

  // Position of the chunk being parsed.
  uint64_t base_ = 0;
  const char* chunk_ = nullptr;
};

}  // namespace wpsim::protocol::http
