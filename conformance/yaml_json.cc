#include "conformance/yaml_json.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <string_view>

namespace wpsim::conformance {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool LooksLikeFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  size_t frac_digits = 0;
  bool dot = false;
  if (i < s.size() && s[i] == '.') {
    dot = true;
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  bool exponent = false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!AllDigits(s.substr(i))) return false;
    exponent = true;
    i = s.size();
  }
  return i == s.size() && (dot || exponent);
}

}  // namespace

bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

nlohmann::json ScalarToJson(const YAML::Node& scalar) {
  const std::string& s = scalar.Scalar();
  if (!IsPlainScalar(scalar)) return s;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
  std::string_view v = s;
  bool negative = !v.empty() && v.front() == '-';
  std::string_view digits = (negative || (!v.empty() && v.front() == '+')) ? v.substr(1) : v;
  if (AllDigits(digits)) {
    if (negative) {
      int64_t out = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), out);
      if (r.ec == std::errc() && r.ptr == v.data() + v.size()) return out;
    } else {
      uint64_t out = 0;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out);
      if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) return out;
    }
    return s;  // out of range: keep the text
  }
  if (LooksLikeFloat(v)) {
    // from_chars is locale-independent (strtod is not); it rejects a leading '+'.
    std::string_view f = (!v.empty() && v.front() == '+') ? v.substr(1) : v;
    double out = 0;
    auto r = std::from_chars(f.data(), f.data() + f.size(), out);
    if (r.ec == std::errc() && r.ptr == f.data() + f.size()) return out;
    return s;
  }
  return s;
}

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const YAML::Node& item : node) arr.push_back(YamlToJson(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : YAML::Dump(it->first);
        obj[key] = YamlToJson(it->second);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace wpsim::conformance
