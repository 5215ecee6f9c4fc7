#include "protocol/mqtt/topic.h"

#include <cstdint>
#include <cstring>

#include "base/encoding.h"
#include "protocol/mqtt/types.h"

namespace wpsim::protocol::mqtt {

std::string_view TextCheckName(TextCheck check) {
  switch (check) {
    case TextCheck::kOk: return "ok";
    case TextCheck::kIllFormedUtf8: return "ill-formed UTF-8";
    case TextCheck::kNullCharacter: return "U+0000 in string";
    case TextCheck::kEmpty: return "empty topic";
    case TextCheck::kTooLong: return "string longer than 65535 bytes";
    case TextCheck::kWildcardInName: return "wildcard in topic name";
    case TextCheck::kBadMultiLevelWildcard: return "'#' not alone in the last level";
    case TextCheck::kBadSingleLevelWildcard: return "'+' not alone in its level";
    case TextCheck::kBadSharedSubscription: return "invalid shared subscription filter";
  }
  return "unknown";
}

TextCheck CheckUtf8String(std::string_view text) {
  if (text.size() > kMaxStringLength) return TextCheck::kTooLong;
  // Fast path: printable-or-control ASCII without NUL, eight bytes at a time.
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  bool ascii = true;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    // High bit set anywhere, or a zero byte anywhere (classic has-zero-byte trick).
    if ((w & 0x8080808080808080ull) != 0 ||
        ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    for (; i < n; ++i) {
      if (p[i] == 0) return TextCheck::kNullCharacter;
      if (p[i] & 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return TextCheck::kOk;
  }
  // Slow path for the rest. In well-formed UTF-8 a zero byte can only encode U+0000.
  std::string_view rest = text.substr(i);
  if (!IsValidUtf8(rest)) return TextCheck::kIllFormedUtf8;
  if (std::memchr(rest.data(), 0, rest.size()) != nullptr) return TextCheck::kNullCharacter;
  return TextCheck::kOk;
}

TextCheck CheckTopicName(std::string_view name) {
  TextCheck c = CheckUtf8String(name);
  if (c != TextCheck::kOk) return c;
  if (name.empty()) return TextCheck::kEmpty;
  if (name.find_first_of("+#") != std::string_view::npos) return TextCheck::kWildcardInName;
  return TextCheck::kOk;
}

namespace {

constexpr std::string_view kSharePrefix = "$share/";

TextCheck CheckFilterLevels(std::string_view filter) {
  if (filter.empty()) return TextCheck::kEmpty;
  size_t start = 0;
  while (true) {
    size_t end = filter.find('/', start);
    std::string_view level =
        filter.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t hash = level.find('#');
    if (hash != std::string_view::npos) {
      if (level.size() != 1 || end != std::string_view::npos) {
        return TextCheck::kBadMultiLevelWildcard;
      }
    }
    size_t plus = level.find('+');
    if (plus != std::string_view::npos && level.size() != 1) {
      return TextCheck::kBadSingleLevelWildcard;
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return TextCheck::kOk;
}

}  // namespace

TextCheck CheckTopicFilter(std::string_view filter, bool shared_subscriptions) {
  TextCheck c = CheckUtf8String(filter);
  if (c != TextCheck::kOk) return c;
  if (filter.empty()) return TextCheck::kEmpty;
  if (shared_subscriptions && filter.substr(0, kSharePrefix.size()) == kSharePrefix) {
    std::string_view rest = filter.substr(kSharePrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return TextCheck::kBadSharedSubscription;
    std::string_view share_name = rest.substr(0, slash);
    if (share_name.find_first_of("+#") != std::string_view::npos) {
      return TextCheck::kBadSharedSubscription;
    }
    std::string_view inner = rest.substr(slash + 1);
    if (inner.empty()) return TextCheck::kBadSharedSubscription;
    return CheckFilterLevels(inner);
  }
  return CheckFilterLevels(filter);
}

bool HasWildcard(std::string_view filter) {
  return filter.find_first_of("+#") != std::string_view::npos;
}

bool IsSharedSubscription(std::string_view filter) {
  return filter.substr(0, kSharePrefix.size()) == kSharePrefix;
}

bool TopicMatches(std::string_view filter, std::string_view name) {
  if (IsSharedSubscription(filter)) {
    size_t slash = filter.find('/', kSharePrefix.size());
    if (slash == std::string_view::npos) return false;
    filter = filter.substr(slash + 1);
  }
  if (!name.empty() && name[0] == '$' && !filter.empty() &&
      (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  size_t f = 0;
  size_t n = 0;
  while (true) {
    size_t f_end = filter.find('/', f);
    std::string_view f_level = filter.substr(
        f, f_end == std::string_view::npos ? std::string_view::npos : f_end - f);
    if (f_level == "#") return true;  // matches the parent level and everything below
    if (n > name.size()) return false;  // name exhausted while the filter has levels left
    size_t n_end = name.find('/', n);
    std::string_view n_level =
        name.substr(n, n_end == std::string_view::npos ? std::string_view::npos : n_end - n);
    if (f_level != "+" && f_level != n_level) return false;
    bool f_last = f_end == std::string_view::npos;
    bool n_last = n_end == std::string_view::npos;
    if (f_last && n_last) return true;
    if (f_last) return false;
    if (n_last) {
      // "a/#" matches "a": the filter's next level must be exactly "#" and be its last.
      return filter.substr(f_end + 1) == "#";
    }
    f = f_end + 1;
    n = n_end + 1;
  }
}

}  // namespace wpsim::protocol::mqtt
