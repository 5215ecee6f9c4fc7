// Group permissions of one client connection (PROTOCOL.md §3).
//
// Theory of operation: a connection's roles (from its access token, the connect event response
// or :generateToken) are parsed once into two GroupRuleSets, one for join/leave and one for
// sending. A rule set answers "may this connection act on group g?" in three layers, checked in
// this order:
//   1. literal overrides, an ordered map group -> allow/deny (O(log n) lookups). They come from
//      literal roles (`webpubsub.sendToGroup.<g>`) and from the REST grant/revoke operations;
//      an override is only stored when it differs from what layers 2-3 say, so a literal revoke
//      overrides a matching wildcard or all-groups role (as in the Microsoft emulator);
//   2. up to kGroupPatternRulesMax compiled wildcard patterns (`webpubsub.sendToGroups.<p>`),
//      each matched by a small NFA over the pattern's tokens: no regex, no backtracking, work
//      bounded by pattern length x group length;
//   3. the default: allow every group (`webpubsub.sendToGroup`, or a REST grant without
//      targetName) or deny every group.
// Invalid roles do not fail the connection: they are ignored and reported as RoleIssue values
// (the emulator logs and skips them). Unknown non-`webpubsub.` roles are application roles and
// are ignored silently. No iteration order depends on pointers or unordered containers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace wpsim::service {

inline constexpr std::string_view kRoleJoinLeaveGroup = "webpubsub.joinLeaveGroup";
inline constexpr std::string_view kRoleSendToGroup = "webpubsub.sendToGroup";
inline constexpr std::string_view kRoleJoinLeaveGroupsPrefix = "webpubsub.joinLeaveGroups.";
inline constexpr std::string_view kRoleSendToGroupsPrefix = "webpubsub.sendToGroups.";

// Limits from DOC:concept-wildcard-group-roles.md and EMU:Constants.cs.
inline constexpr size_t kGroupPatternLengthMax = 1024;  // UTF-16 code units
inline constexpr int kGroupPatternStarsMax = 5;         // '**' counts two
// The emulator allows 10 rules per action including the implicit default rule, i.e. nine
// explicit patterns (EMU:GroupPermissionManager.cs; its tests pin "nine explicit patterns").
inline constexpr size_t kGroupPatternRulesMax = 9;
inline constexpr size_t kGroupLiteralRulesMax = 1000;

// A compiled wildcard group pattern: '.' separates segments; '?' is one character other than
// '.'; '*' is zero or more characters other than '.'; a run of two or more '*' is '**', any
// run of characters including '.'; '\' escapes '\', '*' and '?'. Case-sensitive. Characters are
// Unicode code points (.NET counts UTF-16 units; this differs only outside the BMP).
class GroupPattern {
 public:
  // Errors (code "InvalidPattern") use the emulator's wording, e.g. "Pattern cannot end with a
  // single backslash.".
  static Result<GroupPattern> Compile(std::string_view pattern);

  bool Matches(std::string_view group) const;
  // True when the pattern has no wildcard at all; literal() is then the unescaped group name.
  bool is_literal() const { return is_literal_; }
  const std::string& literal() const { return prefix_; }
  // True for a pattern that is a single run of '**' (matches every group).
  bool matches_everything() const { return matches_everything_; }
  const std::string& source() const { return source_; }

 private:
  enum class Kind : uint8_t { kChar, kAnyOne, kStar, kDoubleStar };
  struct Token {
    Kind kind;
    uint32_t code_point;  // for kChar
  };
  static constexpr size_t kStateWords = (kGroupPatternLengthMax + 1 + 63) / 64;
  using StateSet = std::array<uint64_t, kStateWords>;

  std::string source_;
  // The literal characters before the first wildcard (UTF-8), checked with one compare before
  // the NFA runs over the rest; for a literal pattern, the whole unescaped name.
  std::string prefix_;
  std::vector<Token> tokens_;  // the tokens after prefix_
  StateSet star_mask_{};       // states whose token is '*' or '**' (epsilon to the next state)
  size_t words_ = 1;
  bool is_literal_ = false;
  bool matches_everything_ = false;
};

enum class GroupAction : uint8_t { kJoinLeave, kSendTo };
// "joinLeaveGroup" / "sendToGroup": the REST {permission} names (REST:models.tsp).
std::string_view GroupActionName(GroupAction action);

// The rules for one action of one connection. See the file comment for the three layers.
class GroupRuleSet {
 public:
  bool Check(std::string_view group) const;
  // Literal grant/revoke of one group (REST with targetName, literal roles). Errors:
  // "PermissionLimitExceeded" when a new override would exceed kGroupLiteralRulesMax.
  Status Grant(std::string_view group);
  Status Revoke(std::string_view group);
  // Adds an allow pattern. A literal pattern becomes a literal grant, a '**' pattern a
  // GrantAll(); otherwise overrides the pattern matches are dropped (the newer, broader rule
  // wins) and the pattern counts against kGroupPatternRulesMax ("PermissionLimitExceeded").
  Status GrantPattern(const GroupPattern& pattern);
  // Allow / deny every group; clears patterns and overrides.
  void GrantAll();
  void RevokeAll();
  // True when every group is allowed: default allow with no deny override.
  bool AllowsAll() const { return allow_all_ && literals_.empty(); }

  size_t literal_count() const { return literals_.size(); }
  size_t pattern_count() const { return patterns_.size(); }

 private:
  bool CheckRules(std::string_view group) const;
  Status SetLiteral(std::string_view group, bool allowed);

  bool allow_all_ = false;
  std::vector<GroupPattern> patterns_;
  std::map<std::string, bool, std::less<>> literals_;  // group -> allowed, differs from rules
};

// A role that was ignored while parsing, and why.
struct RoleIssue {
  std::string role;
  std::string reason;
};

class ConnectionPermissions {
 public:
  // No roles: the connection may only send `event` requests (DOC-INC:reference-permission.md).
  ConnectionPermissions() = default;

  // Parses role strings (in ordinal order, as the emulator sorts them). Ignored roles are
  // appended to `issues` when it is not null.
  static ConnectionPermissions FromRoles(std::span<const std::string> roles,
                                         std::vector<RoleIssue>* issues = nullptr);

  bool CanJoinLeave(std::string_view group) const { return join_leave_.Check(group); }
  bool CanSendTo(std::string_view group) const { return send_to_.Check(group); }

  // REST permission operations (§3.2). Without a target group the operation applies to all
  // groups: Grant allows every group, Revoke denies every group (including groups allowed by
  // token roles), Check is true only when every group is allowed. [UNCERTAIN: the emulator
  // requires targetName.]
  Status Grant(GroupAction action, std::optional<std::string_view> target_group);
  Status Revoke(GroupAction action, std::optional<std::string_view> target_group);
  bool Check(GroupAction action, std::optional<std::string_view> target_group) const;

  const GroupRuleSet& rules(GroupAction action) const {
    return action == GroupAction::kJoinLeave ? join_leave_ : send_to_;
  }

 private:
  GroupRuleSet& mutable_rules(GroupAction action) {
    return action == GroupAction::kJoinLeave ? join_leave_ : send_to_;
  }

  GroupRuleSet join_leave_;
  GroupRuleSet send_to_;
};

}  // namespace wpsim::service
