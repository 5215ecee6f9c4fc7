// The websocket family (every WebSocket-based client kind: plain WebSocket, json, reliable, and
// MQTT's transport): the connect, disconnect, kill, ping and send_raw steps and the closed and
// connected expectations. connect and disconnect also carry MQTT CONNECT/DISCONNECT options (run
// through conformance/steps/mqtt.cc).
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/websocket.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

struct ConnectStep {
  ClientRef clients;
  std::optional<std::vector<std::string>> subprotocols;  // override the client's offer
  std::optional<TokenOptions> token;                     // override the client's token
  // MQTT CONNECT overrides
  std::optional<bool> clean_start;
  std::optional<uint32_t> session_expiry_s;
  std::optional<uint16_t> keepalive_s;
  std::optional<bool> auto_ack;   // override the client's (MQTT: answer QoS 1/2 at once)
  std::optional<bool> auto_ping;  // override the client's (MQTT: PINGREQ while idle)
};

struct DisconnectStep {
  ClientRef clients;
  std::optional<uint16_t> code;  // WebSocket close code; default 1000 (nullopt = none sent)
  bool send_code = true;
  std::string reason;
  std::optional<uint8_t> mqtt_reason_code;  // MQTT DISCONNECT reason (5.0); default 0
  std::optional<uint32_t> session_expiry_s;  // 5.0 DISCONNECT property
  std::vector<MqttUserProperty> user_properties;
};

struct KillStep {
  ClientRef clients;  // abrupt transport loss: no close frame, no DISCONNECT
};

struct PingStep {
  ClientRef clients;
};

struct SendRawStep {  // a raw WebSocket frame (plain clients, or malformed JSON requests)
  ClientRef clients;
  bool binary = false;
  std::string bytes;
};

struct ClosedExpect {
  ClientRef clients;
  std::optional<uint16_t> code;           // WebSocket close code
  std::optional<std::string> reason;      // the close reason, exactly
  std::optional<std::string> reason_contains;
  std::optional<uint8_t> mqtt_reason_code;  // server DISCONNECT (5.0) / CONNACK refusal
  std::optional<int> http_status;         // the upgrade was refused with this status
  std::optional<bool> by_service;         // who initiated the close
  TimeWindow window;
};

struct ConnectedExpect {
  ClientRef clients;
  std::optional<NullableString> user_id;
  std::optional<bool> reconnection_token;
  std::optional<std::string> subprotocol;  // the negotiated one ("" = none)
  std::optional<std::string> connection_id;
  TimeWindow window;
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterWebSocketFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
