// MqttClient: a simulated MQTT 3.1.1 / 5.0 client over WebSocket (subprotocol "mqtt") on the
// runtime seam, for Web PubSub's /clients/mqtt/hubs/{hub} endpoint (PROTOCOL.md §10).
//
// Public API (what the conformance runner and tests call):
//
//   MqttClient client(runtime, "name", options);   // MqttClientOptions below
//   client.Connect();                  // dial, WebSocket upgrade, CONNECT (options.connect)
//   client.Subscribe("topic1", 1);     // → packet id; SUBACK arrives as an observation
//   client.Subscribe({subscriptions}, properties)
//   client.Unsubscribe({"topic1"});
//   client.Publish({.topic = "topic1", .payload = ..., .qos = 1, .properties = ...});
//   client.Disconnect(ReasonCode::kNormalDisconnection);  // DISCONNECT, then WebSocket close
//   client.Kill();                     // drop the transport: no DISCONNECT (will fires)
//   client.Connect();                  // reconnect; with clean_start = false unacknowledged
//                                      // QoS 1/2 publishes are resent with DUP
//   client.observations(), client.on_observation, client.connected(), client.client_id()
//
// Observations (clients/observation.h; Observation::mqtt carries packet details):
//   kOpened          WebSocket open (101 checked)
//   kHandshakeFailed upgrade refused (http_status) or CONNACK refused (mqtt: reason code)
//   kConnected       CONNACK accepted: connection_id = client id (assigned one if any),
//                    mqtt.session_present, mqtt.properties
//   kGroupMessage    PUBLISH received on a topic: group = topic, payload typed by the 5.0
//                    content type (3.1.1: binary), mqtt.qos/dup/properties
//   kServerMessage   PUBLISH received on $webpubsub/server/messages
//   kAck             PUBACK / PUBREC (error) / PUBCOMP / SUBACK / UNSUBACK: ack_id = packet id,
//                    success = no reason code >= 0x80, label = packet name, mqtt.reason_codes
//   kDisconnected    server DISCONNECT: mqtt.reason_codes[0], text = reason string
//   kPong            PINGRESP
//   kClosed          the transport ended (close_code, text)
//
// Theory of operation. The client keeps its MQTT session state across transports: outgoing
// QoS 1/2 publishes until acknowledged (resent with DUP after reconnecting without clean
// start, [MQTT-4.4.0-1]) and incoming QoS 2 packet ids until PUBREL. It answers incoming
// QoS 1/2 automatically (auto_ack) and pings every keep-alive interval (auto_ping) — both
// can be switched off to test the service's rules. It never reads a clock or a global RNG.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "clients/observation.h"
#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/types.h"
#include "protocol/websocket/stream_connection.h"
#include "sim/seam.h"

namespace wpsim::clients {

struct MqttClientOptions {
  sim::Address service;       // where to dial
  std::string host_header;    // Host header value; default service.ToString()
  std::string hub = "hub";
  std::string access_token;   // ?access_token= unless token_in_header (Authorization: Bearer)
  bool token_in_header = false;
  std::string path;           // overrides "/clients/mqtt/hubs/{hub}" (query is appended)
  std::vector<std::pair<std::string, std::string>> extra_headers;  // on the upgrade request
  std::vector<std::string> subprotocols = {"mqtt"};
  protocol::mqtt::ProtocolVersion version = protocol::mqtt::ProtocolVersion::kV5;
  // CONNECT: client_id, clean_start, keep_alive, properties (session expiry, receive maximum,
  // maximum packet size, ...), will, username, password.
  protocol::mqtt::Connect connect;
  bool auto_ping = true;  // PINGREQ every keep_alive seconds while idle
  bool auto_ack = true;   // PUBACK / PUBREC / PUBCOMP for incoming QoS 1 / 2
  protocol::websocket::SessionOptions session;
  // Opens the transport instead of runtime.Dial when set (e.g. sim::DialTls for wss://).
  std::function<void(const sim::Address&, sim::DialFn)> dial;
  // Keep every observation in observations() (tests read them there). A caller that consumes
  // on_observation as the stream (the conformance runner) turns this off: the client then keeps
  // nothing per message.
  bool record_observations = true;
};

struct MqttPublishOptions {
  std::string topic;
  std::vector<uint8_t> payload;
  uint8_t qos = 0;
  bool retain = false;
  protocol::mqtt::Properties properties;  // content type, message expiry, user properties, ...

  static std::vector<uint8_t> Bytes(std::string_view text) {
    return {text.begin(), text.end()};
  }
};

class MqttClient : public protocol::websocket::ConnectionHandler {
 public:
  MqttClient(sim::Runtime& runtime, std::string name, MqttClientOptions options);
  ~MqttClient() override;

  const std::string& name() const { return name_; }
  MqttClientOptions& options() { return options_; }  // edit between connections

  void Connect();
  // Returns the packet id used. Errors when not connected or the packet cannot be encoded.
  Result<uint16_t> Subscribe(std::string_view topic_filter, uint8_t qos,
                             std::optional<uint32_t> subscription_identifier = std::nullopt);
  Result<uint16_t> Subscribe(std::vector<protocol::mqtt::Subscription> subscriptions,
                             protocol::mqtt::Properties properties = {});
  Result<uint16_t> Unsubscribe(std::vector<std::string> topic_filters);
  // QoS 0 returns packet id 0.
  Result<uint16_t> Publish(const MqttPublishOptions& publish);
  Status Ping();
  Status Disconnect(protocol::mqtt::ReasonCode code =
                        protocol::mqtt::ReasonCode::kNormalDisconnection,
                    protocol::mqtt::Properties properties = {});
  // Drops the transport at once (no DISCONNECT, no closing handshake).
  void Kill();
  // Any packet, encoded for the configured version (tests of the service's checks).
  Status SendPacket(const protocol::mqtt::Packet& packet);
  // Raw bytes in one binary frame (malformed-input tests); text = true sends a text frame.
  Status SendRaw(std::span<const uint8_t> bytes, bool text = false);

  bool open() const { return connection_ && connection_->open(); }
  bool connected() const { return connected_; }
  // The client id in use (the assigned one after CONNACK when the CONNECT had none).
  const std::string& client_id() const { return client_id_; }
  size_t unacknowledged_publishes() const { return outgoing_.size(); }
  const std::vector<Observation>& observations() const { return observations_; }  // see record_observations
  std::function<void(const Observation&)> on_observation;

  // protocol::websocket::ConnectionHandler
  void OnOpen(protocol::websocket::Connection& connection) override;
  void OnMessage(protocol::websocket::Connection& connection, protocol::websocket::Opcode opcode,
                 std::span<const uint8_t> payload) override;
  void OnClosed(protocol::websocket::Connection& connection,
                const protocol::websocket::CloseInfo& info) override;

 private:
  struct Outgoing {
    protocol::mqtt::Publish publish;
    bool released = false;  // QoS 2: PUBREC received, PUBREL sent
  };
  void HandlePacket(protocol::mqtt::Packet& packet);
  void Record(Observation o);
  Observation MqttRecord(Observation::Kind kind, std::string packet);
  uint16_t NextPacketId();
  void ArmPing();
  std::string Target() const;

  sim::Runtime& runtime_;
  std::string name_;
  MqttClientOptions options_;
  sim::Rng rng_;
  std::unique_ptr<protocol::websocket::Connection> connection_;
  std::vector<std::unique_ptr<protocol::websocket::Connection>> dead_;
  std::unique_ptr<protocol::mqtt::Decoder> decoder_;
  protocol::mqtt::Packet packet_;
  std::vector<uint8_t> scratch_;
  std::vector<Observation> observations_;
  std::string client_id_;
  bool connected_ = false;
  uint16_t next_packet_id_ = 1;
  std::map<uint16_t, Outgoing> outgoing_;  // by packet id (session state)
  std::vector<uint16_t> outgoing_order_;   // send order, for resending
  std::set<uint16_t> incoming_qos2_;
  sim::TimerId ping_timer_ = 0;
  sim::Nanos last_sent_ = 0;
  uint64_t dial_generation_ = 0;
  bool closing_ = false;  // Disconnect() started the close of the current transport
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wpsim::clients
