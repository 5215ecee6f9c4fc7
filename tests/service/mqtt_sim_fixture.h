// The MQTT service simulation fixture: the reference service, MqttClient, WsClient and
// RestClient on a SimNetwork, with MQTT helpers. The tests are split by topic:
// mqtt_connect_test.cc (the seed 000 quickstarts, upgrade and CONNECT validation, keep-alive),
// mqtt_session_test.cc (sessions and QoS flows), mqtt_will_test.cc, mqtt_permissions_test.cc
// (unsupported features, permissions, REST) and mqtt_properties_test.cc (5.0 properties, expiry,
// determinism). docs/mqtt-conformance.md ("Service level") maps the normative statements and
// PROTOCOL.md §10 rules to them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/app_server.h"
#include "clients/mqtt_client.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_fixture.h"

namespace wpsim::service::testing {

using clients::MqttClient;
using clients::MqttClientOptions;
using clients::MqttPublishOptions;
using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;
namespace mqtt = protocol::mqtt;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

inline const std::vector<std::string> kPubSubRoles = {"webpubsub.sendToGroup",
                                                      "webpubsub.joinLeaveGroup"};

class MqttSim : public ServiceSimTest {
 protected:
  void SetUp() override {
    ServiceSimTest::SetUp();
    StartService();
  }

  std::string Token(std::optional<std::string> user, std::vector<std::string> roles,
                    auth::ClientType type = auth::ClientType::kMqtt) {
    return ServiceSimTest::Token(std::move(user), std::move(roles), {}, 3600, type);
  }

  MqttClient& Mqtt(std::string client_id, ProtocolVersion version = ProtocolVersion::kV5,
                   std::vector<std::string> roles = kPubSubRoles) {
    MqttClientOptions o;
    o.access_token = Token(client_id, std::move(roles));
    o.version = version;
    o.connect.client_id = client_id;
    o.connect.clean_start = true;
    o.connect.keep_alive = 60;
    if (version == ProtocolVersion::kV5) o.connect.properties.session_expiry_interval = 30;
    return AddMqtt(client_id, std::move(o));
  }

  WsClient& Json(std::string name, std::vector<std::string> roles = kPubSubRoles,
                 WsClientKind kind = WsClientKind::kJson) {
    std::string token = Token(name, std::move(roles), auth::ClientType::kDefault);
    return Client(std::move(name), kind, std::move(token));
  }

  static const Observation* Last(const MqttClient& c, Observation::Kind kind,
                                 std::string_view label = {}) {
    auto all = Of(c, kind, label);
    return all.empty() ? nullptr : all.back();
  }
  static ReasonCode Code(const Observation* o, size_t i = 0) { return o->mqtt->reason_codes.at(i); }
  static MqttPublishOptions Pub(std::string topic, std::string_view text, uint8_t qos = 1) {
    MqttPublishOptions p;
    p.topic = std::move(topic);
    p.payload = MqttPublishOptions::Bytes(text);
    p.qos = qos;
    return p;
  }
  // Connects and waits for CONNACK.
  void Up(MqttClient& c) {
    c.Connect();
    Run();
  }
  Hub& TheHub() { return service_->GetHub("hub"); }
};

}  // namespace wpsim::service::testing
