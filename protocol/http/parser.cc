#include "protocol/http/parser.h"

#include <llhttp.h>

#include "base/result.h"

namespace wpsim::protocol::http {

Request ParsedMessage::ToRequest() && {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.version_minor = version_minor;
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.keep_alive = keep_alive;
  r.upgrade = upgrade;
  r.expect_continue = expect_continue;
  r.chunked = chunked;
  return r;
}

Response ParsedMessage::ToResponse() && {
  Response r;
  r.status = status;
  r.reason = std::move(reason);
  r.version_minor = version_minor;
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.keep_alive = keep_alive;
  r.upgrade = upgrade;
  r.chunked = chunked;
  return r;
}

// llhttp's C callbacks. Each returns 0 to continue or HPE_USER after Parser::Fail; no
// exception may cross them (std::string growth is bounded by the limits, so allocation
// failure is the only possible throw, and it terminates).
struct Parser::Callbacks {
  static Parser& Self(llhttp_t* p) { return *static_cast<Parser*>(p->data); }

  static int OnMessageBegin(llhttp_t* p) {
    Parser& s = Self(p);
    s.current_ = ParsedMessage{};
    s.field_.clear();
    s.value_.clear();
    s.in_value_ = false;
    s.in_message_ = true;
    s.in_head_ = true;
    s.start_known_ = false;
    return 0;
  }
  static int MarkStart(Parser& s, const char* at) {
    if (!s.start_known_) {
      s.start_known_ = true;
      s.message_start_ = s.Abs(at);
    }
    return 0;
  }
  static int OnMethod(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    MarkStart(s, at);
    s.current_.method.append(at, len);
    return s.CheckHead(at + len);
  }
  static int OnUrl(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    MarkStart(s, at);
    if (s.current_.target.size() + len > s.limits_.url_bytes_max) {
      return s.Fail(414, "url_too_long", "request target longer than Limits::url_bytes_max",
                    s.Abs(at) + (s.limits_.url_bytes_max - s.current_.target.size()));
    }
    s.current_.target.append(at, len);
    return s.CheckHead(at + len);
  }
  static int OnVersion(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    MarkStart(s, at);
    return s.CheckHead(at + len);
  }
  static int OnStatus(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    MarkStart(s, at);
    s.current_.reason.append(at, len);
    return s.CheckHead(at + len);
  }
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    MarkStart(s, at);
    if (s.in_value_) s.CommitHeader();
    s.field_.append(at, len);
    return s.CheckHead(at + len);
  }
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    s.in_value_ = true;
    s.value_.append(at, len);
    return s.CheckHead(at + len);
  }
  static int OnHeaderValueComplete(llhttp_t* p) {
    Parser& s = Self(p);
    // Empty values produce no OnHeaderValue call; commit here so they are not lost.
    s.CommitHeader();
    if (s.current_.headers.size() > s.limits_.header_count_max) {
      return s.Fail(431, "too_many_headers", "more header fields than Limits::header_count_max");
    }
    return 0;
  }
  static int OnHeadersComplete(llhttp_t* p) {
    Parser& s = Self(p);
    s.in_head_ = false;
    ParsedMessage& m = s.current_;
    if (p->http_major != 1) {
      return s.Fail(505, "unsupported_version", "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    m.version_minor = p->http_minor;
    m.status = p->status_code;
    m.chunked = (p->flags & F_CHUNKED) != 0;
    m.upgrade = p->upgrade != 0;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s.limits_.body_bytes_max) {
      return s.Fail(413, "body_too_large", "Content-Length exceeds Limits::body_bytes_max");
    }
    bool skip_body = false;
    if (s.type_ == Type::kRequest) {
      m.expect_continue = m.headers.HasToken("Expect", "100-continue");
      const bool body_follows = m.chunked || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
      if (m.expect_continue && body_follows) {
        ParserEvent head{ParserEvent::Kind::kHead, m};
        s.events_.push_back(std::move(head));
      }
    } else if ((p->status_code >= 200 || p->status_code == 101) && !s.response_to_head_.empty()) {
      // A final response answers the oldest outstanding request.
      skip_body = s.response_to_head_.front();
      s.response_to_head_.pop_front();
    }
    return skip_body ? 1 : 0;
  }
  static int OnBody(llhttp_t* p, const char* at, size_t len) {
    Parser& s = Self(p);
    if (s.current_.body.size() + len > s.limits_.body_bytes_max) {
      return s.Fail(413, "body_too_large", "body exceeds Limits::body_bytes_max",
                    s.Abs(at) + (s.limits_.body_bytes_max - s.current_.body.size()));
    }
    s.current_.body.append(at, len);
    return 0;
  }
  static int OnMessageComplete(llhttp_t* p) {
    Parser& s = Self(p);
    s.current_.keep_alive = llhttp_should_keep_alive(p) != 0;
    s.events_.push_back(ParserEvent{ParserEvent::Kind::kMessage, std::move(s.current_)});
    s.current_ = ParsedMessage{};
    s.in_message_ = false;
    return 0;
  }

  static const llhttp_settings_t& Settings() {
    static const llhttp_settings_t settings = [] {
      llhttp_settings_t st;
      llhttp_settings_init(&st);
      st.on_message_begin = OnMessageBegin;
      st.on_method = OnMethod;
      st.on_url = OnUrl;
      st.on_version = OnVersion;
      st.on_status = OnStatus;
      st.on_header_field = OnHeaderField;
      st.on_header_value = OnHeaderValue;
      st.on_header_value_complete = OnHeaderValueComplete;
      st.on_headers_complete = OnHeadersComplete;
      st.on_body = OnBody;
      st.on_message_complete = OnMessageComplete;
      return st;
    }();
    return settings;
  }
};

Parser::Parser(Type type, const Limits& limits)
    : type_(type), limits_(limits), llhttp_(std::make_unique<llhttp_t>()) {
  llhttp_init(llhttp_.get(), type == Type::kRequest ? HTTP_REQUEST : HTTP_RESPONSE,
              &Callbacks::Settings());
  llhttp_->data = this;
}

Parser::~Parser() = default;

uint64_t Parser::Abs(const char* p) const { return base_ + static_cast<uint64_t>(p - chunk_); }

int Parser::CheckHead(const char* end) {
  if (in_head_ && Abs(end) - message_start_ > limits_.header_bytes_max) {
    return Fail(431, "header_too_large", "header section exceeds Limits::header_bytes_max",
                message_start_ + limits_.header_bytes_max);
  }
  return 0;
}

int Parser::Fail(int status, const char* code, const char* reason, uint64_t offset) {
  fail_offset_ = offset;
  error_.status = status;
  error_.code = code;
  error_.reason = reason;
  llhttp_set_error_reason(llhttp_.get(), reason);
  return HPE_USER;
}

void Parser::CommitHeader() {
  if (field_.empty() && value_.empty()) return;
  current_.headers.Add(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
  in_value_ = false;
}

void Parser::ExpectResponse(bool to_head_request) { response_to_head_.push_back(to_head_request); }

ParserEvent Parser::Next() {
  WPSIM_ASSERT(!events_.empty());
  ParserEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

size_t Parser::Feed(std::span<const uint8_t> data) {
  if (state_ != State::kParsing || data.empty()) return 0;
  const char* begin = reinterpret_cast<const char*>(data.data());
  chunk_ = begin;
  error_.code.clear();
  const llhttp_errno_t err = llhttp_execute(llhttp_.get(), begin, data.size());
  size_t consumed = data.size();
  if (err != HPE_OK) {
    const char* pos = llhttp_get_error_pos(llhttp_.get());
    consumed = pos != nullptr ? static_cast<size_t>(pos - begin) : 0;
    if (err == HPE_PAUSED_UPGRADE) {
      state_ = State::kUpgraded;
    } else {
      state_ = State::kFailed;
      if (error_.code.empty()) {  // an llhttp error, not one of our limits
        error_.status = err == HPE_INVALID_VERSION ? 505 : 400;
        error_.code = llhttp_errno_name(err);
        const char* reason = llhttp_get_error_reason(llhttp_.get());
        error_.reason = reason != nullptr ? reason : "";
      }
      error_.offset = fail_offset_ != 0 ? fail_offset_ : base_ + consumed;
    }
  }
  base_ += consumed;
  chunk_ = nullptr;
  return consumed;
}

void Parser::FeedEof() {
  if (state_ != State::kParsing) return;
  error_.code.clear();
  const llhttp_errno_t err = llhttp_finish(llhttp_.get());
  if (err != HPE_OK) {
    state_ = State::kFailed;
    if (error_.code.empty()) {
      error_.status = 400;
      error_.code = llhttp_errno_name(err);
      const char* reason = llhttp_get_error_reason(llhttp_.get());
      error_.reason = reason != nullptr ? reason : "";
    }
    error_.offset = base_;
  }
}

}  // namespace wpsim::protocol::http
