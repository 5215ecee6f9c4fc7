// ErrorDetail bodies (PROTOCOL.md §11.6; REST-040).
#include "protocol/rest/error_detail.h"

#include <gtest/gtest.h>

namespace wpsim::protocol::rest {
namespace {

TEST(ErrorDetailJson, WritesOnlyPresentMembersInSpecOrder) {
  ErrorDetail d;
  EXPECT_EQ(ErrorDetailJson(d), "{}");
  d.message = "m";
  d.code = "Error.BadRequest";
  EXPECT_EQ(ErrorDetailJson(d), R"({"code":"Error.BadRequest","message":"m"})");
  d.target = "filter";
  EXPECT_EQ(ErrorDetailJson(d), R"({"code":"Error.BadRequest","message":"m","target":"filter"})");
}

TEST(ErrorDetailJson, NestsDetailsAndTheInnerChain) {
  ErrorDetail d;
  d.code = "Outer";
  ErrorDetail child;
  child.code = "Child";
  d.details = {child, child};
  d.inner_codes = {"A", "B"};
  EXPECT_EQ(ErrorDetailJson(d),
            R"({"code":"Outer","details":[{"code":"Child"},{"code":"Child"}],"inner":{"code":"A","inner":{"code":"B"}}})");
}

TEST(ErrorDetailJson, EscapesQuotesControlsAndInvalidUtf8) {
  ErrorDetail d;
  d.message = std::string("a\"b\\c\n\x01\xC3\xA9\xFF", 10);
  EXPECT_EQ(ErrorDetailJson(d), "{\"message\":\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace wpsim::protocol::rest
