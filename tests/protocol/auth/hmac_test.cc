#include "protocol/auth/hmac.h"

#include <gtest/gtest.h>

#include <cctype>

#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/shared_bytes.h"

namespace wpsim::protocol::auth {
namespace {

std::string Hex(const Sha256Digest& d) { return HexEncode(d); }

std::vector<uint8_t> Repeat(uint8_t byte, size_t n) { return std::vector<uint8_t>(n, byte); }

// RFC 4231 §4.2–§4.8 (HMAC-SHA-256 column; case 5 is a truncation test and is left out).
TEST(HmacSha256, MatchesRfc4231TestCase1) {
  const std::string data = "Hi There";
  EXPECT_EQ(Hex(HmacSha256(Repeat(0x0b, 20), AsBytes(data))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(Hex(HmacSha256(std::string_view("Jefe"), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, MatchesRfc4231TestCase3) {
  EXPECT_EQ(Hex(HmacSha256(Repeat(0xaa, 20), Repeat(0xdd, 50))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256, MatchesRfc4231TestCase4) {
  std::vector<uint8_t> key;
  for (uint8_t i = 1; i <= 25; ++i) key.push_back(i);
  EXPECT_EQ(Hex(HmacSha256(key, Repeat(0xcd, 50))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256, MatchesRfc4231TestCase6LargerThanBlockKey) {
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  EXPECT_EQ(Hex(HmacSha256(Repeat(0xaa, 131), AsBytes(data))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, MatchesRfc4231TestCase7LargerThanBlockKeyAndData) {
  const std::string data =
      "This is a test using a larger than block-size key and a larger than block-size data. "
      "The key needs to be hashed before being used by the HMAC algorithm.";
  EXPECT_EQ(Hex(HmacSha256(Repeat(0xaa, 131), AsBytes(data))),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  const std::vector<uint8_t> a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4}, d = {1, 2};
  EXPECT_TRUE(ConstantTimeEqual(a, b));
  EXPECT_FALSE(ConstantTimeEqual(a, c));
  EXPECT_FALSE(ConstantTimeEqual(a, d));
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
}

// Expected values computed independently with Python's hmac module.
constexpr char kPrimary[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";
constexpr char kPrimarySig[] =
    "sha256=8de7281e588e23b0a30a7180ffa240257b8176e983004c240c9f3f7a7233c993";
constexpr char kSecondarySig[] =
    "sha256=885df3df1b2b910fe88b696754379277e42ec15172131c789664f9b0b0a2eee1";

TEST(CloudEventSignature, SignsConnectionIdWithTheKeyStringBytes) {
  EXPECT_EQ(CloudEventSignature(kPrimary, "conn1"), kPrimarySig);
}

TEST(CloudEventSignature, JoinsOneEntryPerKeyWithCommasPrimaryFirst) {
  const std::vector<std::string> keys = {kPrimary, "secondary-key"};
  EXPECT_EQ(CloudEventSignature(keys, "conn1"),
            std::string(kPrimarySig) + "," + kSecondarySig);
}

TEST(CloudEventSignature, VerifyAcceptsAnyMatchingEntryAndRejectsOthers) {
  const std::vector<std::string> primary = {kPrimary};
  const std::vector<std::string> secondary = {"secondary-key"};
  const std::string both = std::string(kPrimarySig) + ", " + kSecondarySig;
  EXPECT_TRUE(VerifyCloudEventSignature(both, primary, "conn1"));
  EXPECT_TRUE(VerifyCloudEventSignature(both, secondary, "conn1"));
  EXPECT_FALSE(VerifyCloudEventSignature(both, primary, "conn2"));
  EXPECT_FALSE(VerifyCloudEventSignature("sha256=zz", primary, "conn1"));
  EXPECT_FALSE(VerifyCloudEventSignature("", primary, "conn1"));
  std::string upper = kPrimarySig;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(VerifyCloudEventSignature(upper, primary, "conn1"));
}

}  // namespace
}  // namespace wpsim::protocol::auth
