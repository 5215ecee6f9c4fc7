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
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/server_connection.h"
#include "protocol/rest/odata_filter.h"
#include "protocol/websocket/session.h"
#include "protocol/websocket/stream_connection.h"
#include "protocol/webpubsub/client_requests.h"
#include "service/hub_state.h"
#include "service/options.h"
#include "service/outbound.h"
#include "service/permissions.h"
#include "service/reliable_outbox.h"
#include "sim/seam.h"

namespace wpsim::service {

class Service;
class Hub;
class Front;
class Upstream;
struct UpstreamContext;

enum class ClientKind : uint8_t { kRaw, kJson, kReliable, kMqtt };
std::string_view ClientKindName(ClientKind kind);

// Anything a hub fans out to: a WebSocket client connection (ClientConnection below) or an
// MQTT session. Hubs own subscribers and know them only through this interface.
class Subscriber : public Member {
 public:
  virtual ~Subscriber() = default;
  virtual ClientKind kind() const = 0;
  // The negotiated subprotocol ("" for raw clients, "mqtt" for MQTT): the OData `protocol`.
  virtual std::string_view subprotocol() const = 0;
  // Queues `message` for this subscriber, in its wire format, without blocking.
  virtual void Deliver(OutboundMessage& message) = 0;
  // Ends the connection (or MQTT session) from the service side (REST close operations).
  virtual void CloseByService(std::string_view reason) = 0;
  ConnectionPermissions& permissions() { return permissions_; }
  const ConnectionPermissions& permissions() const { return permissions_; }

 protected:
  ConnectionPermissions permissions_;
};

// A logical client connection (PROTOCOL.md §4.3): identity, roles, groups, acks and, for the
// reliable protocol, the sequence numbering and replay buffer. Its transport comes and goes.
class ClientConnection : public Subscriber {
 public:
  ClientConnection(Service& service, Hub& hub, ClientKind kind, std::string subprotocol);
  ~ClientConnection() override;

  ClientKind kind() const override { return kind_; }
  std::string_view subprotocol() const override;
  Hub& hub() const { return hub_; }
  bool attached() const { return front_ != nullptr; }

  // JSON clients first get system/disconnected with `reason`; the WebSocket closes with 1000;
  // not recoverable.
  void CloseByService(std::string_view reason) override;
  void Deliver(OutboundMessage& message) override;

  // --- driven by the transport (Front) ---
  void Attach(Front* front);
  void OnConnected();  // sends system/connected
  // Virtual so that the MQTT network connection (service/mqtt_session.h) can ride on a Front.
  virtual void OnMessage(protocol::websocket::Opcode opcode, std::span<const uint8_t> payload);
  // The transport ended. `client_closed` is true for a clean close the client started with
  // 1000 or no status: that ends the logical connection; other ends of a reliable connection
  // start the recovery window.
  virtual void OnTransportClosed(bool client_closed, std::string_view reason);
  // A recovery request presented `token`; attaches `front` and replays, or returns false.
  bool Recover(Front* front, std::string_view token);
  // Reliable connections: the token a recovery must present (derived from the connection id
  // and a nonce, not stored).
  std::string reconnection_token() const;
  // Who this connection is, for event handler requests (upstream.h).
  UpstreamContext MakeUpstreamContext() const;

 private:
  void HandleUserEvent(protocol::webpubsub::EventRequest& event);
  void SendRawUserEvent(protocol::websocket::Opcode opcode, std::span<const uint8_t> payload);
  void HandleRequest(protocol::webpubsub::Request& request);
  void SendAck(std::optional<uint64_t> ack_id);
  void SendAckError(std::optional<uint64_t> ack_id, std::string_view name, std::string message);
  bool IsDuplicate(std::optional<uint64_t> ack_id);
  void Remember(std::optional<uint64_t> ack_id);
  // An unsequenced JSON message (ack, system, pong). `once`: a message sent once per
  // connection (connected), framed on its own so that it does not grow the session's arena.
  void SendControl(const SharedBytes& json, bool once = false);
  void SendSequenced(const protocol::webpubsub::SequencedMessage& message, uint64_t sequence_id);
  void Fail(uint16_t code, std::string_view reason);  // close the transport, end the connection
  void End(std::string_view reason);  // removes this connection from its hub (deferred delete)

  // Checked by upstream callbacks, which may outlive the connection (made on first use).
  const std::shared_ptr<bool>& alive();

  // Idle connections are most of a service's memory (PROTOCOL.md §13 budget: 2 KiB each), so
  // state that only some connections need is allocated on first use.
  Service& service_;
  Hub& hub_;
  ClientKind kind_;
  bool ended_ = false;
  Front* front_ = nullptr;
  // A custom subprotocol a connect handler chose for a raw client ("" otherwise); the standard
  // ones are implied by kind_.
  std::string custom_subprotocol_;
  std::unique_ptr<AckIdCache> acks_;        // once a request carried an ackId
  std::unique_ptr<ReliableOutbox> outbox_;  // reliable: on the first sequenced message
  uint64_t reconnection_nonce_ = 0;         // reliable: 0 until connected
  sim::TimerId recovery_timer_ = 0;
  std::shared_ptr<bool> alive_;
};

// True when `subscriber` passes the REST OData `filter` (identifiers userId, connectionId,
// groups, protocol).
bool FilterMatches(const protocol::rest::ODataFilter& filter, const Subscriber& subscriber);

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

 private:
  size_t Fanout(const HubState::MemberMap& members, OutboundMessage& message,
                const FanoutOptions& options);

  Service& service_;
  std::string name_;
  HubState state_;
  std::vector<Subscriber*> fanout_scratch_;  // reused: no allocation per fan-out
  // Keyed by a view of the owned subscriber's connection_id (see HubState::by_id_).
  std::map<std::string_view, std::unique_ptr<Subscriber>> connections_;
};

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
  // The hub with this name (case-insensitive), created on first use.
  Hub& GetHub(std::string_view name);
  Hub* FindHub(std::string_view name);
  // A fresh connection id (32 lower-case hex digits from the service's random stream).
  std::string NewConnectionId();
  // An unforgeable reconnection token for `connection_id` (HMAC with the primary key).
  std::string ReconnectionToken(std::string_view connection_id, uint64_t nonce);
  // Access log (one line per connection/REST call) when set.
  std::function<void(std::string_view line)> log;

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
};

}  // namespace wpsim::service
