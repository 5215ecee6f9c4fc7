// ClientConnection: the logical WebSocket client connection (raw, JSON and reliable JSON
// subprotocols), PROTOCOL.md §4.3, §5, §6. Its transport (a Front, service/front.h) comes and
// goes: a reliable connection outlives its socket for the recovery window. Rules it must not
// break are listed at the top of client_connection.cc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/webpubsub/client_requests.h"
#include "protocol/websocket/session.h"
#include "service/reliable_outbox.h"
#include "service/subscriber.h"
#include "sim/seam.h"

namespace wpsim::service {

class Service;
class Hub;
class Front;
struct UpstreamContext;

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
  // Invocation (PROTOCOL.md §9.2): an `invoke` becomes a user event whose answer is the
  // invokeResponse; cancelInvocation forgets a pending one (its answer is then dropped).
  void HandleInvoke(protocol::webpubsub::InvokeRequest& invoke);
  void HandleCancelInvocation(const protocol::webpubsub::CancelInvocationRequest& cancel);
  // Group streams this connection publishes (PROTOCOL.md §9.1; docs/conformance.md STREAM-*).
  struct GroupStream {
    std::string group;
    uint64_t expected = 1;  // the next streamSequenceId
    sim::Nanos idle_timeout = 0;
    bool no_echo = false;
    sim::TimerId idle_timer = 0;
  };
  using StreamMap = std::map<std::string, GroupStream, std::less<>>;
  void HandleStreamStart(const protocol::webpubsub::StreamStartRequest& start);
  void HandleStreamData(protocol::webpubsub::StreamDataRequest& data);
  void HandleStreamEnd(const protocol::webpubsub::StreamEndRequest& end);
  void ArmStreamIdle(const std::string& stream_id, GroupStream& stream);
  void PublishStream(const GroupStream& stream, std::optional<protocol::webpubsub::Payload> payload,
                     protocol::webpubsub::StreamInfo info);
  // Ends a stream: subscribers get the end-of-stream message (with `error` if set), the
  // publisher streamClosed (with `closed_error` if set) unless `tell_publisher` is false.
  void CloseStream(StreamMap::iterator it,
                   std::optional<protocol::webpubsub::StreamDataError> error,
                   std::optional<protocol::webpubsub::AckError> closed_error,
                   bool tell_publisher = true);
  void SendAck(std::optional<uint64_t> ack_id);
  void SendAckError(std::optional<uint64_t> ack_id, std::string_view name, std::string message);
  bool IsDuplicate(std::optional<uint64_t> ack_id);
  void Remember(std::optional<uint64_t> ack_id);
  // An unsequenced message (ack, system, pong) in this connection's format: a JSON text frame,
  // or a protobuf DownstreamMessage in a binary frame. `once`: a message sent once per
  // connection (connected), framed on its own so that it does not grow the session's arena.
  void SendControl(const SharedBytes& message, bool once = false);
  void SendSequenced(const protocol::webpubsub::SequencedMessage& message, uint64_t sequence_id);
  // The same for protobuf.reliable.webpubsub.azure.v1 (a binary frame).
  void SendSequencedProtobuf(const SharedBytes& body, uint64_t sequence_id);
  // Protobuf kinds: one UpstreamMessage in a binary frame.
  void OnProtobufMessage(protocol::websocket::Opcode opcode, std::span<const uint8_t> payload);
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
  // For two injected bugs (service/options.h): client group sends so far (unordered-fanout
  // delays every other one) and the highest sequence id written to a transport
  // (replay-from-last-sent replays only above it).
  uint64_t sends_ = 0;
  uint64_t written_through_ = 0;
  std::unique_ptr<ReliableOutbox> outbox_;  // reliable: on the first sequenced message
  // Pending invocations: invocationId → the ticket of the upstream call answering it (a
  // cancelled then reused id gets a new ticket, so a stale answer is recognised and dropped).
  std::unique_ptr<std::map<std::string, uint64_t, std::less<>>> invocations_;
  uint64_t next_invocation_ticket_ = 1;
  std::unique_ptr<StreamMap> streams_;      // on the first stream start
  uint64_t reconnection_nonce_ = 0;         // reliable: 0 until connected
  sim::TimerId recovery_timer_ = 0;
  std::shared_ptr<bool> alive_;
};
}  // namespace wpsim::service
