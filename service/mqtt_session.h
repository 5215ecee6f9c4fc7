// MQTT 3.1.1 / 5.0 in the reference service (PROTOCOL.md §10): the network connection
// (MqttConnection) and the session it serves (MqttSession).
//
// Theory of operation. An upgrade to /clients/mqtt/hubs/{hub} with subprotocol "mqtt" and a
// valid token (client_endpoint.cc) makes an MqttConnection on the Front. It decodes packets
// from binary WebSocket frames (a text frame closes it, [MQTT-6.0.0-1]); a PUBACK, PUBREC,
// PUBREL or PUBCOMP without properties is read in place by the decoder's fast path
// (Decoder::DecodeSimpleAck) and handled exactly like its decoded form (HandleAck). States:
//
//   kAwaitConnect  only CONNECT is accepted (the decoder enforces it). CONNECT is validated
//                  (client id, keep-alive, will, authentication method); a refusal sends
//                  CONNACK with the reason (3.1.1: mapped return code; none → plain close).
//                  Acceptance finds or creates the MqttSession named by the client id (the
//                  client id IS the connection id), takes it over from an older connection
//                  (5.0 DISCONNECT 0x8E to the old one), sends CONNACK, then redelivers.
//   kConnected     PUBLISH/SUBSCRIBE/... are served; keep-alive is enforced (no packet for
//                  1.5 × Keep Alive → 5.0 DISCONNECT 0x8D, then close).
//   kClosed        the WebSocket is closing or gone; nothing more is read or sent.
//
// The session is the hub member (a Subscriber): it outlives its connections for the session
// expiry interval (5.0; clamped to 30 s) or 30 s (3.1.1 Clean Session = 0), holding its
// subscriptions (= group memberships), QoS 1/2 messages in flight (redelivered with DUP on the
// next connection) and QoS 1/2 messages queued while offline or while the client's Receive
// Maximum is exhausted. Rules it must not break: at most receive_maximum unacknowledged QoS>0
// PUBLISH packets out ([MQTT-3.3.4-9]); packet ids of in-flight messages are unique; a packet
// larger than the client's Maximum Packet Size is never sent ([MQTT-3.1.2-24]); redelivery
// keeps the original order ([MQTT-4.6.0-1]); every queue is bounded (MqttLimits).
//
// Topic ↔ group (§10.3): SUBSCRIBE t = join group t (needs joinLeave permission), PUBLISH t =
// sendToGroup t (needs sendToGroup permission). Web PubSub messages reach MQTT subscribers
// with QoS min(1, granted); REST sendToAll/User/Connection arrive on
// $webpubsub/server/messages at QoS 1. Wire encodings are made once per message and version
// (OutboundMessage::MqttTemplate) and patched per receiver.
//
// Upstream hook: PUBLISH to $webpubsub/server/events/{event} (§12.8) has no event handler in
// this build; the service answers on .../{event}/failed (see HandleUpstreamEvent).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/auth/jwt.h"
#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/types.h"
#include "protocol/websocket/handshake.h"
#include "service/client_connection.h"
#include "service/mqtt_ring.h"
#include "service/service.h"

namespace wpsim::service {

inline constexpr std::string_view kMqttSubprotocol = "mqtt";
inline constexpr std::string_view kMqttServerMessagesTopic = "$webpubsub/server/messages";
inline constexpr std::string_view kMqttServerEventsPrefix = "$webpubsub/server/events/";

// Every MQTT bound in one place (PROTOCOL.md §10.1, §13).
struct MqttLimits {
  uint16_t server_receive_maximum = 100;      // inbound QoS>0 publishes in flight (CONNACK)
  uint32_t max_packet_size = 1024 * 1024;     // inbound; the 1 MB client message limit
  size_t queued_messages_max = 1000;          // per session, QoS>0 waiting to be sent
  uint32_t session_expiry_max_seconds = 30;   // persistent sessions kept ≤ 30 s
  uint16_t keep_alive_max_seconds_v311 = 180;  // 3.1.1: 1..180
  size_t will_payload_bytes_max = 2000;
  size_t subscriptions_max = 1000;            // per session
};

class MqttSession;
struct UpstreamResult;

// One MQTT network connection: a WebSocket (subprotocol "mqtt") on a Front. It rides on the
// Front as a ClientConnection but never joins a hub; the service keeps it (Service::Keep).
class MqttConnection final : public ClientConnection {
 public:
  MqttConnection(Service& service, Hub& hub, Front* front, const protocol::auth::Claims& claims);
  ~MqttConnection() override;

  // Subscriber (never called by hubs: a connection is not a hub member).
  void Deliver(OutboundMessage& message) override { (void)message; }
  void CloseByService(std::string_view reason) override;

  // From the Front.
  void OnMessage(protocol::websocket::Opcode opcode, std::span<const uint8_t> payload) override;
  void OnTransportClosed(bool client_closed, std::string_view reason) override;

  // --- used by MqttSession ---
  protocol::mqtt::ProtocolVersion version() const { return version_; }
  bool connected() const { return state_ == State::kConnected; }
  // The client's Maximum Packet Size (5.0; unlimited otherwise).
  uint32_t client_max_packet_size() const { return client_max_packet_size_; }
  uint16_t client_receive_maximum() const { return client_receive_maximum_; }
  // A complete WebSocket frame; false when the transport refused it (slow consumer: closed).
  bool SendFrame(const SharedBytes& frame);
  bool SendPacket(const protocol::mqtt::Packet& packet);
  // Queues a copy of a shared PUBLISH frame (its MQTT packet at `mqtt_offset`) with this
  // receiver's flags and packet id and, when set (5.0), the remaining Message Expiry Interval
  // patched in. Nothing is allocated: the copy lands in the WebSocket output arena.
  bool SendPublishCopy(std::span<const uint8_t> frame, size_t mqtt_offset, uint8_t qos,
                       uint16_t packet_id, bool dup, std::optional<uint32_t> expiry_seconds);
  // 5.0: DISCONNECT with `code` first. Then closes the WebSocket (1000) and detaches.
  void Disconnect(protocol::mqtt::ReasonCode code, std::string_view reason);
  // The session is gone (ended or taken over): forget it without touching it.
  void ForgetSession() { session_ = nullptr; }
  uint64_t keep_key() const { return keep_key_; }
  void set_keep_key(uint64_t key) { keep_key_ = key; }
  // The `connect` event body without its "mqtt" part (PROTOCOL.md §12.4, §12.8); set only when
  // the hub has a connect handler. Every CONNECT then waits for the handler's answer.
  void set_connect_body(std::string body) { connect_body_ = std::move(body); }
  // ce-physicalConnectionId: unique per network connection.
  const std::string& physical_id() const { return physical_id_; }

 private:
  enum class State : uint8_t { kAwaitConnect, kAwaitConnectEvent, kConnected, kClosed };
  // What a 2xx answer to `connect` changes (§12.8): userId/groups/roles only for a new session;
  // user properties go into the 5.0 CONNACK.
  struct ConnectAnswer {
    std::optional<std::string> user_id;
    std::optional<std::vector<std::string>> groups;
    std::optional<std::vector<std::string>> roles;
    std::vector<protocol::mqtt::UserProperty> user_properties;
  };

  void HandlePacket(protocol::mqtt::Packet& packet);
  // PUBACK, PUBREC, PUBREL or PUBCOMP while connected (from the decoder's fast path or a
  // fully decoded packet; properties play no part in what the service does with them).
  void HandleAck(const protocol::mqtt::SimpleAck& ack);
  void HandleConnect(protocol::mqtt::Connect& connect);
  void SendConnectEvent(protocol::mqtt::Connect connect, bool assigned);
  void OnConnectEventAnswered(protocol::mqtt::Connect connect, bool assigned,
                              const UpstreamResult& result);
  void ContinueConnect(protocol::mqtt::Connect& connect, bool assigned, const ConnectAnswer& answer);
  void RefuseConnect(protocol::mqtt::ReasonCode code, std::string_view reason);
  void HandlePublish(protocol::mqtt::Publish& publish);
  void HandleSubscribe(const protocol::mqtt::Subscribe& subscribe);
  void HandleUnsubscribe(const protocol::mqtt::Unsubscribe& unsubscribe);
  void HandleDisconnect(const protocol::mqtt::Disconnect& disconnect);
  void HandleUpstreamEvent(const protocol::mqtt::Publish& publish);
  void AckPublish(const protocol::mqtt::Publish& publish, protocol::mqtt::ReasonCode code);
  void ProtocolViolation(protocol::mqtt::ReasonCode code, std::string_view reason);
  void ArmKeepAlive();
  void OnKeepAliveTimer();
  // Ends this network connection: the session (if any) is told whether the will fires.
  void Finish(bool abnormal, std::string_view reason);

  // The fields every delivery reads come first, in one cache line (a fan-out is bound by
  // memory latency), then what a PUBACK reads (session, decoder state between packets); the
  // 1 KB decode target and everything only CONNECT/SUBSCRIBE touch come last.
  Service& service_;
  Hub& hub_;
  Front* front_;
  State state_ = State::kAwaitConnect;
  protocol::mqtt::ProtocolVersion version_ = protocol::mqtt::ProtocolVersion::kUnknown;
  uint16_t client_receive_maximum_ = 65535;
  uint32_t client_max_packet_size_ = protocol::mqtt::kMaxPacketSizeLimit;
  MqttSession* session_ = nullptr;
  sim::Nanos last_packet_at_ = 0;
  protocol::mqtt::Decoder decoder_;
  std::optional<std::string> token_user_id_;
  std::vector<std::string> token_roles_;
  std::vector<std::string> token_groups_;
  uint16_t keep_alive_seconds_ = 0;
  sim::TimerId keep_alive_timer_ = 0;
  uint64_t keep_key_ = 0;
  std::string physical_id_;
  std::string connect_body_;
  // Packets that arrived while the connect handler decided; handled after CONNACK.
  std::deque<protocol::mqtt::Packet> held_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  uint32_t connect_session_expiry_ = 0;  // as requested in CONNECT ([MQTT-3.14.2-2])
  std::vector<uint8_t> scratch_;
  protocol::mqtt::Packet packet_;  // decode target (not used by the ack fast path)
};

// One MQTT session: the hub member whose connection id is the client id.
class MqttSession final : public Subscriber {
 public:
  MqttSession(Service& service, Hub& hub, protocol::mqtt::ProtocolVersion version);
  ~MqttSession() override;

  ClientKind kind() const override { return ClientKind::kMqtt; }
  std::string_view subprotocol() const override { return kMqttSubprotocol; }
  void Deliver(OutboundMessage& message) override;
  // 5.0 DISCONNECT 0x98 (Administrative action) to the connection, then the session ends.
  void CloseByService(std::string_view reason) override;

  struct SubscriptionState {
    uint8_t qos = 1;  // granted maximum QoS (REST-added subscriptions: 1)
    bool no_local = false;
    std::optional<uint32_t> subscription_identifier;
  };

  // --- used by MqttConnection ---
  // Binds `connection`; an older one is disconnected with 0x8E (Session taken over).
  void Attach(MqttConnection* connection, protocol::mqtt::ProtocolVersion version);
  // Redelivers in-flight messages with DUP, then queued ones (after CONNACK).
  void Resume();
  // The connection ended. `abnormal` publishes the will (after its delay); the session then
  // lives for its expiry interval (0: ends now).
  void Detach(MqttConnection* connection, bool abnormal);
  void SetWill(std::optional<protocol::mqtt::Will> will) { will_ = std::move(will); }
  void set_session_expiry_seconds(uint32_t seconds) { session_expiry_seconds_ = seconds; }
  uint32_t session_expiry_seconds() const { return session_expiry_seconds_; }
  // Subscriptions by topic filter (= group name).
  const SubscriptionState* FindSubscription(std::string_view filter) const;
  void SetSubscription(const std::string& filter, const SubscriptionState& state);
  // Returns whether there was one.
  bool EraseSubscription(std::string_view filter);
  size_t subscription_count() const { return subscriptions_.size(); }
  Hub& hub() { return hub_; }
  void OnPuback(uint16_t packet_id);
  // Returns false when the packet id is unknown (5.0 PUBREL 0x92).
  bool OnPubrec(uint16_t packet_id, protocol::mqtt::ReasonCode code);
  void OnPubcomp(uint16_t packet_id);
  // Packet Identifiers of QoS 2 PUBLISH received from the client: PUBREC sent, PUBREL awaited
  // (bounded by the server's Receive Maximum). Session state (MQTT 5.0 §4.1, 3.1.1 §4.1: "QoS 2
  // messages which have been received from the Client, but have not been completely
  // acknowledged"), so a PUBLISH resent with the same identifier after a reconnection is
  // acknowledged, not delivered again (§4.3.3 method A).
  std::set<uint16_t>& inbound_qos2() { return inbound_qos2_; }
  // Publishes the will now (as a group message from this client) if one is pending.
  void PublishWill();
  // Ends the session: a connected client gets DISCONNECT `code` (5.0), a pending will is
  // published, every group is left and the session leaves the hub (deferred delete).
  void End(std::string_view reason,
           protocol::mqtt::ReasonCode code = protocol::mqtt::ReasonCode::kAdministrativeAction);
  protocol::mqtt::ProtocolVersion version() const { return version_; }
  // ce-sessionId of the MQTT system events.
  const std::string& session_id() const { return session_id_; }
  void set_session_id(std::string id) { session_id_ = std::move(id); }
  // The network connection now bound (ce-physicalConnectionId of `disconnected`).
  void set_physical_id(std::string id) { physical_id_ = std::move(id); }
  // How the last network connection ended, for the `disconnected` event (§12.8): who started
  // it and the DISCONNECT packet (code, 5.0 user properties) if there was one.
  void NoteDisconnect(bool by_client, std::optional<protocol::mqtt::Disconnect> packet) {
    disconnect_by_client_ = by_client;
    disconnect_packet_ = std::move(packet);
  }
  size_t inflight_count() const { return inflight_.size(); }
  size_t queued_count() const { return queue_.size(); }

 private:
  // One PUBLISH to this client: a WebSocket frame holding the packet with packet id 0, usually
  // shared by every receiver of the fan-out; each send queues a patched copy.
  struct Outgoing {
    SharedBytes frame;
    uint32_t mqtt_offset = 0;  // first byte of the MQTT packet in `frame`
    uint16_t packet_id = 0;
    uint8_t qos = 1;
    bool released = false;  // QoS 2: PUBREC received, PUBREL sent
    sim::Nanos expires_at = 0;  // 0: never (5.0 message expiry)
  };
  void SendOrQueue(Outgoing outgoing);
  bool SendInflight(Outgoing& outgoing, bool dup);
  void Pump();  // sends queued messages while the client's window allows
  uint16_t NextPacketId();
  void ArmExpiry();
  void ArmWill(sim::Nanos delay);
  void CancelTimers();
  // Keeps the inline copy of a sole subscription in step with subscriptions_.
  void RefreshSoleSubscription();

  // Fields every delivery and every PUBACK read come first, right after the Subscriber part,
  // inside the cache lines Hub::Fanout prefetches (a fan-out is bound by memory latency):
  // flags, the connection, a copy of the subscription when there is exactly one with a short
  // filter and no subscription identifier (Deliver then needs no map lookup, whose node is
  // another cache miss), the send queue's count and the in-flight ring, whose first entry is
  // inline (the steady state of a QoS 1 fan-out is one message in flight per receiver).
  // 88 bytes in all.
  static constexpr size_t kSoleFilterMax = 16;
  protocol::mqtt::ProtocolVersion version_;
  bool ended_ = false;
  // Exactly one subscription, its filter at most kSoleFilterMax chars, no identifier.
  bool has_sole_ = false;
  uint8_t sole_qos_ = 0;
  bool sole_no_local_ = false;
  uint8_t sole_filter_size_ = 0;
  uint16_t next_packet_id_ = 1;
  MqttConnection* connection_ = nullptr;
  char sole_filter_[kSoleFilterMax] = {};
  // Not yet sent; at most MqttLimits::queued_messages_max.
  MqttRing<Outgoing, 0> queue_;
  // Send order; at most the client's Receive Maximum ([MQTT-3.3.4-9]) plus what a previous
  // connection with a larger one left in flight (never more than 65,535: distinct packet ids).
  MqttRing<Outgoing, 1> inflight_;
  Service& service_;
  Hub& hub_;
  std::map<std::string, SubscriptionState, std::less<>> subscriptions_;
  uint32_t session_expiry_seconds_ = 0;
  std::set<uint16_t> inbound_qos2_;
  std::optional<protocol::mqtt::Will> will_;
  sim::TimerId expiry_timer_ = 0;
  sim::TimerId will_timer_ = 0;
  std::vector<uint8_t> scratch_;
  std::string session_id_;
  std::string physical_id_;
  bool disconnect_by_client_ = false;
  std::optional<protocol::mqtt::Disconnect> disconnect_packet_;
};

// client_endpoint.cc: accepts the upgrade (subprotocol "mqtt") and starts the connection.
// `connect_body` is the connect event body (Upstream::ConnectBody) when the hub has a connect
// handler, else empty.
void StartMqttConnection(Service& service, Front& front, uint64_t request_id,
                         const protocol::websocket::UpgradeOffer& offer, Hub& hub,
                         const protocol::auth::Claims& claims, std::string connect_body);

inline constexpr MqttLimits kMqttLimits{};

}  // namespace wpsim::service
