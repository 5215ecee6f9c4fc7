#include "protocol/auth/jwt.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/shared_bytes.h"
#include "protocol/auth/hmac.h"

namespace wpsim::protocol::auth {
namespace {

constexpr char kKey[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

// Builds a token from arbitrary header/payload text (so tests can forge bad headers).
std::string MakeToken(std::string_view header, std::string_view payload,
                      std::string_view key = kKey) {
  std::string signed_part = Base64UrlEncode(AsBytes(header)) + "." +
                            Base64UrlEncode(AsBytes(payload));
  return signed_part + "." + Base64UrlEncode(HmacSha256(key, signed_part));
}

constexpr char kHs256[] = R"({"alg":"HS256","typ":"JWT"})";

VerifyOptions At(int64_t now) {
  VerifyOptions o;
  o.now_unix_seconds = now;
  return o;
}

std::string CodeOf(const Result<Claims>& r) { return r.ok() ? "ok" : r.error().code; }

// The well-known jwt.io HS256 example, produced by an independent implementation.
TEST(JwtVerify, AcceptsTheJwtIoReferenceToken) {
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  VerifyOptions o = At(1516239022);
  o.require_exp = false;
  auto r = Verify(token, "your-256-bit-secret", o);
  ASSERT_TRUE(r.ok()) << r.error().code;
  EXPECT_EQ(r->subject, "1234567890");
  EXPECT_EQ(r->issued_at, 1516239022);
  ASSERT_EQ(r->all.size(), 3u);
  EXPECT_EQ(r->all[1], (ClaimValues{"name", {"John Doe"}}));
  EXPECT_EQ(CodeOf(Verify(token, "wrong-secret", o)), kJwtBadSignature);
}

TEST(JwtSign, RoundTripsThroughVerifyWithTheJsonwebtokenHeader) {
  const std::string token = Sign(R"({"exp":2000,"sub":"u1","aud":"a"})", kKey);
  EXPECT_EQ(token.substr(0, token.find('.')), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
  auto r = Verify(token, kKey, At(1000));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->subject, "u1");
  EXPECT_EQ(r->expires_at, 2000);
  EXPECT_EQ(r->audiences, std::vector<std::string>{"a"});
}

TEST(JwtVerify, ReadsRolesAndGroupsFromArraysOrSingleStrings) {
  auto arrays = Verify(Sign(R"({"exp":9,"role":["r1","r2"],"webpubsub.group":["g1","g2"]})", kKey),
                       kKey, At(1));
  ASSERT_TRUE(arrays.ok());
  EXPECT_EQ(arrays->roles, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(arrays->groups, (std::vector<std::string>{"g1", "g2"}));
  auto single = Verify(Sign(R"({"exp":9,"role":"r1","webpubsub.group":"g1"})", kKey), kKey, At(1));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->roles, std::vector<std::string>{"r1"});
  EXPECT_EQ(single->groups, std::vector<std::string>{"g1"});
}

TEST(JwtVerify, ReadsThePlainGroupClaimOnlyWhenAsked) {
  const std::string token = Sign(R"({"exp":9,"webpubsub.group":["a"],"group":["b","c"]})", kKey);
  auto off = Verify(token, kKey, At(1));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->groups, std::vector<std::string>{"a"});
  VerifyOptions o = At(1);
  o.accept_group_claim = true;
  auto on = Verify(token, kKey, o);
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(on->groups, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(JwtVerify, KeepsEveryClaimInPayloadOrderAsStringLists) {
  auto r = Verify(Sign(R"({"exp":9,"custom":"x","n":1.5,"flags":[true,2,"s",{"k":1}],)"
                       R"("obj":{"a":[1]},"nil":null,"role":["r"]})",
                       kKey),
                  kKey, At(1));
  ASSERT_TRUE(r.ok());
  const std::vector<ClaimValues> expected = {
      {"exp", {"9"}},
      {"custom", {"x"}},
      {"n", {"1.5"}},
      {"flags", {"true", "2", "s", R"({"k":1})"}},
      {"obj", {R"({"a":[1]})"}},
      {"nil", {""}},
      {"role", {"r"}},
  };
  EXPECT_EQ(r->all, expected);
}

TEST(JwtVerify, RejectsEachFailureWithItsOwnReasonCode) {
  const std::string good_payload = R"({"exp":100,"aud":"https://h/client/hubs/chat"})";
  struct Case {
    const char* name;
    std::string token;
    std::string code;
  };
  const std::string good = MakeToken(kHs256, good_payload);
  std::string flipped = good;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  const std::vector<Case> cases = {
      {"two segments", "abc.def", kJwtMalformed},
      {"four segments", good + ".x", kJwtMalformed},
      {"empty", "", kJwtMalformed},
      {"header not base64url", "a*b." + good.substr(good.find('.') + 1), kJwtMalformed},
      {"header not json", MakeToken("{nope", good_payload), kJwtMalformed},
      {"header an array", MakeToken("[1]", good_payload), kJwtMalformed},
      {"header without alg", MakeToken(R"({"typ":"JWT"})", good_payload), kJwtMalformed},
      {"alg none", MakeToken(R"({"alg":"none"})", good_payload), kJwtAlgNone},
      {"alg None unsigned",
       Base64UrlEncode(AsBytes(std::string_view(R"({"alg":"None"})"))) + "." +
           Base64UrlEncode(AsBytes(good_payload)) + ".",
       kJwtAlgNone},
      {"alg HS512", MakeToken(R"({"alg":"HS512","typ":"JWT"})", good_payload), kJwtUnsupportedAlg},
      {"alg RS256", MakeToken(R"({"alg":"RS256"})", good_payload), kJwtUnsupportedAlg},
      {"alg hs256 lower case", MakeToken(R"({"alg":"hs256"})", good_payload), kJwtUnsupportedAlg},
      {"typ JWS", MakeToken(R"({"alg":"HS256","typ":"JWS"})", good_payload), kJwtInvalidTyp},
      {"typ number", MakeToken(R"({"alg":"HS256","typ":1})", good_payload), kJwtInvalidTyp},
      {"signature flipped", flipped, kJwtBadSignature},
      {"other key", MakeToken(kHs256, good_payload, "other"), kJwtBadSignature},
      {"signature padded", good + "=", kJwtMalformed},
      {"signature empty", good.substr(0, good.rfind('.') + 1), kJwtBadSignature},
      {"payload not json", MakeToken(kHs256, "not json"), kJwtMalformed},
      {"payload a string", MakeToken(kHs256, R"("s")"), kJwtMalformed},
      {"exp a string", MakeToken(kHs256, R"({"exp":"100"})"), kJwtInvalidClaim},
      {"role a number", MakeToken(kHs256, R"({"exp":100,"role":1})"), kJwtInvalidClaim},
      {"group array of numbers", MakeToken(kHs256, R"({"exp":100,"webpubsub.group":[1]})"),
       kJwtInvalidClaim},
      {"sub a number", MakeToken(kHs256, R"({"exp":100,"sub":5})"), kJwtInvalidClaim},
      {"missing exp", MakeToken(kHs256, R"({"aud":"https://h/client/hubs/chat"})"),
       kJwtMissingExp},
      {"expired", MakeToken(kHs256, R"({"exp":50,"aud":"https://h/client/hubs/chat"})"),
       kJwtExpired},
      {"not yet valid",
       MakeToken(kHs256, R"({"exp":100,"nbf":61,"aud":"https://h/client/hubs/chat"})"),
       kJwtNotYetValid},
      {"wrong audience", MakeToken(kHs256, R"({"exp":100,"aud":"https://h/client/hubs/other"})"),
       kJwtAudienceMismatch},
      {"no audience", MakeToken(kHs256, R"({"exp":100})"), kJwtAudienceMismatch},
      {"deeply nested payload",
       MakeToken(kHs256, R"({"exp":100,"x":)" + std::string(40, '[') + std::string(40, ']') + "}"),
       kJwtMalformed},
  };
  VerifyOptions o = At(60);
  o.audiences = {"https://h/client/hubs/chat"};
  for (const Case& c : cases) {
    EXPECT_EQ(CodeOf(Verify(c.token, kKey, o)), c.code) << c.name;
  }
  EXPECT_EQ(CodeOf(Verify(good, kKey, o)), "ok");
  EXPECT_EQ(CodeOf(Verify(std::string(kJwtTokenBytesMax + 1, 'a'), kKey, o)), kJwtMalformed);
}

TEST(JwtVerify, AppliesClockSkewToExpAndNbf) {
  const std::string token = Sign(R"({"nbf":100,"exp":200})", kKey);
  VerifyOptions o = At(99);
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), kJwtNotYetValid);
  o.now_unix_seconds = 100;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
  o.now_unix_seconds = 199;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
  o.now_unix_seconds = 200;  // exp is exclusive: valid only strictly before it
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), kJwtExpired);
  o.clock_skew_seconds = 300;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
  o.now_unix_seconds = 499;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
  o.now_unix_seconds = 500;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), kJwtExpired);
  o.now_unix_seconds = -200;  // -200 + 300 skew reaches nbf exactly: valid
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
  o.now_unix_seconds = -201;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), kJwtNotYetValid);
}

TEST(JwtVerify, MissingExpIsAcceptedWhenNotRequired) {
  VerifyOptions o = At(1);
  o.require_exp = false;
  EXPECT_EQ(CodeOf(Verify(Sign("{}", kKey), kKey, o)), "ok");
}

TEST(JwtVerify, HandlesHugeAndFractionalNumericDates) {
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":1e300})", kKey), kKey, At(1))), "ok");
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":18446744073709551615})", kKey), kKey, At(1))), "ok");
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":-1e300})", kKey), kKey, At(1))), kJwtExpired);
  auto r = Verify(Sign(R"({"exp":10.9})", kKey), kKey, At(10));
  EXPECT_EQ(CodeOf(r), kJwtExpired);  // truncated to 10
}

TEST(JwtVerify, MatchesAudienceExactlyOrIgnoringCase) {
  const std::string token = Sign(R"({"exp":9,"aud":["x","HTTPS://H/client/hubs/Chat"]})", kKey);
  VerifyOptions o = At(1);
  o.audiences = {"https://h/client/hubs/chat"};
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), kJwtAudienceMismatch);
  o.audience_match = AudienceMatch::kCaseInsensitive;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
  o.audiences = {"y", "x"};
  o.audience_match = AudienceMatch::kExact;
  EXPECT_EQ(CodeOf(Verify(token, kKey, o)), "ok");
}

TEST(JwtVerify, AcceptsATokenSignedWithTheSecondaryKey) {
  const std::vector<std::string> keys = {"primary", "secondary"};
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":9})", "secondary"), keys, At(1))), "ok");
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":9})", "third"), keys, At(1))), kJwtBadSignature);
}

TEST(JwtVerify, UsesTheKeyStringBytesNotItsBase64Decoding) {
  // "QUJD" is base64 for "ABC": a token signed with the decoded bytes must not verify.
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":9})", "ABC"), "QUJD", At(1))), kJwtBadSignature);
  EXPECT_EQ(CodeOf(Verify(Sign(R"({"exp":9})", "QUJD"), "QUJD", At(1))), "ok");
}

}  // namespace
}  // namespace wpsim::protocol::auth
