#include "base/encoding.h"

#include <gtest/gtest.h>

#include "base/shared_bytes.h"

namespace wpsim {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// RFC 4648 section 10 test vectors.
TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(Bytes("")), "");
  EXPECT_EQ(Base64Encode(Bytes("f")), "Zg==");
  EXPECT_EQ(Base64Encode(Bytes("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(Bytes("foo")), "Zm9v");
  EXPECT_EQ(Base64Encode(Bytes("foob")), "Zm9vYg==");
  EXPECT_EQ(Base64Encode(Bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode(Bytes("foobar")), "Zm9vYmFy");
}

TEST(Base64, DecodesWhatItEncodesForEveryLength) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(data)), data);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(data)), data);
    data.push_back(static_cast<uint8_t>(i * 37 + 255));
  }
}

TEST(Base64, RejectsInvalidCharactersPaddingAndNonCanonicalBits) {
  EXPECT_FALSE(Base64Decode("Zm9v!"));
  EXPECT_FALSE(Base64Decode("Zg="));   // missing padding
  EXPECT_FALSE(Base64Decode("Zh=="));  // non-zero leftover bits
  EXPECT_FALSE(Base64Decode("Z"));
  EXPECT_FALSE(Base64Decode("-_-_"));  // URL alphabet is not standard
  EXPECT_TRUE(Base64UrlDecode("-_-_"));
}

TEST(Base64Url, OmitsPaddingAndUsesUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode(std::vector<uint8_t>{0xfb, 0xff}), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), (std::vector<uint8_t>{0xfb, 0xff}));
  EXPECT_EQ(Base64UrlDecode("-_8="), (std::vector<uint8_t>{0xfb, 0xff}));
}

TEST(Utf8, AcceptsValidAndRejectsOverlongSurrogateAndOutOfRange) {
  EXPECT_TRUE(IsValidUtf8("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(Utf8, ValidatesAcrossFragmentBoundaries) {
  Utf8Validator v;
  EXPECT_TRUE(v.Feed(Bytes("\xf0\x9f")));
  EXPECT_FALSE(v.Complete());
  EXPECT_TRUE(v.Feed(Bytes("\x98\x80")));
  EXPECT_TRUE(v.Complete());
  Utf8Validator bad;
  EXPECT_TRUE(bad.Feed(Bytes("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")));
  EXPECT_FALSE(bad.Feed(Bytes("\xed\xa0\x80")));  // fails fast, mid-message
}

TEST(SharedBytes, CopiesShareOneBufferAndCountReferences) {
  SharedBytes a = SharedBytes::Copy(std::string_view("fan-out"));
  SharedBytes b = a;
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a.use_count(), 2u);
  b = SharedBytes();
  EXPECT_EQ(a.use_count(), 1u);
  EXPECT_EQ(a.view(), "fan-out");
}

}  // namespace
}  // namespace wpsim
