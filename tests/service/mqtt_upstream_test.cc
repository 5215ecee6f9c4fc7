// MQTT system events to the event handler (PROTOCOL.md §12.8), in simulation: connect on every
// CONNECT (blocking, CONNACK from its answer), connected only for a new session, disconnected
// when the session ends. The application server is clients::AppServer.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clients/app_server.h"
#include "clients/mqtt_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_fixture.h"

namespace wpsim::service {
namespace {

using clients::AppServer;
using clients::AppServerReply;
using clients::AppServerRequest;
using clients::MqttClient;
using clients::MqttClientOptions;
using clients::Observation;
namespace auth = protocol::auth;
namespace mqtt = protocol::mqtt;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;
using nlohmann::json;

class MqttUpstreamSim : public testing::ServiceSimTest {
 protected:
  void SetUp() override {
    options_.hubs["hub"].event_handlers = {
        {"http://app/api/{event}", "*", {"connect", "connected", "disconnected"}}};
    ServiceSimTest::SetUp();
    StartApp();
  }

  MqttClient& Mqtt(std::string client_id, ProtocolVersion version = ProtocolVersion::kV5,
                   bool clean_start = true) {
    MqttClientOptions o;
    o.access_token = Token("token-user", {"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"}, {},
                           3600, auth::ClientType::kMqtt);
    o.version = version;
    o.connect.client_id = client_id;
    o.connect.clean_start = clean_start;
    o.connect.keep_alive = 60;
    o.connect.username = "dev";
    o.connect.password = std::vector<uint8_t>{'p', 'w'};
    if (version == ProtocolVersion::kV5) {
      o.connect.properties.session_expiry_interval = 30;
      o.connect.properties.user_properties = {{"k", "v"}};
    }
    return AddMqtt(client_id, std::move(o));
  }
};

TEST_F(MqttUpstreamSim, ConnectEventCarriesTheMqttBodyAndHeadersThenConnectedHasTheSessionId) {
  MqttClient& c = Mqtt("client1");
  c.Connect();
  Run();
  ASSERT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
  auto connect = Posts("connect");
  ASSERT_EQ(connect.size(), 1u);
  const AppServerRequest& r = *connect[0];
  EXPECT_EQ(r.Header("ce-type"), "azure.webpubsub.sys.connect");
  EXPECT_EQ(r.Header("ce-connectionId"), "client1");
  EXPECT_EQ(r.Header("ce-subprotocol"), "mqtt");  // how the Express SDK recognises MQTT
  const std::string physical = r.Header("ce-physicalConnectionId");
  EXPECT_FALSE(physical.empty());
  EXPECT_EQ(r.Header("ce-source"), "/hubs/hub/client/client1/" + physical);
  EXPECT_EQ(r.Header("ce-sessionId"), "");  // no session yet on connect
  EXPECT_TRUE(r.signature_valid);
  json body = json::parse(r.body);
  EXPECT_EQ(body["mqtt"]["protocolVersion"], 5);
  EXPECT_EQ(body["mqtt"]["cleanStart"], true);
  EXPECT_EQ(body["mqtt"]["username"], "dev");
  EXPECT_EQ(body["mqtt"]["password"], "cHc=");
  EXPECT_EQ(body["mqtt"]["userProperties"], json::parse(R"([{"name":"k","value":"v"}])"));
  EXPECT_EQ(body["claims"]["sub"], json::parse(R"(["token-user"])"));
  EXPECT_EQ(body["subprotocols"], json::parse(R"(["mqtt"])"));

  auto connected = Posts("connected");
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]->Header("ce-physicalConnectionId"), physical);
  EXPECT_FALSE(connected[0]->Header("ce-sessionId").empty());
  EXPECT_EQ(connected[0]->Header("ce-userId"), "token-user");
}

TEST_F(MqttUpstreamSim, RefusedConnectSendsTheHandlersMqttCodeInConnack) {
  app_->SetDefault("connect",
                   AppServerReply::Reject(403, R"({"mqtt":{"code":138,"reason":"banned here"}})"));
  MqttClient& c = Mqtt("client1");
  c.Connect();
  Run();
  auto refused = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_TRUE(refused[0]->mqtt.has_value());
  EXPECT_EQ(refused[0]->mqtt->reason_codes.at(0), ReasonCode::kBanned);
  EXPECT_TRUE(Of(c, Observation::Kind::kConnected).empty());
  EXPECT_TRUE(Posts("connected").empty());
}

TEST_F(MqttUpstreamSim, RefusedConnectWithoutAnMqttBodyMapsTheStatusLikeTheExpressSdk) {
  app_->SetDefault("connect", AppServerReply::Reject(401));
  MqttClient& v5 = Mqtt("client5");
  MqttClient& v3 = Mqtt("client3", ProtocolVersion::kV311);
  v5.Connect();
  v3.Connect();
  Run();
  auto r5 = Of(v5, Observation::Kind::kHandshakeFailed);
  auto r3 = Of(v3, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(r5.size(), 1u);
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_EQ(r5[0]->mqtt->reason_codes.at(0), ReasonCode::kNotAuthorized);
  // 3.1.1 return code 5 (not authorized) is observed as its 5.0 equivalent 0x87.
  EXPECT_EQ(r3[0]->mqtt->reason_codes.at(0), ReasonCode::kNotAuthorized);
  EXPECT_EQ(json::parse(Posts("connect")[1]->body)["mqtt"]["protocolVersion"], 4);
}

TEST_F(MqttUpstreamSim, ConnectAnswerOverridesUserIdAndGroupsAndAddsConnackUserProperties) {
  AppServerReply reply = AppServerReply::ConnectWith("app-user", std::vector<std::string>{"g1"});
  reply.body = R"({"userId":"app-user","groups":["g1"],"mqtt":{"userProperties":[{"name":"a","value":"b"}]}})";
  app_->SetDefault("connect", reply);
  MqttClient& c = Mqtt("client1");
  c.Connect();
  Run();
  auto ok = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]->mqtt->properties.user_properties,
            (std::vector<mqtt::UserProperty>{{"a", "b"}}));
  EXPECT_EQ(Posts("connected").at(0)->Header("ce-userId"), "app-user");
  Hub& hub = service_->GetHub("hub");
  EXPECT_TRUE(hub.state().GroupExists("g1"));
}

TEST_F(MqttUpstreamSim, ConnectFiresOnEveryConnectButConnectedOnlyForANewSession) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV5, /*clean_start=*/false);
  c.Connect();
  Run();
  c.Kill();  // the session (30 s expiry) survives the transport
  Run();
  c.Connect();
  Run();
  auto ok = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_TRUE(ok[1]->mqtt->session_present);
  ASSERT_EQ(Posts("connect").size(), 2u);
  EXPECT_NE(Posts("connect")[0]->Header("ce-physicalConnectionId"),
            Posts("connect")[1]->Header("ce-physicalConnectionId"));
  EXPECT_EQ(Posts("connected").size(), 1u);
  EXPECT_TRUE(Posts("disconnected").empty());  // the session did not end
}

TEST_F(MqttUpstreamSim, DisconnectedWhenTheSessionEndsCarriesTheClientsDisconnectPacket) {
  MqttClient& c = Mqtt("client1");
  c.Connect();
  Run();
  ASSERT_TRUE(c.Disconnect(ReasonCode::kNormalDisconnection).ok());
  Run();
  EXPECT_TRUE(Posts("disconnected").empty());  // the session lives for its 30 s expiry
  Run(31 * sim::kSecond);
  auto gone = Posts("disconnected");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]->Header("ce-sessionId"), Posts("connected").at(0)->Header("ce-sessionId"));
  json body = json::parse(gone[0]->body);
  EXPECT_TRUE(body["reason"].is_string());
  EXPECT_EQ(body["mqtt"]["initiatedByClient"], true);
  EXPECT_EQ(body["mqtt"]["disconnectPacket"]["code"], 0);
}

TEST_F(MqttUpstreamSim, SessionTakenOverByCleanStartReportsAServiceInitiatedEnd) {
  MqttClient& first = Mqtt("client1");
  first.Connect();
  Run();
  MqttClient& second = Mqtt("client1");  // same client id, clean start
  second.Connect();
  Run();
  ASSERT_EQ(Of(second, Observation::Kind::kConnected).size(), 1u);
  auto gone = Posts("disconnected");
  ASSERT_EQ(gone.size(), 1u);
  json body = json::parse(gone[0]->body);
  EXPECT_EQ(body["mqtt"]["initiatedByClient"], false);
  EXPECT_TRUE(body["mqtt"]["disconnectPacket"].is_null());
  EXPECT_EQ(Posts("connected").size(), 2u);  // a new session each time
}

TEST_F(MqttUpstreamSim, SlowConnectHandlerHoldsTheConnackUntilItAnswers) {
  app_->SetDefault("connect", AppServerReply::Accept().After(2 * sim::kSecond));
  MqttClient& c = Mqtt("client1");
  c.Connect();
  Run();
  EXPECT_TRUE(Of(c, Observation::Kind::kConnected).empty());
  Run(2 * sim::kSecond);
  EXPECT_EQ(Of(c, Observation::Kind::kConnected).size(), 1u);
}

}  // namespace
}  // namespace wpsim::service
