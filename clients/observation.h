// Observation: what a simulated client saw, with the runtime time it saw it. Clients hand each
// one to their on_observation hook as it happens (the conformance runner's observation stream,
// conformance/driver.h) and, unless told not to (record_observations), also keep it for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/mqtt/types.h"
#include "protocol/websocket/stream_connection.h"
#include "protocol/webpubsub/payload.h"
#include "sim/seam.h"

namespace wpsim::clients {

// MQTT details of an observation made by clients::MqttClient (clients/mqtt_client.h).
struct MqttObservation {
  std::string packet;      // "connack", "publish", "puback", "pubrec", "pubcomp", "suback",
                           // "unsuback", "disconnect", "pingresp"
  std::string topic;       // publish
  uint8_t qos = 0;         // publish
  bool dup = false;        // publish
  bool retain = false;     // publish
  uint16_t packet_id = 0;  // publish and acknowledgements
  bool session_present = false;                          // connack
  std::vector<protocol::mqtt::ReasonCode> reason_codes;  // connack/acks/suback/disconnect
  protocol::mqtt::Properties properties;                 // 5.0 properties of the packet
};

struct Observation {
  enum class Kind {
    kOpened,           // WebSocket open (101 checked): subprotocol = the server's choice
    kHandshakeFailed,  // upgrade refused: http_status
    kConnected,        // system/connected: connection_id, user_id, reconnection_token
    kDisconnected,     // system/disconnected: text = message
    kGroupMessage,     // group, from_user_id, payload, sequence_id
    kServerMessage,    // payload, sequence_id
    kAck,              // ack_id, success, error_name, text = error message
    kPong,
    kRawMessage,       // raw client: payload (text or binary)
    kClosed,           // close_code, text = reason, by_peer = the service started the close
    kRecovered,        // a reliable client reattached to its connection
    kSequenceRepeated, // the service sent sequence_id again on the SAME transport (a protocol
                       // violation; replays after a recovery are on a new transport)
    kReplayDropped,    // a reliable client dropped a data message whose sequence_id it had
                       // already seen (a recovery's replay), as the SDK does: group (empty for a
                       // server message), from_user_id, payload, sequence_id
    kHttpResponse,     // REST client: http_status, text = body, label = request label
    // Client SDK 1.1 answers (PROTOCOL.md §9.1, §9.2); error_name and text = the error's name
    // and message when there is one.
    kInvokeResponse,   // invocation_id, success, payload (success with data), error
    kStreamAck,        // stream_id, expected_sequence_id
    kStreamNack,       // stream_id, error_name (the nack's name), text, expected_sequence_id
    kStreamClosed,     // stream_id, success = no error, error
  };
  Kind kind = Kind::kOpened;
  sim::Nanos time = 0;
  std::string group;
  std::optional<std::string> from_user_id;
  protocol::webpubsub::Payload payload;
  std::optional<uint64_t> sequence_id;
  uint64_t ack_id = 0;
  bool success = false;
  std::string error_name;
  std::string text;
  uint16_t close_code = 0;
  int http_status = 0;
  std::string connection_id;
  std::optional<std::string> user_id;
  std::string reconnection_token;
  std::string label;
  std::optional<MqttObservation> mqtt;  // set by MqttClient
  std::string subprotocol;              // kOpened
  bool by_peer = false;                 // kClosed
  std::string invocation_id;            // kInvokeResponse
  // Group streams: the stream answers, and a kGroupMessage (or kReplayDropped) that belongs to a
  // stream (its `stream` member; its error's name and message in error_name and text).
  std::string stream_id;
  std::optional<uint64_t> stream_sequence_id;  // group message
  bool end_of_stream = false;                  // group message
  std::string user_error_code;                 // group message: the publisher's error code
  uint64_t expected_sequence_id = 0;           // kStreamAck, kStreamNack
};

// Whether the service (the peer) started the close: it sent the Close frame first or dropped the
// transport while this client was not closing. A close this client started, a protocol error it
// detected or a timeout of its own is not.
inline bool ClosedByPeer(const protocol::websocket::CloseInfo& info, bool closing_locally) {
  using protocol::websocket::CloseCause;
  if (info.cause == CloseCause::kPeerClosed) return true;
  return info.cause == CloseCause::kTransportEnded && !closing_locally;
}

// What a client observes when its WebSocket ends: a failed upgrade (with the HTTP status) or a
// close (code, who started it), with the reason text.
inline Observation CloseObservation(const protocol::websocket::CloseInfo& info, bool closing_locally) {
  Observation o;
  if (info.handshake_failed) {
    o.kind = Observation::Kind::kHandshakeFailed;
    o.http_status = info.http_status;
  } else {
    o.kind = Observation::Kind::kClosed;
    o.close_code = info.code;
    o.by_peer = ClosedByPeer(info, closing_locally);
  }
  o.text = info.reason;
  return o;
}

std::string_view ObservationKindName(Observation::Kind kind);

}  // namespace wpsim::clients
