#include "protocol/webpubsub/json_text.h"

#include <charconv>


namespace wpsim::protocol::webpubsub {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at text[i..i+4); -1 if not hex.
int32_t Hex4(std::string_view text, size_t i) {
  if (i + 4 > text.size()) return -1;
  int32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int d = HexDigit(text[i + k]);
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629), 0 when invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xbf) return 0;
  }
  return n;
}

}  // namespace

void JsonScanner::SkipWhitespace() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ++pos_;
  }
}

bool JsonScanner::Consume(char c) {
  SkipWhitespace();
  if (pos_ < text_.size() && text_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

std::optional<JsonKind> JsonScanner::Value(std::string_view* raw, int depth) {
  SkipWhitespace();
  const size_t start = pos_;
  auto kind = ValueAt(depth);
  if (kind) *raw = text_.substr(start, pos_ - start);
  return kind;
}

bool JsonScanner::String(std::string_view* raw) {
  SkipWhitespace();
  const size_t start = pos_;
  if (pos_ >= text_.size() || text_[pos_] != '"') return false;
  if (!StringBody()) return false;
  *raw = text_.substr(start, pos_ - start);
  return true;
}

std::optional<JsonKind> JsonScanner::ValueAt(int depth) {
  SkipWhitespace();
  if (pos_ >= text_.size()) return std::nullopt;
  switch (text_[pos_]) {
    case '"':
      if (!StringBody()) return std::nullopt;
      return JsonKind::kString;
    case '{': {
      if (depth >= kJsonDepthMax) return std::nullopt;
      ++pos_;
      if (Consume('}')) return JsonKind::kObject;
      while (true) {
        SkipWhitespace();
        if (pos_ >= text_.size() || text_[pos_] != '"' || !StringBody()) return std::nullopt;
        if (!Consume(':') || !ValueAt(depth + 1)) return std::nullopt;
        if (Consume(',')) continue;
        if (Consume('}')) return JsonKind::kObject;
        return std::nullopt;
      }
    }
    case '[': {
      if (depth >= kJsonDepthMax) return std::nullopt;
      ++pos_;
      if (Consume(']')) return JsonKind::kArray;
      while (true) {
        if (!ValueAt(depth + 1)) return std::nullopt;
        if (Consume(',')) continue;
        if (Consume(']')) return JsonKind::kArray;
        return std::nullopt;
      }
    }
    case 't':
      return Literal("true") ? std::optional(JsonKind::kTrue) : std::nullopt;
    case 'f':
      return Literal("false") ? std::optional(JsonKind::kFalse) : std::nullopt;
    case 'n':
      return Literal("null") ? std::optional(JsonKind::kNull) : std::nullopt;
    default:
      return Number() ? std::optional(JsonKind::kNumber) : std::nullopt;
  }
}

// pos_ is at the opening quote; on success pos_ is just past the closing quote.
bool JsonScanner::StringBody() {
  ++pos_;
  const size_t n = text_.size();
  while (pos_ < n) {
    const uint8_t c = static_cast<uint8_t>(text_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) return false;
    if (c == '\\') {
      if (pos_ + 1 >= n) return false;
      const char e = text_[pos_ + 1];
      if (e == 'u') {
        const int32_t u = Hex4(text_, pos_ + 2);
        if (u < 0) return false;
        pos_ += 6;
        if (u >= 0xdc00 && u <= 0xdfff) return false;  // lone low surrogate
        if (u >= 0xd800 && u <= 0xdbff) {
          if (pos_ + 1 >= n || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') return false;
          const int32_t low = Hex4(text_, pos_ + 2);
          if (low < 0xdc00 || low > 0xdfff) return false;
          pos_ += 6;
        }
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't') {
        return false;
      }
      pos_ += 2;
      continue;
    }
    if (c < 0x80) {
      ++pos_;
      continue;
    }
    const size_t len = Utf8SequenceLength(text_, pos_);
    if (len == 0) return false;
    pos_ += len;
  }
  return false;
}

bool JsonScanner::Number() {
  const size_t n = text_.size();
  auto digit = [&](size_t i) { return i < n && text_[i] >= '0' && text_[i] <= '9'; };
  if (pos_ < n && text_[pos_] == '-') ++pos_;
  if (!digit(pos_)) return false;
  if (text_[pos_] == '0') {
    ++pos_;
  } else {
    while (digit(pos_)) ++pos_;
  }
  if (pos_ < n && text_[pos_] == '.') {
    ++pos_;
    if (!digit(pos_)) return false;
    while (digit(pos_)) ++pos_;
  }
  if (pos_ < n && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < n && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (!digit(pos_)) return false;
    while (digit(pos_)) ++pos_;
  }
  return true;
}

bool JsonScanner::Literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

bool IsValidJson(std::string_view text) {
  JsonScanner s(text);
  std::string_view raw;
  if (!s.Value(&raw)) return false;
  s.SkipWhitespace();
  return s.AtEnd();
}

std::string DecodeJsonString(std::string_view raw) {
  std::string out;
  const std::string_view body = raw.substr(1, raw.size() - 2);
  out.reserve(body.size());
  for (size_t i = 0; i < body.size();) {
    const char c = body[i];
    if (c != '\\') {
      // Copy the run up to the next escape in one go.
      const size_t next = body.find('\\', i);
      const size_t end = next == std::string_view::npos ? body.size() : next;
      out.append(body.data() + i, end - i);
      i = end;
      continue;
    }
    const char e = body[i + 1];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = static_cast<uint32_t>(Hex4(body, i + 2));
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const uint32_t low = static_cast<uint32_t>(Hex4(body, i + 8));
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
        AppendUtf8(out, cp);
        i += 6;
        continue;
      }
      default: out += e; break;  // '"', '\\', '/'
    }
    i += 2;
  }
  return out;
}

bool JsonKeyEquals(std::string_view raw, std::string_view text) {
  const std::string_view body = raw.substr(1, raw.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body == text;
  return DecodeJsonString(raw) == text;
}

std::optional<uint64_t> ParseJsonUint64(std::string_view raw) {
  if (raw.empty() || raw.size() > 20) return std::nullopt;
  for (char c : raw) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (raw.size() > 1 && raw[0] == '0') return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
  if (ec != std::errc() || end != raw.data() + raw.size()) return std::nullopt;
  return value;
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run_start = 0;
  auto flush = [&](size_t end) { out.append(text.data() + run_start, end - run_start); };
  for (size_t i = 0; i < text.size();) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(text, i);
      if (len > 0) {
        i += len;
        continue;
      }
      flush(i);
      out += "\xef\xbf\xbd";
      run_start = ++i;
      continue;
    }
    flush(i);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    run_start = ++i;
  }
  flush(text.size());
  out += '"';
}

void AppendUint64(std::string& out, uint64_t value) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace wpsim::protocol::webpubsub
