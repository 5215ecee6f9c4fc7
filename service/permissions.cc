#include "service/permissions.h"

#include <algorithm>
#include <bit>

#include "protocol/rest/names.h"

namespace wpsim::service {
namespace {

// Decodes one code point at text[i] and advances i. Invalid UTF-8 (which validated group
// names never contain) decodes byte by byte instead of failing, so matching stays total.
uint32_t DecodeLenient(std::string_view text, size_t& i) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  int extra = 0;
  if (b0 >= 0xF0 && b0 < 0xF8) {
    extra = 3;
  } else if (b0 >= 0xE0) {
    extra = b0 < 0xF0 ? 2 : 0;
  } else if (b0 >= 0xC0) {
    extra = 1;
  }
  if (extra == 0 || i + static_cast<size_t>(extra) >= text.size()) {
    ++i;
    return b0;
  }
  uint32_t cp = b0 & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<uint8_t>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<size_t>(extra) + 1;
  return cp;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Error LimitError(std::string message) {
  return MakeError("PermissionLimitExceeded", std::move(message));
}

}  // namespace

Result<GroupPattern> GroupPattern::Compile(std::string_view pattern) {
  auto invalid = [](std::string message) { return MakeError("InvalidPattern", std::move(message)); };
  if (pattern.empty()) return invalid("Pattern cannot be null or empty.");
  const std::optional<size_t> length = protocol::rest::Utf16Length(pattern);
  if (!length) return invalid("Pattern is not valid UTF-8.");
  if (*length > kGroupPatternLengthMax) {
    return invalid("Pattern exceeds maximum length of 1024 characters.");
  }

  // One pass: validate escapes and count '*' (the emulator's IsValidPattern), and tokenize.
  std::vector<Token> tokens;
  int stars = 0;
  size_t utf16_position = 0;  // positions in messages count UTF-16 units, as .NET does
  for (size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size()) return invalid("Pattern cannot end with a single backslash.");
      size_t next = i + 1;
      const uint32_t escaped = DecodeLenient(pattern, next);
      if (escaped != '\\' && escaped != '*' && escaped != '?') {
        return invalid("Invalid escape character at position " + std::to_string(utf16_position) +
                       ": '" + std::string(pattern.substr(i + 1, next - i - 1)) +
                       "' can't be escaped.");
      }
      tokens.push_back({Kind::kChar, escaped});
      i = next;
      utf16_position += 2;
    } else if (c == '*') {
      size_t run = 0;
      while (i < pattern.size() && pattern[i] == '*') {
        ++run;
        ++i;
      }
      // A run of two or more '*' is one '**' (ROLE-011), and a '**' counts two (ROLE-013).
      stars += run >= 2 ? 2 : 1;
      utf16_position += run;
      tokens.push_back({run >= 2 ? Kind::kDoubleStar : Kind::kStar, 0});
    } else if (c == '?') {
      tokens.push_back({Kind::kAnyOne, 0});
      ++i;
      ++utf16_position;
    } else {
      const uint32_t cp = DecodeLenient(pattern, i);
      tokens.push_back({Kind::kChar, cp});
      utf16_position += cp >= 0x10000 ? 2 : 1;
    }
  }
  if (stars > kGroupPatternStarsMax) {
    return invalid(
        "Too many '*' in the pattern, exceeding the maximum allowed complexity of 5.");
  }

  GroupPattern compiled;
  compiled.source_ = std::string(pattern);
  size_t first_wildcard = 0;
  while (first_wildcard < tokens.size() && tokens[first_wildcard].kind == Kind::kChar) {
    AppendUtf8(compiled.prefix_, tokens[first_wildcard].code_point);
    ++first_wildcard;
  }
  compiled.is_literal_ = first_wildcard == tokens.size();
  compiled.matches_everything_ = tokens.size() == 1 && tokens[0].kind == Kind::kDoubleStar;
  compiled.tokens_.assign(tokens.begin() + static_cast<std::ptrdiff_t>(first_wildcard),
                          tokens.end());
  const size_t states = compiled.tokens_.size() + 1;
  WPSIM_ASSERT(states <= kStateWords * 64);
  compiled.words_ = (states + 63) / 64;
  for (size_t t = 0; t < compiled.tokens_.size(); ++t) {
    const Kind kind = compiled.tokens_[t].kind;
    if (kind == Kind::kStar || kind == Kind::kDoubleStar) {
      compiled.star_mask_[t / 64] |= uint64_t{1} << (t % 64);
    }
  }
  return compiled;
}

bool GroupPattern::Matches(std::string_view group) const {
  if (group.substr(0, prefix_.size()) != prefix_) return false;
  if (is_literal_) return group.size() == prefix_.size();
  if (matches_everything_) return true;

  // Thompson-style simulation: `cur` holds every token index the input so far can have
  // reached. Star tokens are never adjacent (a run of '*' is one token), so one shift of the
  // star states computes the epsilon closure.
  const size_t m = tokens_.size();
  auto close = [this](StateSet& set) {
    uint64_t carry = 0;
    for (size_t w = 0; w < words_; ++w) {
      const uint64_t stars = set[w] & star_mask_[w];
      set[w] |= (stars << 1) | carry;
      carry = stars >> 63;
    }
  };
  StateSet cur{};
  cur[0] = 1;
  close(cur);
  const std::string_view rest = group.substr(prefix_.size());
  for (size_t pos = 0; pos < rest.size();) {
    const uint32_t c = DecodeLenient(rest, pos);
    StateSet next{};
    bool any = false;
    for (size_t w = 0; w < words_; ++w) {
      for (uint64_t bits = cur[w]; bits != 0; bits &= bits - 1) {
        const size_t state = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        if (state >= m) continue;  // the accepting state consumes nothing
        const Token& token = tokens_[state];
        size_t to = state + 1;
        switch (token.kind) {
          case Kind::kChar:
            if (token.code_point != c) continue;
            break;
          case Kind::kAnyOne:
            if (c == '.') continue;
            break;
          case Kind::kStar:
            if (c == '.') continue;
            to = state;
            break;
          case Kind::kDoubleStar:
            to = state;
            break;
        }
        next[to / 64] |= uint64_t{1} << (to % 64);
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    cur = next;
  }
  return (cur[m / 64] >> (m % 64)) & 1;
}

std::string_view GroupActionName(GroupAction action) {
  return action == GroupAction::kJoinLeave ? "joinLeaveGroup" : "sendToGroup";
}

bool GroupRuleSet::CheckRules(std::string_view group) const {
  if (allow_all_) return true;
  for (const GroupPattern& pattern : patterns_) {
    if (pattern.Matches(group)) return true;
  }
  return false;
}

bool GroupRuleSet::Check(std::string_view group) const {
  if (auto it = literals_.find(group); it != literals_.end()) return it->second;
  return CheckRules(group);
}

Status GroupRuleSet::SetLiteral(std::string_view group, bool allowed) {
  if (auto it = literals_.find(group); it != literals_.end()) {
    // An override always differs from the rules, so the opposite update just removes it.
    if (it->second != allowed) literals_.erase(it);
    return Status::Ok();
  }
  if (CheckRules(group) == allowed) return Status::Ok();
  if (literals_.size() >= kGroupLiteralRulesMax) {
    return LimitError("The count of literal group permissions exceeds 1000.");
  }
  literals_.emplace(std::string(group), allowed);
  return Status::Ok();
}

Status GroupRuleSet::Grant(std::string_view group) { return SetLiteral(group, true); }
Status GroupRuleSet::Revoke(std::string_view group) { return SetLiteral(group, false); }

Status GroupRuleSet::GrantPattern(const GroupPattern& pattern) {
  if (pattern.is_literal()) return SetLiteral(pattern.literal(), true);
  if (pattern.matches_everything()) {
    GrantAll();
    return Status::Ok();
  }
  if (patterns_.size() >= kGroupPatternRulesMax) {
    return LimitError("The count of group name patterns exceeds 10. Skipped '" +
                      pattern.source() + "'.");
  }
  patterns_.push_back(pattern);
  std::erase_if(literals_, [&](const auto& entry) { return pattern.Matches(entry.first); });
  return Status::Ok();
}

void GroupRuleSet::GrantAll() {
  allow_all_ = true;
  patterns_.clear();
  literals_.clear();
}

void GroupRuleSet::RevokeAll() {
  allow_all_ = false;
  patterns_.clear();
  literals_.clear();
}

ConnectionPermissions ConnectionPermissions::FromRoles(std::span<const std::string> roles,
                                                       std::vector<RoleIssue>* issues) {
  auto report = [issues](std::string_view role, std::string reason) {
    if (issues != nullptr) issues->push_back({std::string(role), std::move(reason)});
  };
  std::vector<std::string_view> sorted(roles.begin(), roles.end());
  std::sort(sorted.begin(), sorted.end());

  ConnectionPermissions permissions;
  for (std::string_view role : sorted) {
    GroupRuleSet* rules = nullptr;
    std::string_view rest;
    bool is_pattern = false;
    if (role.starts_with(kRoleSendToGroupsPrefix)) {
      rules = &permissions.send_to_;
      rest = role.substr(kRoleSendToGroupsPrefix.size());
      is_pattern = true;
    } else if (role.starts_with(kRoleJoinLeaveGroupsPrefix)) {
      rules = &permissions.join_leave_;
      rest = role.substr(kRoleJoinLeaveGroupsPrefix.size());
      is_pattern = true;
    } else if (role == kRoleSendToGroup) {
      permissions.send_to_.GrantAll();
      continue;
    } else if (role == kRoleJoinLeaveGroup) {
      permissions.join_leave_.GrantAll();
      continue;
    } else if (role.starts_with(kRoleSendToGroup) && role.size() > kRoleSendToGroup.size() &&
               role[kRoleSendToGroup.size()] == '.') {
      rules = &permissions.send_to_;
      rest = role.substr(kRoleSendToGroup.size() + 1);
    } else if (role.starts_with(kRoleJoinLeaveGroup) &&
               role.size() > kRoleJoinLeaveGroup.size() &&
               role[kRoleJoinLeaveGroup.size()] == '.') {
      rules = &permissions.join_leave_;
      rest = role.substr(kRoleJoinLeaveGroup.size() + 1);
    } else {
      if (role.starts_with("webpubsub.")) report(role, "Unrecognized role; ignored.");
      continue;
    }

    if (is_pattern) {
      Result<GroupPattern> pattern = GroupPattern::Compile(rest);
      if (!pattern.ok()) {
        report(role, "Invalid group name pattern: " + std::string(rest) + ". " +
                         pattern.error().message);
        continue;
      }
      if (Status s = rules->GrantPattern(*pattern); !s.ok()) report(role, s.error().message);
    } else {
      if (!protocol::rest::IsValidGroupName(rest)) {
        report(role, "Invalid group name '" + std::string(rest) + "'; ignored.");
        continue;
      }
      if (Status s = rules->Grant(rest); !s.ok()) report(role, s.error().message);
    }
  }
  return permissions;
}

Status ConnectionPermissions::Grant(GroupAction action,
                                    std::optional<std::string_view> target_group) {
  if (!target_group) {
    mutable_rules(action).GrantAll();
    return Status::Ok();
  }
  return mutable_rules(action).Grant(*target_group);
}

Status ConnectionPermissions::Revoke(GroupAction action,
                                     std::optional<std::string_view> target_group) {
  if (!target_group) {
    mutable_rules(action).RevokeAll();
    return Status::Ok();
  }
  return mutable_rules(action).Revoke(*target_group);
}

bool ConnectionPermissions::Check(GroupAction action,
                                  std::optional<std::string_view> target_group) const {
  if (!target_group) return rules(action).AllowsAll();
  return rules(action).Check(*target_group);
}

}  // namespace wpsim::service
