#include "service/hub_state.h"

#include "base/result.h"

namespace wpsim::service {

bool HubState::Add(Member* member) {
  WPSIM_ASSERT(member != nullptr && member->groups.empty());
  auto [it, inserted] = by_id_.emplace(std::string_view(member->connection_id), member);
  if (!inserted) return false;
  member->connect_seq = next_seq_++;
  by_seq_.emplace(member->connect_seq, member);
  if (member->user_id) users_[*member->user_id].emplace(member->connect_seq, member);
  return true;
}

void HubState::Remove(Member* member) {
  auto it = by_id_.find(member->connection_id);
  if (it == by_id_.end() || it->second != member) return;
  LeaveAll(member);
  by_id_.erase(it);
  by_seq_.erase(member->connect_seq);
  if (member->user_id) {
    auto u = users_.find(*member->user_id);
    if (u != users_.end()) {
      u->second.erase(member->connect_seq);
      if (u->second.empty()) users_.erase(u);
    }
  }
}

Member* HubState::FindConnection(std::string_view connection_id) const {
  auto it = by_id_.find(connection_id);
  return it == by_id_.end() ? nullptr : it->second;
}

bool HubState::Join(Member* member, std::string_view group) {
  if (member->groups.find(group) != member->groups.end()) return false;
  const uint64_t seq = next_seq_++;
  member->groups.emplace(std::string(group), seq);
  auto g = groups_.find(group);
  if (g == groups_.end()) g = groups_.emplace(std::string(group), MemberMap{}).first;
  g->second.emplace(seq, member);
  return true;
}

bool HubState::Leave(Member* member, std::string_view group) {
  auto m = member->groups.find(group);
  if (m == member->groups.end()) return false;
  auto g = groups_.find(group);
  if (g != groups_.end()) {
    g->second.erase(m->second);
    if (g->second.empty()) groups_.erase(g);
  }
  member->groups.erase(m);
  return true;
}

void HubState::LeaveAll(Member* member) {
  while (!member->groups.empty()) {
    std::string group = member->groups.begin()->first;
    Leave(member, group);
  }
}

const HubState::MemberMap* HubState::GroupMembers(std::string_view group) const {
  auto g = groups_.find(group);
  return g == groups_.end() ? nullptr : &g->second;
}

const HubState::MemberMap* HubState::UserConnections(std::string_view user_id) const {
  auto u = users_.find(user_id);
  return u == users_.end() ? nullptr : &u->second;
}

}  // namespace wpsim::service
