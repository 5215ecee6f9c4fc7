#include "protocol/webpubsub/json_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wpsim::protocol::webpubsub {
namespace {

TEST(JsonScanner, AcceptsRfc8259Values) {
  const char* valid[] = {
      "0", "-0", "1.5e10", "-12.25E-3", "1E+2", "true", "false", "null", "\"\"",
      "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"", "[]", "{}", " [1, 2 ,3] ",
      "{\"a\":{\"b\":[null,{}]}}", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\t\r\n{}\n",
  };
  for (const char* text : valid) EXPECT_TRUE(IsValidJson(text)) << text;
}

TEST(JsonScanner, RejectsEverythingElse) {
  const std::vector<std::string> invalid = {
      "", " ", "01", "-", "1.", ".5", "1e", "+1", "0x10", "NaN", "Infinity", "tru", "nulls",
      "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\uD800\"", "\"\\uDC00\"",
      "\"\\uD800\\u0041\"", std::string("\"ctl \x01\""), "\"tab\tinside\"", "[1,]", "{\"a\":1,}",
      "{a:1}", "{\"a\" 1}", "[1 2]", "{} {}", "// c\n1", "'x'",
      "\"\xc0\xaf\"",          // overlong
      "\"\xed\xa0\x80\"",      // UTF-8 encoded surrogate
      "\"\xf4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xe2\x82\"",          // truncated
      "\xef\xbb\xbf{}",        // BOM
      std::string(kJsonDepthMax + 1, '[') + std::string(kJsonDepthMax + 1, ']'),
  };
  for (const std::string& text : invalid) EXPECT_FALSE(IsValidJson(text)) << text;
  EXPECT_TRUE(IsValidJson(std::string(kJsonDepthMax, '[') + std::string(kJsonDepthMax, ']')));
}

TEST(JsonScanner, ReportsTheExactSourceSliceOfEachMember) {
  std::vector<std::string> seen;
  EXPECT_TRUE(ForEachJsonMember(R"( { "a" : [1, 2] , "b":"x\"y" ,"c": {"d" :null}} )",
                                [&](std::string_view key, JsonKind, std::string_view value) {
                                  seen.push_back(std::string(key) + "=" + std::string(value));
                                  return true;
                                }));
  EXPECT_EQ(seen, (std::vector<std::string>{R"("a"=[1, 2])", R"("b"="x\"y")",
                                            R"("c"={"d" :null})"}));
  EXPECT_FALSE(ForEachJsonMember("[1]", [](auto, auto, auto) { return true; }));
  EXPECT_FALSE(ForEachJsonMember("{\"a\":1} x", [](auto, auto, auto) { return true; }));
}

// The object counts as the first level (System.Text.Json's MaxDepth applies to the whole
// document): a member value may nest kJsonDepthMax - 1 levels, not kJsonDepthMax.
TEST(JsonScanner, CountsTheObjectItselfInTheDepthOfItsMembers) {
  auto members = [](int levels) {
    return ForEachJsonMember("{\"data\":" + std::string(levels, '[') + std::string(levels, ']') + "}",
                             [](auto, auto, auto) { return true; });
  };
  EXPECT_TRUE(members(kJsonDepthMax - 1));
  EXPECT_FALSE(members(kJsonDepthMax));
}

TEST(JsonString, DecodesEscapesAndSurrogatePairs) {
  EXPECT_EQ(DecodeJsonString(R"("a\"b\\c\/d\n\u00e9\uD83D\uDE00")"),
            "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(DecodeJsonString(R"("plain")"), "plain");
  EXPECT_TRUE(JsonKeyEquals(R"("\u0074ype")", "type"));
  EXPECT_FALSE(JsonKeyEquals(R"("Type")", "type"));
}

TEST(JsonString, EscapesLikeJsonStringify) {
  std::string out;
  AppendJsonString(out, std::string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\xc3\xa9", 16));
  EXPECT_EQ(out, "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\"");
}

TEST(JsonString, ReplacesInvalidUtf8WithReplacementCharacter) {
  std::string out;
  AppendJsonString(out, "a\xff" "b\xe2\x82");
  EXPECT_EQ(out, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"");
  EXPECT_TRUE(IsValidJson(out));
}

TEST(JsonNumber, ParsesOnlyPlainUint64) {
  EXPECT_EQ(ParseJsonUint64("0"), 0u);
  EXPECT_EQ(ParseJsonUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseJsonUint64("18446744073709551616"), std::nullopt);
  EXPECT_EQ(ParseJsonUint64("-1"), std::nullopt);
  EXPECT_EQ(ParseJsonUint64("1.0"), std::nullopt);
  EXPECT_EQ(ParseJsonUint64("1e3"), std::nullopt);
  EXPECT_EQ(ParseJsonUint64("01"), std::nullopt);
  std::string out;
  AppendUint64(out, UINT64_MAX);
  EXPECT_EQ(out, "18446744073709551615");
}

}  // namespace
}  // namespace wpsim::protocol::webpubsub
