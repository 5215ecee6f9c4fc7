// The reference Azure Web PubSub service (PROTOCOL.md §1-§6, §11), on the runtime seam only.
//
// Theory of operation. Service listens (or is handed accepted streams) and gives every TCP
// connection a Front: an HTTP/1.1 server connection that either answers REST calls
// (rest_api.cc) or upgrades a client endpoint request to WebSocket. An upgraded Front carries
// one WebSocket session and is the *transport* of a logical ClientConnection, which lives in
// its Hub. Transport and logical connection are separate because a reliable connection
// outlives its transport: when the socket drops, the ClientConnection detaches and waits
// `recovery_window` for a recovery request (awps_connection_id + awps_reconnection_token)
// to attach a new Front, then replays its un-acked messages.
//
// Output: delivering a message only queues frames in the session's output queue; the
// websocket::Connection adapter writes everything queued in one loop turn with one Write.
// Fan-out visits receivers in HubState order (connect or join order), so the order of
// everything observable is defined by the order of inputs.
//
// Lifetimes: Service owns fronts and hubs; hubs own their logical connections. Objects that
// must die inside one of their own callbacks are moved to a graveyard emptied by a posted task.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/server_connection.h"
#include "protocol/websocket/session.h"
#include "protocol/websocket/stream_connection.h"
#include "service/hub.h"
#include "service/hub_state.h"
#include "service/options.h"
#include "service/outbound.h"
#include "service/subscriber.h"
#include "sim/seam.h"
namespace wpsim::service {

class Front;
class Upstream;
class TraceObserver;

class Service {
 public:
  Service(sim::Runtime& runtime, ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Starts listening; the bound address (with the real port) is listen_address().
  Status Listen(const sim::Address& address);
  std::optional<sim::Address> listen_address() const;
  // Serves an already accepted stream (e.g. one wrapped in TLS by the caller).
  void Accept(std::unique_ptr<sim::Stream> stream);
  // Called with every accepted raw stream; when set, it may wrap it (TLS) and returns the
  // stream the service should speak HTTP on.
  std::function<std::unique_ptr<sim::Stream>(std::unique_ptr<sim::Stream>)> wrap_accepted;

  sim::Runtime& runtime() { return runtime_; }
  const ServiceOptions& options() const { return options_; }
  // Flushes every WebSocket that a fan-out wrote to, once per loop turn.
  protocol::websocket::FlushBatch& flush_batch() { return flush_batch_; }
  // The hub with this name (case-insensitive), created on first use. A hub left without
  // subscribers (and unpinned) is reclaimed by the next cleanup, so state does not grow with
  // every distinct hub name a client or REST call mentions.
  Hub& GetHub(std::string_view name);
  // Asks the next cleanup to reclaim `hub` if it is still empty then.
  void CheckHubLater(const Hub& hub);
  size_t hub_count() const { return hubs_.size(); }
  size_t front_count() const { return fronts_.size(); }
  // Connections refused at accept (ConnectionLimits::connections_max / _per_peer_max).
  uint64_t refused_connections() const { return refused_connections_; }
  // True once the destructor has begun (hubs may already be gone).
  bool stopping() const { return !*alive_; }
  Hub* FindHub(std::string_view name);
  // A fresh connection id (32 lower-case hex digits from the service's random stream).
  std::string NewConnectionId();
  // An unforgeable reconnection token for `connection_id` (HMAC with the primary key).
  std::string ReconnectionToken(std::string_view connection_id, uint64_t nonce);
  // Access log (one line per connection/REST call) when set.
  std::function<void(std::string_view line)> log;
  // The live trace observer (service/trace.h), null unless `wpsim serve --trace-ui`. Hooks test
  // it before building an event, so tracing off costs one pointer test. Set before Listen.
  TraceObserver* tracer() const { return tracer_; }
  void set_tracer(TraceObserver* tracer);

  // --- internal, used by fronts and connections ---
  // Reused buffer for rendering per-connection messages (one thread, never nested).
  std::string& render_scratch() { return render_scratch_; }
  void Bury(std::unique_ptr<Front> front);
  void Bury(std::unique_ptr<Subscriber> subscriber);
  std::unique_ptr<Front> TakeFront(Front* front);
  void Log(std::string_view line) {
    if (log) log(line);
  }
  uint64_t NextNonce() { return rng_.Next(); }
  // The event handler client (created on first use; defined in upstream.cc).
  Upstream& upstream();
  // The front with this id while it is still serving, else nullptr (async upgrade decisions).
  Front* FindFront(uint64_t id) {
    auto it = fronts_.find(id);
    return it == fronts_.end() ? nullptr : it->second.get();
  }
  // Keeps an object that no hub owns (an MQTT network connection, which exists before and
  // between sessions) until Unkeep buries it or the service ends. Returns its key.
  uint64_t Keep(std::unique_ptr<Subscriber> object) {
    kept_.emplace(next_kept_, std::move(object));
    return next_kept_++;
  }
  void Unkeep(uint64_t key) {
    auto it = kept_.find(key);
    if (it == kept_.end()) return;
    Bury(std::move(it->second));
    kept_.erase(it);
  }

 private:
  void ScheduleCleanup();

  sim::Runtime& runtime_;
  ServiceOptions options_;
  sim::Rng rng_;
  protocol::websocket::FlushBatch flush_batch_;  // declared early: outlives every connection
  std::unique_ptr<sim::Listener> listener_;
  uint64_t next_front_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Front>> fronts_;
  std::map<std::string, std::unique_ptr<Hub>, std::less<>> hubs_;
  std::set<std::string, std::less<>> hubs_to_check_;  // reclaimed at cleanup when empty
  // Open fronts per peer host (ConnectionLimits::connections_per_peer_max).
  std::map<std::string, size_t, std::less<>> fronts_per_peer_;
  uint64_t refused_connections_ = 0;
  std::vector<std::unique_ptr<Front>> dead_fronts_;
  std::vector<std::unique_ptr<Subscriber>> dead_connections_;
  bool cleanup_posted_ = false;
  uint64_t next_kept_ = 1;
  std::string render_scratch_;
  std::map<uint64_t, std::unique_ptr<Subscriber>> kept_;  // see Keep()
  // Shared liveness flag checked by posted tasks (the service may die before they run).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // shared_ptr: destructible where Upstream is incomplete (service.cc).
  std::shared_ptr<Upstream> upstream_;
  TraceObserver* tracer_ = nullptr;
};

}  // namespace wpsim::service
