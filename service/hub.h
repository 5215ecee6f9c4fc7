// Hub: one hub's subscribers, users and groups (HubState) and the fan-out that delivers a
// message to them. Fan-out visits receivers in HubState order (connect or join order), so the
// order of everything observable is defined by the order of inputs; receivers are collected into
// a reused scratch vector and prefetched, so a fan-out allocates nothing.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/rest/odata_filter.h"
#include "service/hub_state.h"
#include "service/outbound.h"
#include "service/subscriber.h"

namespace wpsim::service {

class Service;

struct FanoutOptions {
  const std::vector<std::string>* excluded = nullptr;  // connection ids
  const Subscriber* no_echo_sender = nullptr;
  const protocol::rest::ODataFilter* filter = nullptr;  // REST `filter` (PROTOCOL.md §11.5)
};
class Hub {
 public:
  Hub(Service& service, std::string name);
  const std::string& name() const { return name_; }
  HubState& state() { return state_; }

  Subscriber* Find(std::string_view connection_id);
  // Adds a subscriber with a unique connection id; nullptr (and nothing added) when taken.
  Subscriber* Add(std::unique_ptr<Subscriber> subscriber);
  // Removes and destroys (deferred) the subscriber.
  void Remove(Subscriber* subscriber);

  // Each returns the number of receivers.
  size_t SendToAll(OutboundMessage& message, const FanoutOptions& options = {});
  size_t SendToGroup(std::string_view group, OutboundMessage& message,
                     const FanoutOptions& options = {});
  size_t SendToUser(std::string_view user_id, OutboundMessage& message,
                    const FanoutOptions& options = {});
  size_t SendToConnection(std::string_view connection_id, OutboundMessage& message);

  // Something that keeps a reference to this hub without being one of its subscribers (an MQTT
  // network connection before its session joins) pins it, so that an empty hub is not
  // reclaimed under it (Service::GetHub reclaims empty, unpinned hubs).
  void Pin() { ++pins_; }
  void Unpin();
  bool Reclaimable() const { return connections_.empty() && pins_ == 0; }

 private:
  size_t Fanout(const HubState::MemberMap& members, OutboundMessage& message,
                const FanoutOptions& options);

  Service& service_;
  std::string name_;
  HubState state_;
  std::vector<Subscriber*> fanout_scratch_;  // reused: no allocation per fan-out
  // Fan-outs in progress: a delivery can start another one (a publisher whose connection ends
  // mid-fan-out closes its group streams), which then collects into its own vector.
  int fanout_depth_ = 0;
  int pins_ = 0;
  // Keyed by a view of the owned subscriber's connection_id (see HubState::by_id_).
  std::map<std::string_view, std::unique_ptr<Subscriber>> connections_;
};
}  // namespace wpsim::service
