#include "protocol/rest/error_detail.h"

#include <cstdint>

namespace wpsim::protocol::rest {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is invalid.
size_t ValidSequenceLength(std::string_view text, size_t i) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  auto cont = [&](size_t k) {
    return i + k < text.size() && (static_cast<uint8_t>(text[i + k]) & 0xC0) == 0x80;
  };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto b1 = static_cast<uint8_t>(text[i + 1]);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto b1 = static_cast<uint8_t>(text[i + 1]);
    if (b0 == 0xF0 && b1 < 0x90) return 0;
    if (b0 == 0xF4 && b1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

void AppendMember(std::string& out, bool& first, std::string_view name) {
  if (!first) out.push_back(',');
  first = false;
  AppendJsonString(out, name);
  out.push_back(':');
}

void AppendDetail(std::string& out, const ErrorDetail& detail) {
  out.push_back('{');
  bool first = true;
  if (detail.code) {
    AppendMember(out, first, "code");
    AppendJsonString(out, *detail.code);
  }
  if (detail.message) {
    AppendMember(out, first, "message");
    AppendJsonString(out, *detail.message);
  }
  if (detail.target) {
    AppendMember(out, first, "target");
    AppendJsonString(out, *detail.target);
  }
  if (!detail.details.empty()) {
    AppendMember(out, first, "details");
    out.push_back('[');
    for (size_t i = 0; i < detail.details.size(); ++i) {
      if (i != 0) out.push_back(',');
      AppendDetail(out, detail.details[i]);
    }
    out.push_back(']');
  }
  if (!detail.inner_codes.empty()) {
    AppendMember(out, first, "inner");
    for (size_t i = 0; i < detail.inner_codes.size(); ++i) {
      if (i != 0) out.append(",\"inner\":");
      out.append("{\"code\":");
      AppendJsonString(out, detail.inner_codes[i]);
    }
    out.append(detail.inner_codes.size(), '}');
  }
  out.push_back('}');
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      const size_t n = ValidSequenceLength(text, i);
      if (n == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD for each invalid byte
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string ErrorDetailJson(const ErrorDetail& detail) {
  std::string out;
  AppendDetail(out, detail);
  return out;
}

}  // namespace wpsim::protocol::rest
