#include "service/hub.h"

#include "service/service.h"
#include "service/trace.h"

namespace wpsim::service {

Hub::Hub(Service& service, std::string name) : service_(service), name_(std::move(name)) {
  state_.set_groups_per_member_max(service.options().limits.groups_per_connection_max);
  if (service.tracer() != nullptr) {
    state_.on_group_change = [this](const Member& member, std::string_view group, bool joined) {
      TraceObserver* tracer = service_.tracer();
      if (tracer == nullptr) return;
      TraceEvent e;
      e.kind = joined ? TraceKind::kGroupJoin : TraceKind::kGroupLeave;
      e.hub = name_;
      e.connection_id = member.connection_id;
      if (member.user_id) e.user_id = *member.user_id;
      e.group = group;
      tracer->OnTrace(e);
    };
  }
}

Subscriber* Hub::Find(std::string_view connection_id) {
  auto it = connections_.find(connection_id);
  return it == connections_.end() ? nullptr : it->second.get();
}

Subscriber* Hub::Add(std::unique_ptr<Subscriber> subscriber) {
  Subscriber* raw = subscriber.get();
  if (!state_.Add(raw)) return nullptr;
  connections_.emplace(std::string_view(raw->connection_id), std::move(subscriber));
  return raw;
}

void Hub::Remove(Subscriber* subscriber) {
  auto it = connections_.find(subscriber->connection_id);
  if (it == connections_.end() || it->second.get() != subscriber) return;
  state_.Remove(subscriber);
  std::unique_ptr<Subscriber> owned = std::move(it->second);
  connections_.erase(it);
  service_.Bury(std::move(owned));
  if (connections_.empty()) service_.CheckHubLater(*this);
}

size_t Hub::Fanout(const HubState::MemberMap& members, OutboundMessage& message,
                   const FanoutOptions& options) {
  // Receivers are collected first: delivering may end a connection (slow consumer), which
  // edits the maps being iterated.
  std::vector<Subscriber*> nested;
  std::vector<Subscriber*>& receivers = fanout_depth_ == 0 ? fanout_scratch_ : nested;
  receivers.clear();
  ++fanout_depth_;
  for (const auto& [seq, member] : members) {
    auto* c = static_cast<Subscriber*>(member);  // hubs only hold subscribers
    if (c == options.no_echo_sender) continue;
    if (options.excluded != nullptr) {
      bool excluded = false;
      for (const std::string& id : *options.excluded) {
        if (id == c->connection_id) {
          excluded = true;
          break;
        }
      }
      if (excluded) continue;
    }
    if (options.filter != nullptr && !FilterMatches(*options.filter, *c)) continue;
    receivers.push_back(c);
  }
  if (service_.options().HasBug(Bug::kFanoutSkipLast) && !receivers.empty()) receivers.pop_back();
  // A fan-out is bound by memory latency (each receiver's objects are somewhere on the heap):
  // fetch a receiver's first cache lines a few deliveries before it is visited.
  constexpr size_t kPrefetchAhead = 8;
  constexpr size_t kPrefetchLines = 6;
  const size_t n = receivers.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) {
      const char* p = reinterpret_cast<const char*>(receivers[i + kPrefetchAhead]);
      for (size_t line = 0; line < kPrefetchLines; ++line) __builtin_prefetch(p + 64 * line);
    }
    receivers[i]->Deliver(message);
  }
  --fanout_depth_;
  return n;
}

size_t Hub::SendToAll(OutboundMessage& message, const FanoutOptions& options) {
  return Fanout(state_.connections(), message, options);
}

size_t Hub::SendToGroup(std::string_view group, OutboundMessage& message,
                        const FanoutOptions& options) {
  const HubState::MemberMap* members = state_.GroupMembers(group);
  return members == nullptr ? 0 : Fanout(*members, message, options);
}

size_t Hub::SendToUser(std::string_view user_id, OutboundMessage& message,
                       const FanoutOptions& options) {
  const HubState::MemberMap* members = state_.UserConnections(user_id);
  return members == nullptr ? 0 : Fanout(*members, message, options);
}

size_t Hub::SendToConnection(std::string_view connection_id, OutboundMessage& message) {
  Subscriber* c = Find(connection_id);
  if (c == nullptr) return 0;
  c->Deliver(message);
  return 1;
}

}  // namespace wpsim::service
