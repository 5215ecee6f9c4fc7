// What the step families share with each other and with the loader's sections, and nothing
// else includes: the WebSocket client a member connects with (websocket.cc; reliable.cc recovers
// with it), the ack fields (json.cc; the ack expectation's shape), MQTT's side of connect and
// disconnect (mqtt.cc; the websocket family's steps call it) and the MQTT client keys and
// CONNACK check (mqtt.cc; the clients section and the connack expectation read them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "clients/observation.h"
#include "clients/ws_client.h"
#include "conformance/driver.h"
#include "conformance/shape/binding.h"

namespace wpsim::conformance {

// ---- websocket ------------------------------------------------------------------------------

// The observation ends the member's transport (closed, or the upgrade failed).
inline bool TransportEnded(const clients::Observation& o) {
  return o.kind == clients::Observation::Kind::kClosed ||
         o.kind == clients::Observation::Kind::kHandshakeFailed;
}

// The WebSocket client options of member m (the connect step's overrides over the client's).
clients::WsClientOptions WsOptions(RunContext& cx, uint32_t m, const ConnectStep* c);
// Makes `client` member m's WebSocket client, keeping the previous one alive (retired).
void Attach(RunContext& cx, uint32_t m, std::unique_ptr<clients::WsClient> client);

// ---- mqtt -----------------------------------------------------------------------------------

// Connects MQTT member m (one client, and so one session state, across connects); done() when
// the CONNACK arrives or the transport ends. The CONNACK is recorded for step `s`.
std::function<bool()> ConnectMqtt(RunContext& cx, uint32_t m, const ConnectStep& c, const Step& s);
// Sends DISCONNECT for member m; appends the wait for the close when it was open.
void DisconnectMqtt(RunContext& cx, uint32_t step, uint32_t m, const DisconnectStep& d,
                    PendingList& out);
inline bool IsConnack(const clients::Observation& o) {
  return o.mqtt && o.mqtt->packet == "connack";
}
// The evaluators of the connack, suback and puback expectations (mqtt_judge.cc).
std::unique_ptr<Evaluator> MakeConnackEvaluator(RunContext& cx, const Expectation& e);
std::unique_ptr<Evaluator> MakeSubackEvaluator(RunContext& cx, const Expectation& e);
std::unique_ptr<Evaluator> MakePubackEvaluator(RunContext& cx, const Expectation& e);

// ---- wire -----------------------------------------------------------------------------------

// The evaluator of a wire expectation (wire_judge.cc).
std::unique_ptr<Evaluator> MakeWireEvaluator(RunContext& cx, const Expectation& e);

namespace shape {

// ---- json -----------------------------------------------------------------------------------

// The fields of an ack check (the ack expectation and expect_ack): success, error, message,
// message_contains.
const Table<AckExpect>& AckFieldsTable();
void ReadAckFields(Context& c, const Map& m, AckExpect& a);

// ---- mqtt -----------------------------------------------------------------------------------

// The MQTT keys of a client definition, and the ones only mqtt5 clients take.
const Table<Client>& MqttClientTable();
const Keys& Mqtt5OnlyClientKeys();
void ReadMqttClientOptions(Context& c, const Map& m, Client& client);

// The will's keys (a client's `will:`), for scenarios/schema.json.
std::vector<FieldDoc> WillDocs();

// keepalive: whole seconds up to 65535.
ValueType<uint16_t> KeepaliveValue();

// CONNACK expectations (the connack expectation and connect's expect_connack).
const Table<ConnackExpect>& ConnackTable();
std::optional<ConnackExpect> ReadConnack(Context& c, const Node& n, const ClientRef& clients);

}  // namespace shape
}  // namespace wpsim::conformance
