#include "service/hub_state.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wpsim::service {
namespace {

std::vector<std::string> Ids(const HubState::MemberMap* members) {
  std::vector<std::string> ids;
  if (members == nullptr) return ids;
  for (const auto& [seq, m] : *members) ids.push_back(m->connection_id);
  return ids;
}

Member MakeMember(std::string id, std::optional<std::string> user = std::nullopt) {
  Member m;
  m.connection_id = std::move(id);
  m.user_id = std::move(user);
  return m;
}

TEST(HubState, FansOutToAGroupInJoinOrderNotIdOrder) {
  HubState hub;
  Member c = MakeMember("c"), a = MakeMember("a"), b = MakeMember("b");
  ASSERT_TRUE(hub.Add(&c));
  ASSERT_TRUE(hub.Add(&a));
  ASSERT_TRUE(hub.Add(&b));
  EXPECT_TRUE(hub.Join(&b, "g"));
  EXPECT_TRUE(hub.Join(&c, "g"));
  EXPECT_TRUE(hub.Join(&a, "g"));
  EXPECT_EQ(Ids(hub.GroupMembers("g")), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(Ids(&hub.connections()), (std::vector<std::string>{"c", "a", "b"}));
}

TEST(HubState, JoiningTwiceKeepsTheFirstPositionAndLeavingEmptiesTheGroup) {
  HubState hub;
  Member a = MakeMember("a"), b = MakeMember("b");
  ASSERT_TRUE(hub.Add(&a));
  ASSERT_TRUE(hub.Add(&b));
  EXPECT_TRUE(hub.Join(&a, "g"));
  EXPECT_TRUE(hub.Join(&b, "g"));
  EXPECT_FALSE(hub.Join(&a, "g"));
  EXPECT_EQ(Ids(hub.GroupMembers("g")), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(hub.Leave(&a, "g"));
  EXPECT_FALSE(hub.Leave(&a, "g"));
  EXPECT_TRUE(hub.Leave(&b, "g"));
  EXPECT_FALSE(hub.GroupExists("g"));
}

TEST(HubState, GroupNamesAreCaseSensitive) {
  HubState hub;
  Member a = MakeMember("a");
  ASSERT_TRUE(hub.Add(&a));
  hub.Join(&a, "Room");
  EXPECT_TRUE(hub.GroupExists("Room"));
  EXPECT_FALSE(hub.GroupExists("room"));
}

TEST(HubState, UserExistsWhileItHasAtLeastOneConnection) {
  HubState hub;
  Member a1 = MakeMember("a1", "alice"), a2 = MakeMember("a2", "alice"), anon = MakeMember("x");
  ASSERT_TRUE(hub.Add(&a1));
  ASSERT_TRUE(hub.Add(&a2));
  ASSERT_TRUE(hub.Add(&anon));
  EXPECT_EQ(Ids(hub.UserConnections("alice")), (std::vector<std::string>{"a1", "a2"}));
  hub.Remove(&a1);
  EXPECT_TRUE(hub.UserExists("alice"));
  hub.Remove(&a2);
  EXPECT_FALSE(hub.UserExists("alice"));
  EXPECT_EQ(hub.connection_count(), 1u);
}

TEST(HubState, RemovingAMemberTakesItOutOfEveryGroup) {
  HubState hub;
  Member a = MakeMember("a"), b = MakeMember("b");
  ASSERT_TRUE(hub.Add(&a));
  ASSERT_TRUE(hub.Add(&b));
  hub.Join(&a, "g1");
  hub.Join(&a, "g2");
  hub.Join(&b, "g2");
  hub.Remove(&a);
  EXPECT_FALSE(hub.GroupExists("g1"));
  EXPECT_EQ(Ids(hub.GroupMembers("g2")), (std::vector<std::string>{"b"}));
  EXPECT_EQ(hub.FindConnection("a"), nullptr);
  EXPECT_TRUE(a.groups.empty());
}

TEST(HubState, RejectsADuplicateConnectionId) {
  HubState hub;
  Member a = MakeMember("same"), b = MakeMember("same");
  EXPECT_TRUE(hub.Add(&a));
  EXPECT_FALSE(hub.Add(&b));
  EXPECT_EQ(hub.FindConnection("same"), &a);
}

}  // namespace
}  // namespace wpsim::service
