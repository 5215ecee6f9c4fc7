// HTTP/1.1 message model shared by the server and client sides: ordered headers with
// case-insensitive lookup, requests, responses, the parser's limits and its error value, and
// serialisation of messages to wire bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wpsim::protocol::http {

// Case-insensitive ASCII comparison (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct Header {
  std::string name;
  std::string value;
};

// Headers in arrival order. Repeated names are kept as separate entries (RFC 9110 §5.3 allows a
// recipient to combine them with commas, which HasToken/GetList do on demand).
class Headers {
 public:
  using const_iterator = std::vector<Header>::const_iterator;

  void Add(std::string name, std::string value);
  // Replaces every header called `name` with one entry (appended when absent).
  void Set(std::string_view name, std::string value);
  void Remove(std::string_view name);
  // The first value of `name`, if present.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  std::vector<std::string_view> GetAll(std::string_view name) const;
  // Every comma-separated element of every `name` header, trimmed of spaces and tabs; empty
  // elements skipped ("a, b" + "c" -> {a, b, c}).
  std::vector<std::string_view> GetList(std::string_view name) const;
  // True when some element of GetList(name) equals `token` case-insensitively.
  bool HasToken(std::string_view name, std::string_view token) const;

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const Header& operator[](size_t i) const { return items_[i]; }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  void clear() { items_.clear(); }

 private:
  std::vector<Header> items_;
};

// Named maxima for one parsed message. Exceeding one fails the parser with the status to
// answer (414, 431, 413); the defaults follow common servers (nginx/ASP.NET Kestrel order of
// magnitude) and PROTOCOL.md §13 (1 MiB message bodies, long access_token query strings).
struct Limits {
  size_t url_bytes_max = 16 * 1024;           // request target; over it: 414
  size_t header_bytes_max = 32 * 1024;        // request/status line + header section; 431
  size_t header_count_max = 100;              // number of header fields; 431
  size_t body_bytes_max = 1024 * 1024;        // decoded body (Content-Length or chunks); 413
  size_t pipelined_requests_max = 32;         // unanswered requests on one connection; 429
  size_t upgrade_buffer_bytes_max = 64 * 1024;  // bytes held while an upgrade is decided
};

// Why a parser failed. Sticky: once set, the parser stays failed.
struct HttpError {
  int status = 400;    // the HTTP status to answer (400, 413, 414, 431, 505, 429)
  std::string code;    // llhttp errno name ("HPE_INVALID_METHOD") or a limit name ("url_too_long")
  std::string reason;  // llhttp_get_error_reason() or a sentence about the limit
  uint64_t offset = 0;  // byte offset in the connection's input where parsing stopped
};

struct Request {
  std::string method = "GET";
  std::string target = "/";  // as sent: origin-form path and query
  int version_minor = 1;     // HTTP/1.<minor>
  Headers headers;
  std::string body;
  // Filled by the parser (ignored when serialising):
  bool keep_alive = true;        // llhttp_should_keep_alive after this message
  bool upgrade = false;          // Connection: upgrade + Upgrade present
  bool expect_continue = false;  // Expect: 100-continue
  uint64_t id = 0;               // position on the server connection, 1-based

  // Serialise the body with the chunked transfer coding instead of Content-Length.
  bool chunked = false;

  bool IsHead() const { return method == "HEAD"; }
};

struct Response {
  int status = 200;
  std::string reason;  // empty: the standard phrase for `status`
  int version_minor = 1;
  Headers headers;
  std::string body;
  // Serialise the body with the chunked transfer coding instead of Content-Length.
  bool chunked = false;
  // Filled by the parser:
  bool keep_alive = true;
  bool upgrade = false;
};

// The standard reason phrase ("Not Found"), or "Unknown".
std::string_view ReasonPhrase(int status);

// Largest chunk written when serialising a chunked body.
inline constexpr size_t kChunkBytesMax = 16 * 1024;

// Appends the wire form of `request`. Adds Content-Length when the body is non-empty or the
// method usually carries one (POST/PUT/PATCH), unless the caller set Content-Length or
// Transfer-Encoding. Header names and values must not contain CR or LF (asserted).
void AppendRequest(std::string& out, const Request& request);
// Appends the wire form of `response`. Adds Content-Length (or chunked framing when
// response.chunked) unless the status forbids a body (1xx, 204, 304). With `head_only` (the
// answer to a HEAD request) the framing headers describe the body but the body is omitted.
void AppendResponse(std::string& out, const Response& response, bool head_only = false);
std::string SerializeRequest(const Request& request);
std::string SerializeResponse(const Response& response, bool head_only = false);

// A short response for a parse failure: the error's status, Connection: close, a text body.
Response ErrorResponse(const HttpError& error);

// What a server does with a parsed request's target and Host before routing it (RFC 9112):
//  * An absolute-form target ("http://host:port/path?query", §3.2.2; scheme http or https,
//    case-insensitive) becomes origin-form ("/path?query", "/" when the path is empty) and its
//    authority replaces the Host header, which a server must then ignore. An absolute-form
//    target with another scheme, userinfo or an empty authority is refused.
//  * Otherwise Host must appear exactly once with a valid, non-empty value (§3.2: a request
//    that lacks Host, has two Host field lines or an invalid Host value is 400). Repeated Host
//    lines are refused even when their values agree, so no later check can read the "wrong" one.
// Returns the 400 to answer, or nullopt when the request may be routed.
std::optional<HttpError> NormalizeServerRequest(Request& request);
// True for a valid Host field value: uri-host [ ":" port ] (RFC 3986 reg-name, IPv4 or an
// IP-literal in brackets), non-empty. A comma is refused: "a, b" is two Host values joined.
bool IsValidHostValue(std::string_view host);

}  // namespace wpsim::protocol::http
