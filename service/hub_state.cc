#include "service/hub_state.h"

#include <algorithm>

#include "base/result.h"

namespace wpsim::service {

void MemberList::Append(uint64_t seq, Member* member) {
  WPSIM_ASSERT(member != nullptr && (items_.empty() || items_.back().first < seq));
  items_.emplace_back(seq, member);
}

bool MemberList::Erase(uint64_t seq) {
  auto it = std::lower_bound(items_.begin(), items_.end(), seq,
                             [](const value_type& v, uint64_t s) { return v.first < s; });
  if (it == items_.end() || it->first != seq || it->second == nullptr) return false;
  it->second = nullptr;
  ++dead_;
  if (dead_ * 2 > items_.size()) {
    std::erase_if(items_, [](const value_type& v) { return v.second == nullptr; });
    dead_ = 0;
  }
  return true;
}

bool HubState::Add(Member* member) {
  WPSIM_ASSERT(member != nullptr && member->groups.empty());
  auto [it, inserted] = by_id_.emplace(std::string_view(member->connection_id), member);
  if (!inserted) return false;
  member->connect_seq = next_seq_++;
  by_seq_.Append(member->connect_seq, member);
  if (member->user_id) users_[*member->user_id].Append(member->connect_seq, member);
  return true;
}

void HubState::Remove(Member* member) {
  auto it = by_id_.find(member->connection_id);
  if (it == by_id_.end() || it->second != member) return;
  LeaveAll(member);
  by_id_.erase(it);
  by_seq_.Erase(member->connect_seq);
  if (member->user_id) {
    auto u = users_.find(*member->user_id);
    if (u != users_.end()) {
      u->second.Erase(member->connect_seq);
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
  if (AtGroupLimit(member, group)) return false;
  const uint64_t seq = next_seq_++;
  member->groups.emplace(std::string(group), seq);
  auto g = groups_.find(group);
  if (g == groups_.end()) g = groups_.emplace(std::string(group), MemberMap{}).first;
  g->second.Append(seq, member);
  if (on_group_change) on_group_change(*member, group, true);
  return true;
}

bool HubState::Leave(Member* member, std::string_view group) {
  auto m = member->groups.find(group);
  if (m == member->groups.end()) return false;
  auto g = groups_.find(group);
  if (g != groups_.end()) {
    g->second.Erase(m->second);
    if (g->second.empty()) groups_.erase(g);
  }
  if (on_group_change) on_group_change(*member, group, false);  // `group` may view m's key
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
