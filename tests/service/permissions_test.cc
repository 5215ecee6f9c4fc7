// Roles and permissions of PROTOCOL.md §3 (case IDs ROLE-001.. in docs/conformance.md).
#include "service/permissions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wpsim::service {
namespace {

GroupPattern MustCompile(std::string_view pattern) {
  Result<GroupPattern> compiled = GroupPattern::Compile(pattern);
  EXPECT_TRUE(compiled.ok()) << pattern << ": "
                             << (compiled.ok() ? "" : compiled.error().message);
  return compiled.ok() ? *compiled : GroupPattern();
}

std::string CompileError(std::string_view pattern) {
  Result<GroupPattern> compiled = GroupPattern::Compile(pattern);
  return compiled.ok() ? "<ok>" : compiled.error().message;
}

ConnectionPermissions FromRoles(std::vector<std::string> roles,
                                std::vector<RoleIssue>* issues = nullptr) {
  return ConnectionPermissions::FromRoles(roles, issues);
}

TEST(GroupPatternMatching, FollowsTheDocumentedExamples) {  // ROLE-010
  struct Case {
    const char* pattern;
    std::vector<const char*> matches;
    std::vector<const char*> rejects;
  };
  const Case cases[] = {
      {"chat-*", {"chat-1", "chat-room", "chat-"}, {"chat.1", "xchat-1", "chat"}},
      {"clientA.*", {"clientA.alpha", "clientA.1", "clientA."},
       {"clientA.alpha.room1", "clientB.alpha"}},
      {"clientA.**", {"clientA.alpha", "clientA.alpha.room1", "clientA."},
       {"clientB.anything", "clientA"}},
      {"clientA.rooms.?1", {"clientA.rooms.a1", "clientA.rooms.11"},
       {"clientA.rooms.1", "clientA.rooms.a.1", "clientA.rooms..1"}},
      {"literal\\*star", {"literal*star"}, {"literalXstar"}},
  };
  for (const Case& c : cases) {
    GroupPattern pattern = MustCompile(c.pattern);
    for (const char* group : c.matches) EXPECT_TRUE(pattern.Matches(group)) << c.pattern << " ~ " << group;
    for (const char* group : c.rejects) EXPECT_FALSE(pattern.Matches(group)) << c.pattern << " !~ " << group;
  }
}

TEST(GroupPatternMatching, StarsNeverCrossDotsButDoubleStarsDo) {  // ROLE-011
  GroupPattern single = MustCompile("a*b");
  EXPECT_TRUE(single.Matches("ab"));
  EXPECT_TRUE(single.Matches("axxb"));
  EXPECT_FALSE(single.Matches("ax.xb"));
  GroupPattern dbl = MustCompile("a**b");
  EXPECT_TRUE(dbl.Matches("ab"));
  EXPECT_TRUE(dbl.Matches("ax.x.b"));
  EXPECT_FALSE(dbl.Matches("ax.x.bc"));
  // A run of three stars is one '**' (EMU:PatternTokenizer.cs).
  GroupPattern triple = MustCompile("a***b");
  EXPECT_TRUE(triple.Matches("a.b"));
  // '?' is exactly one non-'.' character, counted in code points.
  GroupPattern question = MustCompile("x?y");
  EXPECT_TRUE(question.Matches("x\xC3\xA9y"));
  EXPECT_FALSE(question.Matches("xy"));
  EXPECT_FALSE(question.Matches("x.y"));
  EXPECT_FALSE(question.Matches("xaay"));
}

TEST(GroupPatternMatching, NeedsBacktrackingAcrossSeveralWildcards) {  // ROLE-011
  GroupPattern pattern = MustCompile("*a*.**.b?");
  EXPECT_TRUE(pattern.Matches("xaxa.q.r.bz"));
  EXPECT_TRUE(pattern.Matches("a..bz"));
  EXPECT_FALSE(pattern.Matches("xaxa.q.r.b"));
  EXPECT_FALSE(pattern.Matches("xx.q.bz"));
  GroupPattern repeated = MustCompile("*ab*ab*");
  EXPECT_TRUE(repeated.Matches("aabaab"));
  EXPECT_TRUE(repeated.Matches("abab"));
  EXPECT_FALSE(repeated.Matches("aba"));
}

TEST(GroupPatternMatching, IsCaseSensitive) {  // ROLE-012
  GroupPattern pattern = MustCompile("Room.*");
  EXPECT_TRUE(pattern.Matches("Room.1"));
  EXPECT_FALSE(pattern.Matches("room.1"));
}

TEST(GroupPatternMatching, StaysFastOnAdversarialInput) {  // ROLE-011
  // Five stars over a 1024-character group that almost matches: a backtracking matcher would
  // explore ~n^5 splits; the NFA does n x m steps.
  GroupPattern pattern = MustCompile("*a*a*a*a*ab");
  std::string group(1024, 'a');
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(pattern.Matches(group));
  group.back() = 'b';
  EXPECT_TRUE(pattern.Matches(group));
}

TEST(GroupPatternMatching, HandlesPatternsLongerThanOneStateWord) {  // ROLE-011
  std::string text(200, 'x');
  GroupPattern pattern = MustCompile("?" + text + "*" + text + "?");
  EXPECT_TRUE(pattern.Matches("a" + text + text + "b"));
  EXPECT_TRUE(pattern.Matches("a" + text + "mid" + text + "b"));
  EXPECT_FALSE(pattern.Matches("a" + text + ".mid" + text + "b"));
  EXPECT_FALSE(pattern.Matches("a" + text + text));
}

TEST(GroupPatternSyntax, RejectsInvalidEscapesTooManyStarsAndOverlongPatterns) {  // ROLE-013
  EXPECT_EQ(CompileError(""), "Pattern cannot be null or empty.");
  EXPECT_EQ(CompileError("abc\\"), "Pattern cannot end with a single backslash.");
  EXPECT_EQ(CompileError("ab\\x"), "Invalid escape character at position 2: 'x' can't be escaped.");
  EXPECT_EQ(CompileError("\\."), "Invalid escape character at position 0: '.' can't be escaped.");
  EXPECT_EQ(CompileError("*.*.*.*.**"),
            "Too many '*' in the pattern, exceeding the maximum allowed complexity of 5.");
  EXPECT_EQ(CompileError("**.**.**"),
            "Too many '*' in the pattern, exceeding the maximum allowed complexity of 5.");
  // A run of stars is one '**' however long (ROLE-011), and counts two (ROLE-013).
  EXPECT_EQ(CompileError("******"), "<ok>");
  EXPECT_EQ(CompileError("room.******.x.*"), "<ok>");
  EXPECT_EQ(CompileError("***.***.*"), "<ok>");
  EXPECT_EQ(CompileError(std::string(1025, 'a')),
            "Pattern exceeds maximum length of 1024 characters.");
  EXPECT_EQ(CompileError("*.*.*.*.*"), "<ok>");
  EXPECT_EQ(CompileError("**.**.*"), "<ok>");
  EXPECT_EQ(CompileError(std::string(1024, 'a')), "<ok>");
  // Escaped stars do not count.
  EXPECT_EQ(CompileError("\\*\\*\\*\\*\\*\\**"), "<ok>");
}

TEST(GroupPatternSyntax, PureLiteralsAndDoubleStarAreRecognised) {  // ROLE-014
  GroupPattern literal = MustCompile("room\\*\\?\\\\");
  EXPECT_TRUE(literal.is_literal());
  EXPECT_EQ(literal.literal(), "room*?\\");
  EXPECT_TRUE(literal.Matches("room*?\\"));
  EXPECT_FALSE(literal.Matches("room*?\\x"));
  EXPECT_TRUE(MustCompile("**").matches_everything());
  EXPECT_TRUE(MustCompile("***").matches_everything());
  EXPECT_FALSE(MustCompile("a**").matches_everything());
}

TEST(RoleParsing, NoRolesGrantNothing) {  // ROLE-001
  ConnectionPermissions none = FromRoles({});
  EXPECT_FALSE(none.CanJoinLeave("g"));
  EXPECT_FALSE(none.CanSendTo("g"));
}

TEST(RoleParsing, AllGroupRolesGrantEveryGroupForTheirActionOnly) {  // ROLE-002
  ConnectionPermissions join = FromRoles({"webpubsub.joinLeaveGroup"});
  EXPECT_TRUE(join.CanJoinLeave("any.group"));
  EXPECT_FALSE(join.CanSendTo("any.group"));
  ConnectionPermissions send = FromRoles({"webpubsub.sendToGroup"});
  EXPECT_TRUE(send.CanSendTo("x"));
  EXPECT_FALSE(send.CanJoinLeave("x"));
}

TEST(RoleParsing, LiteralGroupRolesGrantExactlyThatGroup) {  // ROLE-003
  ConnectionPermissions p =
      FromRoles({"webpubsub.joinLeaveGroup.room.1", "webpubsub.sendToGroup.a b"});
  EXPECT_TRUE(p.CanJoinLeave("room.1"));
  EXPECT_FALSE(p.CanJoinLeave("room.2"));
  EXPECT_FALSE(p.CanJoinLeave("Room.1"));
  EXPECT_FALSE(p.CanSendTo("room.1"));
  EXPECT_TRUE(p.CanSendTo("a b"));
  // Literal roles never interpret wildcards.
  ConnectionPermissions star = FromRoles({"webpubsub.sendToGroup.chat-*"});
  EXPECT_TRUE(star.CanSendTo("chat-*"));
  EXPECT_FALSE(star.CanSendTo("chat-1"));
}

TEST(RoleParsing, PatternRolesUseThePluralPrefix) {  // ROLE-004
  ConnectionPermissions p = FromRoles(
      {"webpubsub.sendToGroups.clientA.**", "webpubsub.joinLeaveGroups.public.*"});
  EXPECT_TRUE(p.CanSendTo("clientA.alpha.room1"));
  EXPECT_FALSE(p.CanSendTo("clientB.alpha"));
  EXPECT_TRUE(p.CanJoinLeave("public.lobby"));
  EXPECT_FALSE(p.CanJoinLeave("public.lobby.x"));
  EXPECT_FALSE(p.CanSendTo("public.lobby"));
}

TEST(RoleParsing, InvalidRolesAreIgnoredAndReported) {  // ROLE-005
  std::vector<RoleIssue> issues;
  ConnectionPermissions p = FromRoles(
      {"webpubsub.sendToGroups.a\\b", "webpubsub.sendToGroups.", "webpubsub.sendToGroup.   ",
       "webpubsub.sendToGroups.*.*.*.*.**", "webpubsub.sendToGroupX", "webpubsub.joinLeaveGroups",
       "admin", "webpubsub.joinLeaveGroup.ok"},
      &issues);
  EXPECT_TRUE(p.CanJoinLeave("ok"));
  EXPECT_FALSE(p.CanSendTo("ab"));
  EXPECT_FALSE(p.CanSendTo("anything"));
  ASSERT_EQ(issues.size(), 6u);  // "admin" is an application role: silently ignored
  // Issues come in ordinal role order.
  EXPECT_EQ(issues[0].role, "webpubsub.joinLeaveGroups");
  EXPECT_EQ(issues[0].reason, "Unrecognized role; ignored.");
  EXPECT_EQ(issues[1].role, "webpubsub.sendToGroup.   ");
  EXPECT_EQ(issues[2].role, "webpubsub.sendToGroupX");
  EXPECT_EQ(issues[3].role, "webpubsub.sendToGroups.");
  EXPECT_EQ(issues[3].reason, "Invalid group name pattern: . Pattern cannot be null or empty.");
  EXPECT_EQ(issues[4].role, "webpubsub.sendToGroups.*.*.*.*.**");
  EXPECT_EQ(issues[5].role, "webpubsub.sendToGroups.a\\b");
  EXPECT_EQ(issues[5].reason,
            "Invalid group name pattern: a\\b. Invalid escape character at position 1: 'b' "
            "can't be escaped.");
}

TEST(RoleParsing, PrefixesAreCaseSensitive) {  // ROLE-005
  ConnectionPermissions p = FromRoles({"WebPubSub.sendToGroup", "webpubsub.SendToGroup.g"});
  EXPECT_FALSE(p.CanSendTo("g"));
}

TEST(RoleParsing, LongStarRunRoleIsOneDoubleStarAndAllowsNestedGroups) {  // ROLE-011, ROLE-013
  std::vector<RoleIssue> issues;
  ConnectionPermissions p = FromRoles({"webpubsub.sendToGroups.******"}, &issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_TRUE(p.CanSendTo("room.nested"));
  EXPECT_TRUE(p.CanSendTo("room"));
  EXPECT_FALSE(p.CanJoinLeave("room.nested"));
}

TEST(RoleParsing, DoubleStarPatternGrantsEverything) {  // ROLE-004
  ConnectionPermissions p = FromRoles({"webpubsub.sendToGroups.**"});
  EXPECT_TRUE(p.CanSendTo("a.b.c"));
  EXPECT_TRUE(p.Check(GroupAction::kSendTo, std::nullopt));
}

TEST(RoleParsing, AtMostNinePatternRulesPerActionAreKept) {  // ROLE-006
  std::vector<std::string> roles;
  for (int i = 0; i < 11; ++i) roles.push_back("webpubsub.sendToGroups.p" + std::to_string(i) + ".*");
  roles.push_back("webpubsub.joinLeaveGroups.j.*");
  std::vector<RoleIssue> issues;
  ConnectionPermissions p = ConnectionPermissions::FromRoles(roles, &issues);
  // Ordinal order: p0, p1, p10, p2, ..., p7 fit; p8 and p9 are dropped.
  EXPECT_EQ(p.rules(GroupAction::kSendTo).pattern_count(), 9u);
  EXPECT_EQ(p.rules(GroupAction::kJoinLeave).pattern_count(), 1u);
  EXPECT_TRUE(p.CanSendTo("p10.x"));
  EXPECT_TRUE(p.CanSendTo("p7.x"));
  EXPECT_FALSE(p.CanSendTo("p8.x"));
  EXPECT_FALSE(p.CanSendTo("p9.x"));
  EXPECT_TRUE(p.CanJoinLeave("j.x"));
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].role, "webpubsub.sendToGroups.p8.*");
  EXPECT_EQ(issues[1].reason, "The count of group name patterns exceeds 10. Skipped 'p9.*'.");
}

TEST(RoleParsing, PublishingAndJoiningAreIndependent) {  // ROLE-007
  ConnectionPermissions p = FromRoles({"webpubsub.joinLeaveGroup.g"});
  EXPECT_TRUE(p.CanJoinLeave("g"));
  EXPECT_FALSE(p.CanSendTo("g"));
}

TEST(RestPermissions, GrantWithTargetAllowsExactlyThatGroup) {  // ROLE-020
  ConnectionPermissions p;
  EXPECT_FALSE(p.Check(GroupAction::kSendTo, "g"));
  ASSERT_TRUE(p.Grant(GroupAction::kSendTo, "g").ok());
  EXPECT_TRUE(p.Check(GroupAction::kSendTo, "g"));
  EXPECT_TRUE(p.CanSendTo("g"));
  EXPECT_FALSE(p.CanSendTo("h"));
  EXPECT_FALSE(p.CanJoinLeave("g"));
  EXPECT_FALSE(p.Check(GroupAction::kSendTo, std::nullopt));
}

TEST(RestPermissions, LiteralRevokeOverridesAWildcardOrAllGroupsRole) {  // ROLE-021
  ConnectionPermissions p =
      FromRoles({"webpubsub.sendToGroups.chat-*", "webpubsub.joinLeaveGroup"});
  ASSERT_TRUE(p.Revoke(GroupAction::kSendTo, "chat-1").ok());
  EXPECT_FALSE(p.CanSendTo("chat-1"));
  EXPECT_TRUE(p.CanSendTo("chat-2"));
  ASSERT_TRUE(p.Revoke(GroupAction::kJoinLeave, "x").ok());
  EXPECT_FALSE(p.CanJoinLeave("x"));
  EXPECT_TRUE(p.CanJoinLeave("y"));
  EXPECT_FALSE(p.Check(GroupAction::kJoinLeave, std::nullopt));
  // Granting again restores it.
  ASSERT_TRUE(p.Grant(GroupAction::kSendTo, "chat-1").ok());
  EXPECT_TRUE(p.CanSendTo("chat-1"));
  EXPECT_EQ(p.rules(GroupAction::kSendTo).literal_count(), 0u);
}

TEST(RestPermissions, RevokeOfAGroupNeverGrantedIsANoOp) {  // ROLE-021
  ConnectionPermissions p;
  ASSERT_TRUE(p.Revoke(GroupAction::kSendTo, "g").ok());
  EXPECT_EQ(p.rules(GroupAction::kSendTo).literal_count(), 0u);
  EXPECT_FALSE(p.CanSendTo("g"));
}

TEST(RestPermissions, WithoutTargetApplyToAllGroups) {  // ROLE-022
  ConnectionPermissions p = FromRoles({"webpubsub.sendToGroup.a", "webpubsub.sendToGroups.b.*"});
  ASSERT_TRUE(p.Grant(GroupAction::kSendTo, std::nullopt).ok());
  EXPECT_TRUE(p.CanSendTo("anything"));
  EXPECT_TRUE(p.Check(GroupAction::kSendTo, std::nullopt));
  ASSERT_TRUE(p.Revoke(GroupAction::kSendTo, std::nullopt).ok());
  EXPECT_FALSE(p.CanSendTo("a"));
  EXPECT_FALSE(p.CanSendTo("b.x"));
  EXPECT_FALSE(p.Check(GroupAction::kSendTo, std::nullopt));
}

TEST(RestPermissions, LiteralOverridesAreCappedAt1000) {  // ROLE-023
  ConnectionPermissions p;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(p.Grant(GroupAction::kJoinLeave, "g" + std::to_string(i)).ok());
  }
  Status overflow = p.Grant(GroupAction::kJoinLeave, "one-more");
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().code, "PermissionLimitExceeded");
  EXPECT_FALSE(p.CanJoinLeave("one-more"));
  // Re-granting an existing group and revoking one (which frees a slot) still work.
  EXPECT_TRUE(p.Grant(GroupAction::kJoinLeave, "g5").ok());
  EXPECT_TRUE(p.Revoke(GroupAction::kJoinLeave, "g5").ok());
  EXPECT_TRUE(p.Grant(GroupAction::kJoinLeave, "one-more").ok());
  EXPECT_TRUE(p.CanJoinLeave("one-more"));
}

TEST(GroupRuleSets, AddingAPatternDropsOverridesItMatches) {  // ROLE-021
  GroupRuleSet rules;
  ASSERT_TRUE(rules.Grant("room1").ok());
  ASSERT_TRUE(rules.Grant("other").ok());
  ASSERT_TRUE(rules.GrantPattern(MustCompile("room*")).ok());
  EXPECT_EQ(rules.literal_count(), 1u);
  EXPECT_TRUE(rules.Check("room1"));
  EXPECT_TRUE(rules.Check("roomZ"));
  EXPECT_TRUE(rules.Check("other"));
}

}  // namespace
}  // namespace wpsim::service
