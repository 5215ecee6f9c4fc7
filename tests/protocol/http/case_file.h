// Test cases written as data (llhttp's Markdown style). A case file is a list of cases:
//
//   ## Title of the case
//   Free text: why the case exists (kept for failure messages).
//
//   key: scalar value
//   block:
//       indented lines (4 spaces) belong to the block
//
// A line starting with "## " opens a case. A line "name: value" at column 0 is a scalar; a line
// "name:" at column 0 opens a block whose lines are indented by four spaces. Byte blocks (input,
// output) use C escapes (\r \n \t \0 \\ \" \xHH) and are concatenated without adding line
// breaks, so a wire line is written as "GET / HTTP/1.1\r\n". Trace blocks are kept line by line.
#pragma once

#include <fstream>
#include <ostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wpsim::testing {

struct DataCase {
  std::string file;
  int line = 0;
  std::string title;
  std::string reason;
  std::map<std::string, std::string> scalars;
  std::map<std::string, std::vector<std::string>> blocks;

  std::string Scalar(const std::string& key, const std::string& fallback = "") const {
    auto it = scalars.find(key);
    return it == scalars.end() ? fallback : it->second;
  }
  bool HasBlock(const std::string& key) const { return blocks.count(key) != 0; }
  const std::vector<std::string>& Block(const std::string& key) const {
    static const std::vector<std::string> kEmpty;
    auto it = blocks.find(key);
    return it == blocks.end() ? kEmpty : it->second;
  }
  std::string Where() const { return file + ":" + std::to_string(line) + " \"" + title + "\""; }
};

// gtest prints parameters of failing tests; the location is what a reader needs.
inline void PrintTo(const DataCase& c, std::ostream* os) { *os << c.Where(); }

inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  throw std::runtime_error(std::string("bad hex digit '") + c + "'");
}

inline std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) throw std::runtime_error("dangling backslash");
    switch (s[i]) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case 's': out += ' '; break;  // a visible space at the end of a line
      case 'x':
        if (i + 2 >= s.size()) throw std::runtime_error("short \\x");
        out += static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
        i += 2;
        break;
      default: throw std::runtime_error(std::string("unknown escape \\") + s[i]);
    }
  }
  return out;
}

// The inverse, for readable traces: printable ASCII kept, the rest escaped.
inline std::string Escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Concatenates a byte block.
inline std::string JoinBytes(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += Unescape(l);
  return out;
}

inline std::vector<DataCase> LoadCases(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<DataCase> cases;
  std::string line;
  int number = 0;
  std::string open_block;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("## ", 0) == 0) {
      DataCase c;
      c.file = path.substr(path.find_last_of('/') + 1);
      c.line = number;
      c.title = line.substr(3);
      cases.push_back(std::move(c));
      open_block.clear();
      continue;
    }
    if (cases.empty()) continue;  // file preamble
    DataCase& c = cases.back();
    if (line.rfind("    ", 0) == 0 && !open_block.empty()) {
      c.blocks[open_block].push_back(line.substr(4));
      continue;
    }
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    const bool keyword = line[0] != ' ' && colon != std::string::npos &&
                         line.find_first_of(" \t") > colon;
    if (keyword) {
      std::string key = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (value.empty()) {
        open_block = key;
        c.blocks[key];
      } else {
        c.scalars[key] = value;
        open_block.clear();
      }
      continue;
    }
    open_block.clear();
    if (!c.reason.empty()) c.reason += ' ';
    c.reason += line;
  }
  return cases;
}

inline std::string DataPath(const std::string& relative) {
  return std::string(WPSIM_SOURCE_DIR) + "/tests/data/" + relative;
}

}  // namespace wpsim::testing
