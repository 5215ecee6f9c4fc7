#include <gtest/gtest.h>
#include <mbedtls/md.h>

#include <string>

namespace {

// RFC 4231 section 4.3, test case 2.
TEST(MbedtlsPackage, HmacSha256MatchesRfc4231TestCase2) {
  const std::string key = "Jefe";
  const std::string data = "what do ya want for nothing?";
  unsigned char out[32];
  ASSERT_EQ(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                            reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out),
            0);
  std::string hex;
  for (unsigned char b : out) {
    static const char* digits = "0123456789abcdef";
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
