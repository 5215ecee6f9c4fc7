#include "protocol/mqtt/topic.h"

#include <gtest/gtest.h>

namespace wpsim::protocol::mqtt {
namespace {

TEST(MqttTopicName, RefusesWildcardsEmptinessAndBadText) {
  EXPECT_EQ(CheckTopicName("a/b/c"), TextCheck::kOk);
  EXPECT_EQ(CheckTopicName("/"), TextCheck::kOk);
  EXPECT_EQ(CheckTopicName("$SYS/x"), TextCheck::kOk);
  EXPECT_EQ(CheckTopicName(""), TextCheck::kEmpty);  // [MQTT-4.7.3-1]
  EXPECT_EQ(CheckTopicName("a/+"), TextCheck::kWildcardInName);  // [MQTT-4.7.0-1]
  EXPECT_EQ(CheckTopicName("#"), TextCheck::kWildcardInName);
  EXPECT_EQ(CheckTopicName(std::string_view("a\0b", 3)), TextCheck::kNullCharacter);
  EXPECT_EQ(CheckTopicName("\xC3\x28"), TextCheck::kIllFormedUtf8);
  EXPECT_EQ(CheckTopicName(std::string(65536, 'a')), TextCheck::kTooLong);  // [MQTT-4.7.3-3]
}

TEST(MqttUtf8String, FindsNullAndIllFormedBytesAtAnyPositionOfLongStrings) {
  // The ASCII fast path works eight bytes at a time; cover every offset.
  for (size_t len = 1; len < 40; ++len) {
    for (size_t at = 0; at < len; ++at) {
      std::string s(len, 'x');
      s[at] = '\0';
      EXPECT_EQ(CheckUtf8String(s), TextCheck::kNullCharacter) << len << " " << at;
      s[at] = '\xFF';
      EXPECT_EQ(CheckUtf8String(s), TextCheck::kIllFormedUtf8) << len << " " << at;
      s[at] = '\x7F';  // a control character is allowed (SHOULD NOT, not MUST NOT)
      EXPECT_EQ(CheckUtf8String(s), TextCheck::kOk) << len << " " << at;
    }
  }
  EXPECT_EQ(CheckUtf8String("\xED\xA0\x80"), TextCheck::kIllFormedUtf8);  // U+D800
  EXPECT_EQ(CheckUtf8String("\xF4\x90\x80\x80"), TextCheck::kIllFormedUtf8);  // > U+10FFFF
  EXPECT_EQ(CheckUtf8String("\xEF\xBF\xBF"), TextCheck::kOk);  // U+FFFF: allowed
  EXPECT_EQ(CheckUtf8String("12345678\xE2\x82\xAC\x00"), TextCheck::kOk);  // literal ends at NUL
  EXPECT_EQ(CheckUtf8String(std::string_view("1234567\xE2\x82\xAC\0", 11)),
            TextCheck::kNullCharacter);
}

TEST(MqttTopicFilter, AcceptsWellPlacedWildcardsAndRefusesOthers) {
  for (const char* ok : {"#", "+", "a/#", "a/+/b", "+/+", "/+", "a//b", "sport/tennis/#",
                         "+/tennis/#", "$share/g/a/#"}) {
    EXPECT_EQ(CheckTopicFilter(ok, true), TextCheck::kOk) << ok;
  }
  EXPECT_EQ(CheckTopicFilter("a/#/b", false), TextCheck::kBadMultiLevelWildcard);
  EXPECT_EQ(CheckTopicFilter("a#", false), TextCheck::kBadMultiLevelWildcard);
  EXPECT_EQ(CheckTopicFilter("sport/tennis#", false), TextCheck::kBadMultiLevelWildcard);
  EXPECT_EQ(CheckTopicFilter("a+", false), TextCheck::kBadSingleLevelWildcard);
  EXPECT_EQ(CheckTopicFilter("sport+", false), TextCheck::kBadSingleLevelWildcard);
  EXPECT_EQ(CheckTopicFilter("", false), TextCheck::kEmpty);
  EXPECT_EQ(CheckTopicFilter("$share//a", true), TextCheck::kBadSharedSubscription);
  EXPECT_EQ(CheckTopicFilter("$share/g", true), TextCheck::kBadSharedSubscription);
  EXPECT_EQ(CheckTopicFilter("$share/g/", true), TextCheck::kBadSharedSubscription);
  EXPECT_EQ(CheckTopicFilter("$share/#/a", true), TextCheck::kBadSharedSubscription);
  EXPECT_EQ(CheckTopicFilter("$share/g", false), TextCheck::kOk);  // 3.1.1: a plain filter
  EXPECT_TRUE(IsSharedSubscription("$share/g/a"));
  EXPECT_FALSE(IsSharedSubscription("$shared/g/a"));
  EXPECT_TRUE(HasWildcard("a/+"));
  EXPECT_FALSE(HasWildcard("a/b"));
}

TEST(MqttTopicMatching, FollowsTheExamplesOfSection4_7) {
  struct Row {
    const char* filter;
    const char* name;
    bool match;
  };
  const Row rows[] = {
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/#", "sport", true},
      {"#", "a/b/c", true},
      {"sport/tennis/+", "sport/tennis/player1", true},
      {"sport/tennis/+", "sport/tennis/player1/ranking", false},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},
      {"+/+", "/finance", true},
      {"/+", "/finance", true},
      {"+", "/finance", false},
      {"a/b", "a/b", true},
      {"a/b", "a/c", false},
      {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},
      // [MQTT-4.7.2-1]: wildcards at the start do not match '$' topics.
      {"#", "$SYS/monitor/Clients", false},
      {"+/monitor/Clients", "$SYS/monitor/Clients", false},
      {"$SYS/#", "$SYS/monitor/Clients", true},
      {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
      {"$share/g/a/+", "a/b", true},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(TopicMatches(row.filter, row.name), row.match) << row.filter << " vs " << row.name;
  }
}

}  // namespace
}  // namespace wpsim::protocol::mqtt
