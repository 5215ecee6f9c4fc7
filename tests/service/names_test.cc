// Name rules of PROTOCOL.md §13 (case IDs NAME-001.. in docs/conformance.md).
#include "service/names.h"

#include <gtest/gtest.h>

#include <string>

namespace wpsim::service {
namespace {

TEST(HubNames, AcceptsLettersDigitsAndTheDocumentedPunctuation) {  // NAME-001
  EXPECT_TRUE(IsValidHubName("chat"));
  EXPECT_TRUE(IsValidHubName("C"));
  EXPECT_TRUE(IsValidHubName("hub_1`,.[x]"));
  EXPECT_TRUE(IsValidHubName(std::string(128, 'a')));
}

TEST(HubNames, RejectsEmptyTooLongBadStartAndOtherCharacters) {  // NAME-001
  EXPECT_FALSE(IsValidHubName(""));
  EXPECT_FALSE(IsValidHubName(std::string(129, 'a')));
  EXPECT_FALSE(IsValidHubName("1hub"));
  EXPECT_FALSE(IsValidHubName("_hub"));
  EXPECT_FALSE(IsValidHubName("hub-1"));
  EXPECT_FALSE(IsValidHubName("hub 1"));
  EXPECT_FALSE(IsValidHubName("hub/1"));
  EXPECT_FALSE(IsValidHubName("h\xC3\xA9"));
}

TEST(HubNames, KeyIsAsciiLowerCaseSoHubsAreCaseInsensitive) {  // NAME-002
  EXPECT_EQ(HubKey("MyHub_[X]"), "myhub_[x]");
  EXPECT_EQ(HubKey("chat"), HubKey("CHAT"));
}

TEST(GroupNames, AcceptsAnyNonBlankTextUpTo1024Utf16Units) {  // NAME-003
  EXPECT_TRUE(IsValidGroupName("g"));
  EXPECT_TRUE(IsValidGroupName(" padded "));
  EXPECT_TRUE(IsValidGroupName("a/b%2Fc?*"));
  EXPECT_TRUE(IsValidGroupName(std::string(1024, 'g')));
  // U+1F600 is two UTF-16 units: 512 of them is exactly 1024 units.
  std::string emoji;
  for (int i = 0; i < 512; ++i) emoji += "\xF0\x9F\x98\x80";
  EXPECT_TRUE(IsValidGroupName(emoji));
  EXPECT_FALSE(IsValidGroupName(emoji + "x"));
}

TEST(GroupNames, RejectsEmptyWhitespaceOnlyTooLongAndInvalidUtf8) {  // NAME-003
  EXPECT_FALSE(IsValidGroupName(""));
  EXPECT_FALSE(IsValidGroupName("   "));
  EXPECT_FALSE(IsValidGroupName("\t\r\n"));
  EXPECT_FALSE(IsValidGroupName("\xC2\xA0\xE3\x80\x80"));  // NBSP, ideographic space
  EXPECT_FALSE(IsValidGroupName(std::string(1025, 'g')));
  EXPECT_FALSE(IsValidGroupName("\xFF"));
}

TEST(EventNames, FollowTheEmulatorRuleCaseInsensitively) {  // NAME-004
  EXPECT_TRUE(IsValidEventName("message"));
  EXPECT_TRUE(IsValidEventName("Chat.Message-1_x"));
  EXPECT_TRUE(IsValidEventName(std::string(128, 'e')));
  EXPECT_FALSE(IsValidEventName(""));
  EXPECT_FALSE(IsValidEventName("1event"));
  EXPECT_FALSE(IsValidEventName("-event"));
  EXPECT_FALSE(IsValidEventName("a/b"));
  EXPECT_FALSE(IsValidEventName("a b"));
  EXPECT_FALSE(IsValidEventName(std::string(129, 'e')));
}

TEST(MqttClientIds, AreOneTo128AsciiAlphanumerics) {  // NAME-005
  EXPECT_TRUE(IsValidMqttClientId("a"));
  EXPECT_TRUE(IsValidMqttClientId("Client01"));
  EXPECT_TRUE(IsValidMqttClientId(std::string(128, '7')));
  EXPECT_FALSE(IsValidMqttClientId(""));
  EXPECT_FALSE(IsValidMqttClientId(std::string(129, '7')));
  EXPECT_FALSE(IsValidMqttClientId("client-1"));
  EXPECT_FALSE(IsValidMqttClientId("client_1"));
}

TEST(UserIds, MustNotBeEmpty) {  // NAME-006
  EXPECT_TRUE(IsValidUserId("u"));
  EXPECT_TRUE(IsValidUserId(" "));
  EXPECT_FALSE(IsValidUserId(""));
}

TEST(ValidateName, ReturnsAnErrorNamingTheKindAndTheRule) {
  EXPECT_TRUE(ValidateName(NameKind::kHub, "chat").ok());
  Status bad_event = ValidateName(NameKind::kEvent, "a b");
  ASSERT_FALSE(bad_event.ok());
  EXPECT_EQ(bad_event.error().code, "InvalidName");
  EXPECT_EQ(bad_event.error().message,
            "Invalid event name 'a b': must match ^[a-z][a-z0-9_.-]{0,127}$ (case-insensitive).");
  EXPECT_FALSE(ValidateName(NameKind::kGroup, " ").ok());
  EXPECT_FALSE(ValidateName(NameKind::kMqttClientId, "a-b").ok());
  EXPECT_FALSE(ValidateName(NameKind::kUserId, "").ok());
  Status long_hub = ValidateName(NameKind::kHub, std::string(5000, '-'));
  ASSERT_FALSE(long_hub.ok());
  EXPECT_LT(long_hub.error().message.size(), 300u);
}

}  // namespace
}  // namespace wpsim::service
