// MQTT string, topic name and topic filter rules (sections 1.5.4, 4.7 and 4.8.2 of 5.0;
// 1.5.3 and 4.7 of 3.1.1). Used by the decoder, and by sessions that check what they send.
#pragma once

#include <string_view>

namespace wpsim::protocol::mqtt {

enum class TextCheck : uint8_t {
  kOk,
  kIllFormedUtf8,    // not RFC 3629 UTF-8 (includes surrogates, overlongs, > U+10FFFF)
  kNullCharacter,    // U+0000
  kEmpty,            // topic names and filters must be at least one character
  kTooLong,          // more than 65,535 bytes
  kWildcardInName,   // '+' or '#' in a topic name
  kBadMultiLevelWildcard,   // '#' not alone in the last level
  kBadSingleLevelWildcard,  // '+' not alone in its level
  kBadSharedSubscription,   // "$share/" without a valid ShareName and filter
};
std::string_view TextCheckName(TextCheck check);

// A UTF-8 Encoded String: well-formed UTF-8 without U+0000. A BOM (EF BB BF) is an ordinary
// character and is kept ([MQTT-1.5.4-3]).
TextCheck CheckUtf8String(std::string_view text);
// A Topic Name (PUBLISH, Will Topic, Response Topic): a UTF-8 string, non-empty, no wildcards.
TextCheck CheckTopicName(std::string_view name);
// A Topic Filter (SUBSCRIBE, UNSUBSCRIBE). With `shared_subscriptions` (5.0), a filter that
// starts with "$share/" must be "$share/{ShareName}/{filter}" with a non-empty ShareName that
// holds no '/', '+' or '#', followed by a valid non-empty filter.
TextCheck CheckTopicFilter(std::string_view filter, bool shared_subscriptions);

bool HasWildcard(std::string_view filter);
// 5.0 shared subscription ("$share/" prefix); the check above must have passed.
bool IsSharedSubscription(std::string_view filter);
// Whether `name` matches `filter` (section 4.7). Filters starting with a wildcard do not
// match names starting with '$' ([MQTT-4.7.2-1]). Both must be valid; a shared subscription
// filter is matched by its filter part.
bool TopicMatches(std::string_view filter, std::string_view name);

}  // namespace wpsim::protocol::mqtt
