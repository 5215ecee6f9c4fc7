// Writes scenario YAML back out (conformance/shape/emit.h).
#include "conformance/shape/emit.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "base/result.h"

namespace wpsim::conformance::shape {
namespace {

// The next code point of UTF-8 `s` at `i` (advancing i); a byte that starts no valid sequence is
// returned as itself with `valid` false (it is then written as the code point \xNN: YAML cannot
// spell an invalid byte).
uint32_t NextCodePoint(std::string_view s, size_t& i, bool& valid) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  valid = true;
  size_t len = b0 < 0x80           ? 1
               : (b0 >> 5) == 0x6  ? 2
               : (b0 >> 4) == 0xE  ? 3
               : (b0 >> 3) == 0x1E ? 4
                                   : 0;
  if (len == 0 || i + len > s.size()) {
    valid = false;
    ++i;
    return b0;
  }
  uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      valid = false;
      ++i;
      return b0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += len;
  return cp;
}

// The quoted scalars: the emitter writes a plain token for each (in document order), replaced by
// the escaped text afterwards.
struct Quoted {
  std::vector<std::string> texts;
  std::string Token(size_t n) const { return "wpsim-emit-quoted-" + std::to_string(n) + "-"; }
};

void EmitNode(YAML::Emitter& out, const YAML::Node& n, Quoted& quoted) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      return;
    case YAML::NodeType::Scalar:
      if (n.Tag() == "!") {
        out << quoted.Token(quoted.texts.size());
        quoted.texts.push_back(DoubleQuotedAscii(n.Scalar()));
      } else {
        out << n.Scalar();
      }
      return;
    case YAML::NodeType::Sequence:
      if (n.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const YAML::Node& item : n) EmitNode(out, item, quoted);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Map:
      if (n.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& kv : n) {
        out << YAML::Key;
        EmitNode(out, kv.first, quoted);
        out << YAML::Value;
        EmitNode(out, kv.second, quoted);
      }
      out << YAML::EndMap;
      return;
  }
}

}  // namespace

std::string DoubleQuotedAscii(std::string_view text) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < text.size();) {
    bool valid = true;
    const uint32_t cp = NextCodePoint(text, i, valid);
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (valid && cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (cp < 0x100) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
      out += buf;
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  return out + "\"";
}

std::string EmitYaml(const YAML::Node& root) {
  Quoted quoted;
  YAML::Emitter out;
  out.SetIndent(2);
  EmitNode(out, root, quoted);
  std::string text = out.c_str();
  // The tokens are plain scalars the emitter wrote as they are, in document order.
  size_t from = 0;
  for (size_t k = 0; k < quoted.texts.size(); ++k) {
    const std::string token = quoted.Token(k);
    const size_t at = text.find(token, from);
    WPSIM_ASSERT(at != std::string::npos);
    text.replace(at, token.size(), quoted.texts[k]);
    from = at + quoted.texts[k].size();
  }
  text += '\n';
  return text;
}

}  // namespace wpsim::conformance::shape
