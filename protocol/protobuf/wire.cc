#include "protocol/protobuf/wire.h"

#include "base/result.h"

namespace wpsim::protocol::protobuf {

size_t WriteVarint(uint64_t value, uint8_t* out) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = static_cast<uint8_t>(value | 0x80);
    value >>= 7;
  }
  out[n++] = static_cast<uint8_t>(value);
  return n;
}

void AppendVarint(std::string& out, uint64_t value) {
  uint8_t buffer[kVarintBytesMax];
  const size_t n = WriteVarint(value, buffer);
  out.append(reinterpret_cast<const char*>(buffer), n);
}

void AppendTag(std::string& out, uint32_t field, WireType type) {
  WPSIM_ASSERT(field >= 1 && field <= kFieldNumberMax);
  AppendVarint(out, (uint64_t{field} << 3) | static_cast<uint8_t>(type));
}

void AppendVarintField(std::string& out, uint32_t field, uint64_t value) {
  AppendTag(out, field, WireType::kVarint);
  AppendVarint(out, value);
}

void AppendLenField(std::string& out, uint32_t field, std::string_view bytes) {
  AppendTag(out, field, WireType::kLen);
  AppendVarint(out, bytes.size());
  out.append(bytes);
}

void Reader::Fail(std::string_view what) {
  if (!error_.empty()) return;
  error_ = std::string(what) + " at byte " + std::to_string(base_ + field_start_);
}

bool Reader::ReadVarint(uint64_t& value) {
  value = 0;
  for (size_t i = 0; i < kVarintBytesMax; ++i) {
    if (pos_ >= data_.size()) {
      Fail("truncated varint");
      return false;
    }
    const uint8_t b = data_[pos_++];
    if (i == kVarintBytesMax - 1 && b > 1) {
      Fail("varint overflows 64 bits");
      return false;
    }
    value |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return true;
  }
  Fail("varint longer than 10 bytes");
  return false;
}

// Reads one tag and its value; a start-group tag is returned as is (the caller skips it).
bool Reader::ReadField(Field& field) {
  field_start_ = pos_;
  uint64_t tag = 0;
  if (!ReadVarint(tag)) return false;
  const uint64_t number = tag >> 3;
  const uint8_t type = static_cast<uint8_t>(tag & 7);
  if (number == 0 || number > kFieldNumberMax) {
    Fail("invalid field number " + std::to_string(number));
    return false;
  }
  field.number = static_cast<uint32_t>(number);
  field.varint = 0;
  field.bytes = {};
  switch (type) {
    case 0:
      field.type = WireType::kVarint;
      return ReadVarint(field.varint);
    case 1:
    case 5: {
      const size_t width = type == 1 ? 8 : 4;
      field.type = type == 1 ? WireType::kFixed64 : WireType::kFixed32;
      if (data_.size() - pos_ < width) {
        Fail("truncated fixed-width field");
        return false;
      }
      for (size_t i = 0; i < width; ++i) field.varint |= uint64_t{data_[pos_ + i]} << (8 * i);
      pos_ += width;
      return true;
    }
    case 2: {
      field.type = WireType::kLen;
      uint64_t length = 0;
      if (!ReadVarint(length)) return false;
      if (length > data_.size() - pos_) {
        Fail("length-delimited field runs past the end");
        return false;
      }
      field.bytes = data_.subspan(pos_, static_cast<size_t>(length));
      pos_ += static_cast<size_t>(length);
      return true;
    }
    case 3:
      field.type = WireType::kStartGroup;
      return true;
    case 4:
      field.type = WireType::kEndGroup;
      return true;
    default:
      Fail("invalid wire type " + std::to_string(type));
      return false;
  }
}

bool Reader::SkipGroup(uint32_t number, int depth) {
  if (depth > kGroupDepthMax) {
    Fail("groups nested too deeply");
    return false;
  }
  Field inner;
  while (pos_ < data_.size()) {
    if (!ReadField(inner)) return false;
    if (inner.type == WireType::kStartGroup) {
      if (!SkipGroup(inner.number, depth + 1)) return false;
    } else if (inner.type == WireType::kEndGroup) {
      if (inner.number != number) {
        Fail("end group tag does not match its start");
        return false;
      }
      return true;
    }
  }
  Fail("unterminated group");
  return false;
}

bool Reader::Next(Field& field) {
  while (error_.empty() && pos_ < data_.size()) {
    if (!ReadField(field)) return false;
    if (field.type == WireType::kEndGroup) {
      Fail("end group tag without a start");
      return false;
    }
    if (field.type == WireType::kStartGroup) {
      if (!SkipGroup(field.number, 1)) return false;
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace wpsim::protocol::protobuf
