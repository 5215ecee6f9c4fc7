// The protocol buffers binary wire format (proto3), as much of it as the Web PubSub protobuf
// subprotocols need: varints, tags, length-delimited fields; sans-IO and allocation-free on the
// read side.
//
// Reading: Reader walks one message's fields in order. Every rule of the wire format that a
// conforming parser enforces is checked, and the first violation is sticky (Next() returns
// false from then on, error() says what and at which byte):
//   * a varint has at most 10 bytes and fits 64 bits (the 10th byte is 0 or 1);
//   * a tag's field number is 1 … 2^29-1 and its wire type one of 0, 1, 2, 3, 5 (4, end group,
//     only closes an open group);
//   * a length-delimited field and a fixed-width field fit in the remaining input;
//   * groups (deprecated, wire types 3/4) are skipped as unknown fields, nested at most
//     kGroupDepthMax deep, and must close with the field number that opened them.
// Meaning (which field numbers are known, which wire type each must have) is the caller's.
//
// Writing: Append* helpers write canonical encodings (minimal varints, field tag then value)
// into a std::string the caller reuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wpsim::protocol::protobuf {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

inline constexpr uint32_t kFieldNumberMax = (uint32_t{1} << 29) - 1;
inline constexpr size_t kVarintBytesMax = 10;
inline constexpr int kGroupDepthMax = 32;

// ---- Writing --------------------------------------------------------------------------------

constexpr size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}
// Writes the varint into out[0..VarintSize(value)); returns its size.
size_t WriteVarint(uint64_t value, uint8_t* out);
void AppendVarint(std::string& out, uint64_t value);
void AppendTag(std::string& out, uint32_t field, WireType type);
void AppendVarintField(std::string& out, uint32_t field, uint64_t value);
// Tag, length, bytes.
void AppendLenField(std::string& out, uint32_t field, std::string_view bytes);
inline void AppendLenField(std::string& out, uint32_t field, std::span<const uint8_t> bytes) {
  AppendLenField(out, field,
                 std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}
// Size of a length-delimited field whose content is `content_size` bytes (field < 16).
constexpr size_t LenFieldSize(size_t content_size) {
  return 1 + VarintSize(content_size) + content_size;
}

// ---- Reading --------------------------------------------------------------------------------

struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;             // kVarint, kFixed64, kFixed32 (little-endian value)
  std::span<const uint8_t> bytes;  // kLen: the content
  std::string_view text() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};

class Reader {
 public:
  // `base`: the offset of `data` in the outermost message, so that errors found in a nested
  // message name absolute byte offsets.
  explicit Reader(std::span<const uint8_t> data, size_t base = 0) : data_(data), base_(base) {}

  // Reads the next field into `field`; groups are skipped, never returned. Returns false at
  // the end of the input or on a wire-format error (then failed() and error() tell which).
  bool Next(Field& field);
  bool failed() const { return !error_.empty(); }
  // "<what> at byte <offset>"; empty when no error occurred.
  const std::string& error() const { return error_; }
  // Marks the reader failed with a caller's (semantic) error at the current field.
  void Fail(std::string_view what);
  // Marks the reader failed with a complete message (a nested reader's error with context).
  void FailWith(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  // The absolute offset of `inner`, a span of this reader's input (a field's content).
  size_t OffsetOf(std::span<const uint8_t> inner) const {
    return base_ + static_cast<size_t>(inner.data() - data_.data());
  }

 private:
  bool ReadVarint(uint64_t& value);
  bool ReadField(Field& field);
  bool SkipGroup(uint32_t number, int depth);

  std::span<const uint8_t> data_;
  size_t base_ = 0;
  size_t pos_ = 0;
  size_t field_start_ = 0;
  std::string error_;
};

}  // namespace wpsim::protocol::protobuf
