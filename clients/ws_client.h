// WsClient: a simulated Web PubSub WebSocket client — raw (no subprotocol),
// json.webpubsub.azure.v1 or json.reliable.webpubsub.azure.v1 — on the runtime seam.
//
// Theory of operation. Connect() dials the service, performs the opening handshake through
// protocol::websocket::Connection and records what arrives as Observations. Requests are
// encoded exactly as @azure/web-pubsub-client 1.1.0 sends them (sendToGroup always has noEcho,
// event always has dataType). A reliable client behaves like the SDK (PROTOCOL.md §8): it
// remembers the largest sequenceId seen and drops every data message at or below it (recorded
// as kReplayDropped, not delivered), acks cumulatively every `sequence_ack_interval` when a
// sequenced message arrived since the last ack (replays included), or at once when a message's
// sequenceId is more than 300 above the largest seen (the SDK's quickSequenceAckDiff), and after
// an unexpected drop (a close or Kill) dials the recovery (awps_connection_id +
// awps_reconnection_token) at once, then every `recovery_retry_interval` after a failed attempt
// for up to `recovery_budget`; a 1008 close ends recovery. Kill() drops the transport without a closing
// handshake (an abrupt network loss).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clients/observation.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/webpubsub/service_messages.h"
#include "protocol/websocket/stream_connection.h"
#include "sim/seam.h"

namespace wpsim::clients {

// @azure/web-pubsub-client's quickSequenceAckDiff: a sequenceId this far above the largest seen
// is acked at once.
inline constexpr uint64_t kQuickSequenceAckDiff = 300;

// kProtobuf / kReliableProtobuf speak the protobuf subprotocols (PROTOCOL.md §7): the same
// requests and observations as the JSON kinds, in binary DownstreamMessage/UpstreamMessage
// frames (invocations have no protobuf form: Invoke/CancelInvocation fail on them).
enum class WsClientKind { kRaw, kJson, kReliable, kProtobuf, kReliableProtobuf };

struct WsClientOptions {
  WsClientKind kind = WsClientKind::kJson;
  sim::Address service;  // where to dial
  std::string host_header;  // Host header value; default service.ToString()
  std::string hub = "hub";
  std::string access_token;   // put in the query unless token_in_header
  bool token_in_header = false;
  std::optional<std::vector<std::string>> subprotocols;  // override the offer
  std::string extra_query;  // appended to the query ("a=b&c=d")
  // Extra headers on every upgrade request, recoveries included (an app's own headers, which
  // the service forwards to the connect event handler).
  std::vector<std::pair<std::string, std::string>> extra_headers;
  bool auto_sequence_ack = true;
  // The largest sequenceId the connection already delivered: a client object that continues a
  // connection (a recovery) starts from it, as the SDK keeps its sequence id across recoveries.
  uint64_t initial_sequence_id = 0;
  sim::Nanos sequence_ack_interval = sim::kSecond;
  bool auto_recover = true;
  sim::Nanos recovery_retry_interval = sim::kSecond;
  sim::Nanos recovery_budget = 30 * sim::kSecond;
  protocol::websocket::SessionOptions session;
  // Opens the transport instead of runtime.Dial when set (e.g. sim::DialTls for wss://).
  std::function<void(const sim::Address&, sim::DialFn)> dial;
  // Keep every observation in observations() (tests read them there). A caller that consumes
  // on_observation as the stream (the conformance runner) turns this off: the client then keeps
  // nothing per message.
  bool record_observations = true;
};

class WsClient : public protocol::websocket::ConnectionHandler {
 public:
  WsClient(sim::Runtime& runtime, std::string name, WsClientOptions options);
  ~WsClient() override;

  const std::string& name() const { return name_; }
  void Connect();
  // Closing handshake with `code` (1000 by default; the JS SDK's stop() sends none: 1005).
  void Close(uint16_t code = protocol::websocket::close_code::kNormal, std::string reason = {});
  // Drops the transport at once (no closing handshake). A reliable client then recovers.
  void Kill();

  Status JoinGroup(std::string_view group, std::optional<uint64_t> ack_id);
  Status LeaveGroup(std::string_view group, std::optional<uint64_t> ack_id);
  // The payload's metadata and `ttl_seconds` travel as the request's metadata / ttlSeconds.
  Status SendToGroup(std::string_view group, const protocol::webpubsub::Payload& payload,
                     std::optional<uint64_t> ack_id, bool no_echo,
                     std::optional<uint32_t> ttl_seconds = std::nullopt);
  Status SendEvent(std::string_view event, const protocol::webpubsub::Payload& payload,
                   std::optional<uint64_t> ack_id);
  Status SequenceAck(uint64_t sequence_id);
  Status Ping();
  // Client SDK 1.1 requests (PROTOCOL.md §9.1, §9.2), encoded like the SDK's.
  Status Invoke(const protocol::webpubsub::InvokeRequest& request);
  Status CancelInvocation(std::string_view invocation_id);
  Status StreamStart(const protocol::webpubsub::StreamStartRequest& request);
  Status StreamData(const protocol::webpubsub::StreamDataRequest& request);
  Status StreamEnd(const protocol::webpubsub::StreamEndRequest& request);
  // Any text / binary frame (raw clients, malformed-input tests).
  Status SendRawText(std::string_view text);
  Status SendRawBinary(std::span<const uint8_t> bytes);
  // The next auto-generated ackId (1, 2, 3, ... like the SDK).
  uint64_t NextAckId() { return next_ack_id_++; }

  bool open() const { return connection_ && connection_->open(); }
  const std::string& connection_id() const { return connection_id_; }
  // The largest sequenceId delivered (what a recovery continues from: initial_sequence_id).
  uint64_t max_sequence_id() const { return max_sequence_id_; }
  const std::vector<Observation>& observations() const { return observations_; }  // see record_observations
  // Called after each observation is recorded (the runner's hook).
  std::function<void(const Observation&)> on_observation;

  // protocol::websocket::ConnectionHandler
  void OnOpen(protocol::websocket::Connection& connection) override;
  void OnMessage(protocol::websocket::Connection& connection, protocol::websocket::Opcode opcode,
                 std::span<const uint8_t> payload) override;
  void OnClosed(protocol::websocket::Connection& connection,
                const protocol::websocket::CloseInfo& info) override;

 private:
  void Dial(bool recovering);
  std::string Target(bool recovering) const;
  Status SendJson(const SharedBytes& json);
  // Encodes `request` in this client's subprotocol (JSON text or protobuf binary) and sends it.
  Status SendRequest(const protocol::webpubsub::Request& request);
  bool reliable() const {
    return options_.kind == WsClientKind::kReliable ||
           options_.kind == WsClientKind::kReliableProtobuf;
  }
  bool protobuf() const {
    return options_.kind == WsClientKind::kProtobuf ||
           options_.kind == WsClientKind::kReliableProtobuf;
  }
  void HandleDecoded(protocol::webpubsub::ServiceMessage& message);
  void Record(Observation o);
  void ArmSequenceAck();
  void TryRecover();
  void RecoverNow();
  void HandleServiceMessage(std::string_view text);
  bool CheckTransportSequence(uint64_t sequence_id);
  bool AcceptSequence(uint64_t sequence_id, Observation& o);

  sim::Runtime& runtime_;
  std::string name_;
  WsClientOptions options_;
  sim::Rng rng_;
  std::unique_ptr<protocol::websocket::Connection> connection_;
  std::vector<std::unique_ptr<protocol::websocket::Connection>> dead_;
  std::vector<Observation> observations_;
  uint64_t next_ack_id_ = 1;
  std::string connection_id_;
  std::string reconnection_token_;
  uint64_t max_sequence_id_ = 0;
  bool sequence_updated_ = false;  // a sequenced message arrived since the last sequenceAck
  uint64_t last_transport_sequence_id_ = 0;  // largest sequence id on the current transport
  sim::TimerId sequence_ack_timer_ = 0;
  sim::TimerId recovery_timer_ = 0;
  sim::Nanos recovery_started_ = 0;
  bool recovering_ = false;
  bool stopping_ = false;
  uint64_t dial_generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wpsim::clients
