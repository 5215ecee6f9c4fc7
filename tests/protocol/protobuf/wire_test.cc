// The proto3 wire-format reader and writer (protocol/protobuf/wire.h).
#include "protocol/protobuf/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wpsim::protocol::protobuf {
namespace {

std::span<const uint8_t> Bytes(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(ProtobufWire, VarintsAreMinimalLittleEndianBase128) {
  std::string out;
  AppendVarint(out, 0);
  AppendVarint(out, 1);
  AppendVarint(out, 127);
  AppendVarint(out, 128);
  AppendVarint(out, 300);
  EXPECT_EQ(Hex(out), "00017f8001ac02");
  out.clear();
  AppendVarint(out, UINT64_MAX);
  EXPECT_EQ(Hex(out), "ffffffffffffffffff01");
  EXPECT_EQ(VarintSize(UINT64_MAX), 10u);
  EXPECT_EQ(VarintSize(127), 1u);
  EXPECT_EQ(VarintSize(128), 2u);
}

TEST(ProtobufWire, FieldsAreTagThenValue) {
  std::string out;
  AppendVarintField(out, 1, 150);
  AppendLenField(out, 2, std::string_view("testing"));
  EXPECT_EQ(Hex(out), "089601120774657374696e67");
}

TEST(ProtobufWire, ReadsVarintLengthAndFixedFields) {
  const std::vector<uint8_t> in = {0x08, 0x96, 0x01, 0x12, 0x02, 'h',  'i', 0x19, 1, 0, 0,
                                   0,    0,    0,    0,    0,    0x25, 2,   0,    0, 0};
  Reader r(Bytes(in));
  Field f;
  ASSERT_TRUE(r.Next(f));
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(f.type, WireType::kVarint);
  EXPECT_EQ(f.varint, 150u);
  ASSERT_TRUE(r.Next(f));
  EXPECT_EQ(f.number, 2u);
  EXPECT_EQ(f.type, WireType::kLen);
  EXPECT_EQ(f.text(), "hi");
  ASSERT_TRUE(r.Next(f));
  EXPECT_EQ(f.type, WireType::kFixed64);
  EXPECT_EQ(f.varint, 1u);
  ASSERT_TRUE(r.Next(f));
  EXPECT_EQ(f.type, WireType::kFixed32);
  EXPECT_EQ(f.varint, 2u);
  EXPECT_FALSE(r.Next(f));
  EXPECT_FALSE(r.failed());
}

TEST(ProtobufWire, ReadsTheLargestVarint) {
  const std::vector<uint8_t> in = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x01};
  Reader r(Bytes(in));
  Field f;
  ASSERT_TRUE(r.Next(f));
  EXPECT_EQ(f.varint, UINT64_MAX);
}

struct BadInput {
  std::vector<uint8_t> bytes;
  std::string error;
};

class ProtobufWireRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(ProtobufWireRejects, WithAPreciseStickyError) {
  Reader r(Bytes(GetParam().bytes));
  Field f;
  while (r.Next(f)) {
  }
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error(), GetParam().error);
  EXPECT_FALSE(r.Next(f));  // sticky
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProtobufWireRejects,
    ::testing::Values(BadInput{{0x08}, "truncated varint at byte 0"},
                      BadInput{{0x08, 0x80}, "truncated varint at byte 0"},
                      BadInput{{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
                               "varint overflows 64 bits at byte 0"},
                      BadInput{{0x02, 0x00}, "invalid field number 0 at byte 0"},
                      BadInput{{0x08, 0x01, 0x0e}, "invalid wire type 6 at byte 2"},
                      BadInput{{0x0f}, "invalid wire type 7 at byte 0"},
                      BadInput{{0x0a, 0x05, 0x00},
                               "length-delimited field runs past the end at byte 0"},
                      BadInput{{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
                               "length-delimited field runs past the end at byte 0"},
                      BadInput{{0x09, 0x00, 0x00}, "truncated fixed-width field at byte 0"},
                      BadInput{{0x0c}, "end group tag without a start at byte 0"},
                      BadInput{{0x0b, 0x08, 0x01}, "unterminated group at byte 1"},
                      BadInput{{0x0b, 0x14}, "end group tag does not match its start at byte 1"}));

TEST(ProtobufWire, SkipsGroupsAsUnknownFields) {
  // field 1 group { field 2 varint, nested group 3 {} } then field 4 varint 7.
  const std::vector<uint8_t> in = {0x0b, 0x10, 0x01, 0x1b, 0x1c, 0x0c, 0x20, 0x07};
  Reader r(Bytes(in));
  Field f;
  ASSERT_TRUE(r.Next(f));
  EXPECT_EQ(f.number, 4u);
  EXPECT_EQ(f.varint, 7u);
  EXPECT_FALSE(r.Next(f));
  EXPECT_FALSE(r.failed());
}

TEST(ProtobufWire, BoundsGroupNesting) {
  std::vector<uint8_t> in;
  for (int i = 0; i < kGroupDepthMax + 2; ++i) in.push_back(0x0b);
  Reader r(Bytes(in));
  Field f;
  EXPECT_FALSE(r.Next(f));
  EXPECT_EQ(r.error().substr(0, 25), "groups nested too deeply ");
}

}  // namespace
}  // namespace wpsim::protocol::protobuf
