#include "protocol/http/url.h"

namespace wpsim::protocol::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view in, bool plus_is_space, bool keep_slash_escape) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() &&
               HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      const int v = HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]);
      if (v == '/' && keep_slash_escape) {
        out.append(in.substr(i, 3));
      } else {
        out += static_cast<char>(v);
      }
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

TargetParts SplitTarget(std::string_view target) {
  const size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  TargetParts parts;
  const size_t q = target.find('?');
  parts.path = target.substr(0, q);
  if (q != std::string_view::npos) parts.query = target.substr(q + 1);
  if (parts.path.empty()) parts.path = "/";
  return parts;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string DecodePathSegment(std::string_view segment) {
  return Decode(segment, /*plus_is_space=*/false, /*keep_slash_escape=*/true);
}

std::string DecodeQueryComponent(std::string_view component) {
  return Decode(component, /*plus_is_space=*/true, /*keep_slash_escape=*/false);
}

QueryPairs ParseQuery(std::string_view query) {
  QueryPairs out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    if (!piece.empty()) {
      const size_t eq = piece.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(DecodeQueryComponent(piece), std::string());
      } else {
        out.emplace_back(DecodeQueryComponent(piece.substr(0, eq)),
                         DecodeQueryComponent(piece.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

const std::string* FindQuery(const QueryPairs& pairs, std::string_view key) {
  for (const auto& [k, v] : pairs) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::vector<std::string> FindAllQuery(const QueryPairs& pairs, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : pairs) {
    if (k == key) out.push_back(v);
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' ||
                      c == '\'' || c == '(' || c == ')';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace wpsim::protocol::http
