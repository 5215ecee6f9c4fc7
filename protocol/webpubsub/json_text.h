// A small strict JSON (RFC 8259) scanner and writer for the Web PubSub codecs.
//
// Why not a DOM library: the service must republish a `json` payload verbatim, i.e. as the exact
// source slice, and it decodes every client frame on the hot path. The scanner validates one
// value in a single pass without allocating and reports each value's kind and source slice;
// strings are decoded only when a caller asks. Rules: UTF-8 must be valid, control characters
// must be escaped, \u escapes must form valid UTF-16 (no lone surrogates), numbers follow the
// RFC grammar, nesting is at most kJsonDepthMax (System.Text.Json's default), no trailing
// commas, no comments. Duplicate object keys are allowed (callers decide; decoders take the
// last, like JSON.parse).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wpsim::protocol::webpubsub {

inline constexpr int kJsonDepthMax = 64;

enum class JsonKind : uint8_t { kString, kNumber, kObject, kArray, kTrue, kFalse, kNull };

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : text_(text) {}

  void SkipWhitespace();
  bool AtEnd() const { return pos_ >= text_.size(); }
  // Consumes `c` (after whitespace) if it is next.
  bool Consume(char c);
  // Validates one value (after whitespace) that sits `depth` levels inside the document (0:
  // the document itself, 1: a member of the top-level object); on success sets *raw to its
  // exact source slice. The document as a whole nests at most kJsonDepthMax levels.
  std::optional<JsonKind> Value(std::string_view* raw, int depth = 0);
  // Validates one string literal (after whitespace); *raw includes the quotes.
  bool String(std::string_view* raw);
  size_t position() const { return pos_; }

 private:
  std::optional<JsonKind> ValueAt(int depth);
  bool StringBody();
  bool Number();
  bool Literal(std::string_view word);

  std::string_view text_;
  size_t pos_ = 0;
};

// True when `text` is exactly one JSON value, optionally surrounded by whitespace.
bool IsValidJson(std::string_view text);

// Calls on_member(key_raw, kind, value_raw) for each member of the object that `text` must be
// exactly (whitespace around allowed). key_raw includes quotes (see JsonKeyEquals). Returns
// false when the text is not one valid JSON object; on_member may return false to stop early
// (then ForEachMember returns false too).
template <typename F>
bool ForEachJsonMember(std::string_view text, F&& on_member) {
  JsonScanner s(text);
  if (!s.Consume('{')) return false;
  if (!s.Consume('}')) {
    while (true) {
      std::string_view key, value;
      if (!s.String(&key) || !s.Consume(':')) return false;
      auto kind = s.Value(&value, /*depth=*/1);  // the object itself is the first level
      if (!kind || !on_member(key, *kind, value)) return false;
      if (s.Consume(',')) continue;
      if (s.Consume('}')) break;
      return false;
    }
  }
  s.SkipWhitespace();
  return s.AtEnd();
}

// Decodes a validated string literal (quotes included) to UTF-8.
std::string DecodeJsonString(std::string_view raw);
// Compares a validated string literal with plain text, decoding escapes only when present.
bool JsonKeyEquals(std::string_view raw, std::string_view text);
// Reads a JSON number that is a plain non-negative integer (no sign, fraction or exponent)
// fitting in uint64.
std::optional<uint64_t> ParseJsonUint64(std::string_view raw);

// Appends `text` as a JSON string literal. Escapes '"', '\\' and control characters (\b \f \n
// \r \t, else \u00xx), as JSON.stringify does; invalid UTF-8 sequences become U+FFFD.
void AppendJsonString(std::string& out, std::string_view text);
// Appends a uint64 in decimal.
void AppendUint64(std::string& out, uint64_t value);

}  // namespace wpsim::protocol::webpubsub
