#include "clients/wire_client.h"

#include <algorithm>

namespace wpsim::clients {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A decimal or (hex) number, or nullopt on anything else.
std::optional<uint64_t> Number(std::string_view s, int base) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'                ? c - '0'
            : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
            : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
    if (d < 0) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  return v;
}

constexpr uint8_t kMaskKey[4] = {0x37, 0xfa, 0x21, 0x3d};

}  // namespace

std::optional<std::string> WireHttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsNoCase(k, name)) return v;
  }
  return std::nullopt;
}

std::string EncodeWireFrame(const WireFrameSpec& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f)));
  const uint64_t len = f.length.value_or(f.payload.size());
  const uint8_t mask_bit = f.mask ? 0x80 : 0;
  if (len < 126) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if (len <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  }
  if (f.mask) {
    out.append(reinterpret_cast<const char*>(kMaskKey), 4);
    for (size_t i = 0; i < f.payload.size(); ++i)
      out.push_back(static_cast<char>(static_cast<uint8_t>(f.payload[i]) ^ kMaskKey[i % 4]));
  } else {
    out += f.payload;
  }
  return out;
}

std::string_view WireOpcodeName(uint8_t opcode) {
  switch (opcode) {
    case 0: return "continuation";
    case 1: return "text";
    case 2: return "binary";
    case 8: return "close";
    case 9: return "ping";
    case 10: return "pong";
    default: return "reserved opcode";
  }
}

std::string DescribeWireEvent(const WireEvent& e) {
  switch (e.kind) {
    case WireEvent::Kind::kResponse:
      return "HTTP " + std::to_string(e.response.status) + " " + e.response.reason +
             (e.response.body.empty() ? "" : " \"" + e.response.body.substr(0, 120) + "\"");
    case WireEvent::Kind::kFrame: {
      const WireFrame& f = e.frame;
      std::string out = std::string(WireOpcodeName(f.opcode));
      if (f.opcode > 10 || (f.opcode > 2 && f.opcode < 8)) out += " " + std::to_string(f.opcode);
      if (!f.fin) out += " (fin=0)";
      if (f.rsv) out += " (rsv=" + std::to_string(f.rsv) + ")";
      if (f.masked) out += " (masked)";
      if (f.opcode == 8) {
        out += f.close_code ? " " + std::to_string(*f.close_code) : " without a code";
        if (!f.close_reason.empty()) out += " \"" + f.close_reason + "\"";
      } else if (f.opcode == 2) {
        static const char* kHex = "0123456789abcdef";
        out += " [";
        for (size_t i = 0; i < f.payload.size() && i < 48; ++i) {
          const auto b = static_cast<uint8_t>(f.payload[i]);
          if (i) out += ' ';
          out += kHex[b >> 4];
          out += kHex[b & 15];
        }
        out += f.payload.size() > 48 ? " ...]" : "]";
      } else if (!f.payload.empty()) {
        out += " \"" + f.payload.substr(0, 120) + "\"";
      }
      return out;
    }
    case WireEvent::Kind::kEnd: return "end of stream (" + e.detail + ")";
    case WireEvent::Kind::kFailed: return "dial failed (" + e.detail + ")";
  }
  return "?";
}

WireClient::WireClient(sim::Runtime& runtime, sim::Address service, DialWith dial)
    : runtime_(runtime), service_(std::move(service)), dial_(std::move(dial)) {}

WireClient::~WireClient() {
  *alive_ = false;
  if (stream_) {
    stream_->SetHandler(nullptr);
    stream_->Close();
  }
}

void WireClient::Open() {
  if (dialing_ || stream_ || ended_) return;
  dialing_ = true;
  sim::DialFn on_done = [this, alive = alive_](Result<std::unique_ptr<sim::Stream>> stream) {
    if (!*alive) return;
    dialing_ = false;
    if (!stream.ok()) {
      WireEvent e;
      e.kind = WireEvent::Kind::kFailed;
      e.detail = stream.error().message;
      ended_ = true;
      Record(std::move(e));
      return;
    }
    stream_ = std::move(stream.value());
    stream_->SetHandler(this);
    if (!pending_out_.empty()) {
      const std::string out = std::move(pending_out_);
      pending_out_.clear();
      (void)stream_->Write(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
    }
    if (shutdown_pending_) stream_->Shutdown();
  };
  if (dial_) {
    dial_(service_, std::move(on_done));
  } else {
    runtime_.Dial(service_, std::move(on_done));
  }
}

void WireClient::Write(std::string bytes, std::vector<std::string> methods) {
  for (std::string& m : methods) methods_.push_back(std::move(m));
  if (ended_) return;
  if (!stream_) {
    pending_out_ += bytes;
    return;
  }
  (void)stream_->Write(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

void WireClient::Shutdown() {
  if (stream_) {
    stream_->Shutdown();
  } else {
    shutdown_pending_ = true;
  }
}

void WireClient::Close() {
  if (!stream_) return;
  stream_->SetHandler(nullptr);
  stream_->Close();
  stream_.reset();
  if (!ended_) {
    ended_ = true;
    WireEvent e;
    e.kind = WireEvent::Kind::kEnd;
    e.detail = "closed by the client";
    Record(std::move(e));
  }
}

void WireClient::Record(WireEvent e) {
  e.time_ns = runtime_.Now();
  events_.push_back(std::move(e));
  if (on_event) on_event();
}

void WireClient::OnData(std::span<const uint8_t> data) {
  in_.append(reinterpret_cast<const char*>(data.data()), data.size());
  Parse();
}

void WireClient::OnEnd() {
  Parse();
  // A response without a length runs to the end of the stream.
  if (!websocket_ && !in_.empty()) {
    const size_t head_end = in_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      WireEvent e;
      e.kind = WireEvent::Kind::kResponse;
      std::string_view head(in_.data(), head_end);
      const size_t sp1 = head.find(' ');
      if (sp1 != std::string_view::npos) {
        e.response.status = static_cast<int>(Number(head.substr(sp1 + 1, 3), 10).value_or(0));
      }
      e.response.body = in_.substr(head_end + 4);
      in_.clear();
      Record(std::move(e));
    }
  }
  if (!ended_) {
    ended_ = true;
    WireEvent e;
    e.kind = WireEvent::Kind::kEnd;
    e.detail = "closed by the service";
    Record(std::move(e));
  }
}

void WireClient::OnClosed(sim::CloseReason reason, std::string_view detail) {
  if (ended_) return;  // (the dead stream is kept until the client goes: writes to it fail)
  ended_ = true;
  WireEvent e;
  e.kind = WireEvent::Kind::kEnd;
  e.detail = std::string(sim::CloseReasonName(reason)) + (detail.empty() ? "" : ": ") +
             std::string(detail);
  Record(std::move(e));
}

void WireClient::Parse() {
  while (!in_.empty()) {
    if (!(websocket_ ? ParseFrame() : ParseResponse())) return;
  }
}

bool WireClient::ParseResponse() {
  const size_t head_end = in_.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::string_view head(in_.data(), head_end);
  WireEvent e;
  e.kind = WireEvent::Kind::kResponse;
  WireHttpResponse& r = e.response;
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  const size_t sp1 = status_line.find(' ');
  if (sp1 != std::string_view::npos) {
    r.status = static_cast<int>(Number(status_line.substr(sp1 + 1, 3), 10).value_or(0));
    if (status_line.size() > sp1 + 5) r.reason = std::string(status_line.substr(sp1 + 5));
  }
  while (line_end != std::string_view::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string_view line = head.substr(start, line_end == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    r.headers.emplace_back(std::string(line.substr(0, colon)),
                           std::string(Trim(line.substr(colon + 1))));
  }
  std::string method;
  if (!methods_.empty()) method = methods_.front();
  size_t body_start = head_end + 4;
  size_t consumed = body_start;
  const bool no_body = method == "HEAD" || r.status == 101 || r.status == 204 ||
                       r.status == 304 || (r.status >= 100 && r.status < 200);
  if (!no_body) {
    const std::optional<std::string> te = r.Header("Transfer-Encoding");
    const std::optional<std::string> cl = r.Header("Content-Length");
    if (te && EqualsNoCase(*te, "chunked")) {
      size_t pos = body_start;
      std::string body;
      for (;;) {
        const size_t eol = in_.find("\r\n", pos);
        if (eol == std::string::npos) return false;
        std::string_view size_text(in_.data() + pos, eol - pos);
        size_text = size_text.substr(0, size_text.find(';'));
        const std::optional<uint64_t> size = Number(Trim(size_text), 16);
        if (!size) {  // not chunked after all: give up on the rest
          body += in_.substr(pos);
          consumed = in_.size();
          break;
        }
        if (*size == 0) {  // then trailers (none, usually) and an empty line
          const size_t t = in_.find("\r\n\r\n", eol);
          if (t == std::string::npos) return false;
          consumed = t + 4;
          break;
        }
        if (in_.size() < eol + 2 + *size + 2) return false;
        body.append(in_, eol + 2, *size);
        pos = eol + 2 + *size + 2;
      }
      r.body = std::move(body);
    } else if (cl) {
      const std::optional<uint64_t> n = Number(Trim(*cl), 10);
      if (n) {
        if (in_.size() < body_start + *n) return false;
        r.body = in_.substr(body_start, *n);
        consumed = body_start + *n;
      }
    } else {
      return false;  // up to the end of the stream (OnEnd)
    }
  }
  if (!methods_.empty() && r.status >= 200) methods_.pop_front();
  in_.erase(0, consumed);
  if (r.status == 101) websocket_ = true;
  Record(std::move(e));
  return true;
}

bool WireClient::ParseFrame() {
  if (in_.size() < 2) return false;
  const auto* b = reinterpret_cast<const uint8_t*>(in_.data());
  WireEvent e;
  e.kind = WireEvent::Kind::kFrame;
  WireFrame& f = e.frame;
  f.fin = (b[0] & 0x80) != 0;
  f.rsv = static_cast<uint8_t>((b[0] >> 4) & 7);
  f.opcode = static_cast<uint8_t>(b[0] & 0x0f);
  f.masked = (b[1] & 0x80) != 0;
  uint64_t len = b[1] & 0x7f;
  size_t pos = 2;
  if (len == 126) {
    if (in_.size() < 4) return false;
    len = (uint64_t{b[2]} << 8) | b[3];
    pos = 4;
  } else if (len == 127) {
    if (in_.size() < 10) return false;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
    pos = 10;
  }
  uint8_t key[4] = {0, 0, 0, 0};
  if (f.masked) {
    if (in_.size() < pos + 4) return false;
    std::copy(b + pos, b + pos + 4, key);
    pos += 4;
  }
  if (in_.size() - pos < len) return false;
  f.payload = in_.substr(pos, len);
  if (f.masked) {
    for (size_t i = 0; i < f.payload.size(); ++i)
      f.payload[i] = static_cast<char>(static_cast<uint8_t>(f.payload[i]) ^ key[i % 4]);
  }
  if (f.opcode == 8 && f.payload.size() >= 2) {
    f.close_code = static_cast<uint16_t>((static_cast<uint8_t>(f.payload[0]) << 8) |
                                         static_cast<uint8_t>(f.payload[1]));
    f.close_reason = f.payload.substr(2);
  }
  in_.erase(0, pos + len);
  Record(std::move(e));
  return true;
}

}  // namespace wpsim::clients
