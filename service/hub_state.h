// HubState: who is connected to a hub, which users they are, and which groups they are in.
//
// Theory of operation: a Member is one logical connection (a WebSocket client, or an MQTT
// session). HubState indexes members three ways — by connection id, by user id and by group —
// always in containers with a defined iteration order, so every fan-out visits receivers in the
// same order on every run: sendToAll in connect order, a group in join order, a user's
// connections in connect order. No container is keyed or ordered by pointer values.
//
// HubState never owns members; the service creates a member, Adds it, and Removes it before
// destroying it. All operations are O(log n).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wpsim::service {

struct Member {
  std::string connection_id;
  std::optional<std::string> user_id;
  uint64_t connect_seq = 0;  // assigned by HubState::Add
  // Groups this member is in, with the join sequence number used to order the group.
  std::map<std::string, uint64_t, std::less<>> groups;
};

// Members ordered by sequence number (connect or join order). Sequence numbers only grow, so
// adding appends, and a fan-out walks one contiguous array instead of tree nodes scattered over
// the heap (10,000 members: 160 KiB of consecutive memory). Removal leaves a tombstone (found
// by binary search, O(log n)); tombstones are compacted away once they are the majority, so a
// mass disconnect stays linear. Iteration yields (sequence, member) pairs and skips tombstones.
class MemberList {
 public:
  using value_type = std::pair<uint64_t, Member*>;
  class const_iterator {
   public:
    const_iterator(const value_type* p, const value_type* end) : p_(p), end_(end) { Skip(); }
    const value_type& operator*() const { return *p_; }
    const value_type* operator->() const { return p_; }
    const_iterator& operator++() {
      ++p_;
      Skip();
      return *this;
    }
    bool operator==(const const_iterator& o) const { return p_ == o.p_; }
    bool operator!=(const const_iterator& o) const { return p_ != o.p_; }

   private:
    void Skip() {
      while (p_ != end_ && p_->second == nullptr) ++p_;
    }
    const value_type* p_;
    const value_type* end_;
  };
  const_iterator begin() const { return {items_.data(), items_.data() + items_.size()}; }
  const_iterator end() const {
    return {items_.data() + items_.size(), items_.data() + items_.size()};
  }
  size_t size() const { return items_.size() - dead_; }
  bool empty() const { return size() == 0; }
  // `seq` must be larger than every sequence number added before.
  void Append(uint64_t seq, Member* member);
  // Returns false when `seq` is not in the list.
  bool Erase(uint64_t seq);

 private:
  std::vector<value_type> items_;
  size_t dead_ = 0;  // tombstones (member == nullptr) in items_
};

class HubState {
 public:
  using MemberMap = MemberList;

  // Adds a member with a connection id unique in this hub. Returns false if the id is taken.
  bool Add(Member* member);
  // Removes the member from every index (its groups map is cleared).
  void Remove(Member* member);

  Member* FindConnection(std::string_view connection_id) const;
  // Returns true when the member joined, false when it already was in the group or is in
  // groups_per_member_max groups already (AtGroupLimit: callers that answer a client check it
  // first, to say why).
  bool Join(Member* member, std::string_view group);
  // True when `member` is not in `group` and may not join another group.
  bool AtGroupLimit(const Member* member, std::string_view group) const {
    return groups_per_member_max_ != 0 && member->groups.size() >= groups_per_member_max_ &&
           member->groups.find(group) == member->groups.end();
  }
  // 0: no bound (ConnectionLimits::groups_per_connection_max).
  void set_groups_per_member_max(size_t max) { groups_per_member_max_ = max; }
  // Returns true when the member left, false when it was not in the group.
  bool Leave(Member* member, std::string_view group);
  void LeaveAll(Member* member);

  // Members in connect order.
  const MemberMap& connections() const { return by_seq_; }
  // Members of `group` in join order, or nullptr when the group has no members.
  const MemberMap* GroupMembers(std::string_view group) const;
  // Connections of `user_id` in connect order, or nullptr when the user has none.
  const MemberMap* UserConnections(std::string_view user_id) const;
  bool GroupExists(std::string_view group) const { return GroupMembers(group) != nullptr; }
  bool UserExists(std::string_view user_id) const { return UserConnections(user_id) != nullptr; }
  size_t connection_count() const { return by_seq_.size(); }
  size_t group_count() const { return groups_.size(); }
  // Told of every join and leave after it happened (the live trace, service/trace.h); unset
  // unless tracing.
  std::function<void(const Member& member, std::string_view group, bool joined)> on_group_change;

 private:
  uint64_t next_seq_ = 1;
  size_t groups_per_member_max_ = 0;
  // Keyed by a view of the member's own connection_id (fixed while the member is added): a
  // 32-digit id copied as a key would cost another heap block per connection.
  std::map<std::string_view, Member*> by_id_;
  MemberMap by_seq_;
  std::map<std::string, MemberMap, std::less<>> groups_;
  std::map<std::string, MemberMap, std::less<>> users_;
};

}  // namespace wpsim::service
