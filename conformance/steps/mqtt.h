// The MQTT family (MQTT 3.1.1 and 5.0 over WebSocket): the subscribe, unsubscribe and publish
// steps and the connack, suback and puback expectations (the MQTT side of connect and disconnect
// is run here too). The client's CONNECT options (MqttOptions) are common types.
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/mqtt.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

struct MqttSubscription {
  std::string topic;
  uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling = 0;
};

struct SubscribeStep {
  ClientRef clients;
  std::vector<MqttSubscription> subscriptions;
  std::optional<uint32_t> subscription_identifier;
  std::vector<MqttUserProperty> user_properties;
};

struct UnsubscribeStep {
  ClientRef clients;
  std::vector<std::string> topics;
  std::vector<MqttUserProperty> user_properties;
};

struct PublishStep {
  ClientRef clients;
  std::string topic;
  std::string payload;  // raw bytes
  std::optional<uint64_t> filler_bytes;
  uint8_t qos = 0;
  bool retain = false;
  MqttPublishProperties properties;
};

struct ConnackExpect {
  ClientRef clients;
  std::optional<uint8_t> reason_code;
  std::optional<bool> session_present;
  std::optional<std::string> assigned_client_id;
  std::vector<MqttUserProperty> user_properties;
};

struct SubackExpect {
  uint32_t step = 0;
  std::vector<uint8_t> reason_codes;
};

struct PubackExpect {  // PUBACK (QoS 1) or PUBREC (QoS 2) reason code
  uint32_t step = 0;
  uint8_t reason_code = 0;
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterMqttFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
