#include "protocol/webpubsub/names.h"

#include <gtest/gtest.h>

#include <string>

namespace wpsim::protocol::webpubsub {
namespace {

TEST(GroupNames, AllowAnythingNotBlankUpTo1024Utf16Units) {
  EXPECT_TRUE(IsValidGroupName("g"));
  EXPECT_TRUE(IsValidGroupName(" a "));
  EXPECT_TRUE(IsValidGroupName("a/b\"c.d*"));
  EXPECT_TRUE(IsValidGroupName("gr\xc3\xbcppe"));
  EXPECT_TRUE(IsValidGroupName(std::string(1024, 'x')));
  EXPECT_FALSE(IsValidGroupName(std::string(1025, 'x')));
  EXPECT_FALSE(IsValidGroupName(""));
  EXPECT_FALSE(IsValidGroupName(" \t\r\n"));
  EXPECT_FALSE(IsValidGroupName("\xc2\xa0\xe3\x80\x80"));  // NBSP + ideographic space
  EXPECT_FALSE(IsValidGroupName("\xff"));
  // U+1F600 is two UTF-16 units: 512 of them fill the limit exactly.
  std::string emoji;
  for (int i = 0; i < 512; ++i) emoji += "\xf0\x9f\x98\x80";
  EXPECT_TRUE(IsValidGroupName(emoji));
  EXPECT_FALSE(IsValidGroupName(emoji + "x"));
  // 1024 three-byte characters are 1024 UTF-16 units.
  std::string euro;
  for (int i = 0; i < 1024; ++i) euro += "\xe2\x82\xac";
  EXPECT_TRUE(IsValidGroupName(euro));
}

TEST(EventNames, FollowTheEmulatorPattern) {
  EXPECT_TRUE(IsValidEventName("message"));
  EXPECT_TRUE(IsValidEventName("Chat.Send-1_x"));
  EXPECT_TRUE(IsValidEventName(std::string(128, 'e')));
  EXPECT_FALSE(IsValidEventName(std::string(129, 'e')));
  EXPECT_FALSE(IsValidEventName(""));
  EXPECT_FALSE(IsValidEventName("1abc"));
  EXPECT_FALSE(IsValidEventName("a b"));
  EXPECT_FALSE(IsValidEventName("a/b"));
  EXPECT_FALSE(IsValidEventName("caf\xc3\xa9"));
}

TEST(HubNames, FollowTheRestPattern) {
  EXPECT_TRUE(IsValidHubName("chat"));
  EXPECT_TRUE(IsValidHubName("Chat_1`,.[]"));
  EXPECT_FALSE(IsValidHubName("1chat"));
  EXPECT_FALSE(IsValidHubName("chat-1"));
  EXPECT_FALSE(IsValidHubName(std::string(129, 'h')));
}

}  // namespace
}  // namespace wpsim::protocol::webpubsub
