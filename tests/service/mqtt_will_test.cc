// MQTT Will messages in the reference service, in simulation: published on abnormal
// disconnects and keep-alive timeouts, discarded on normal ones, delayed and cancelled.
// The fixture: tests/service/mqtt_sim_fixture.h (docs/mqtt-conformance.md maps statements to
// tests).
#include "tests/service/mqtt_sim_fixture.h"

namespace wpsim::service::testing {
namespace {

// ---- Will
// ----------------------------------------------------------------------------------------

TEST_F(MqttSim, WillIsPublishedToItsTopicOnAbnormalDisconnect) {
  MqttClient& watcher = Mqtt("watcher");
  Up(watcher);
  ASSERT_TRUE(watcher.Subscribe("wills", 1).ok());
  WsClient& j = Json("json");
  j.Connect();
  Run();
  ASSERT_TRUE(j.JoinGroup("wills", std::nullopt).ok());
  MqttClient& c = Mqtt("client1");
  mqtt::Will will;
  will.topic = "wills";
  will.qos = 1;
  will.payload = MqttPublishOptions::Bytes("gone");
  will.properties.content_type = "text/plain";
  c.options().connect.will = will;
  Up(c);
  c.Kill();
  Run();
  auto got = Of(watcher, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload.data.view(), "gone");
  EXPECT_EQ(got[0]->mqtt->properties.content_type, "text/plain");
  auto json = Of(j, Observation::Kind::kGroupMessage);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]->payload.type, wps::DataType::kText);
}

TEST_F(MqttSim, NormalDisconnectDiscardsTheWill) {
  MqttClient& watcher = Mqtt("watcher");
  Up(watcher);
  ASSERT_TRUE(watcher.Subscribe("wills", 1).ok());
  MqttClient& c = Mqtt("client1");
  mqtt::Will will;
  will.topic = "wills";
  c.options().connect.will = will;
  Up(c);
  ASSERT_TRUE(c.Disconnect().ok());
  Run(40 * sim::kSecond);
  EXPECT_TRUE(Of(watcher, Observation::Kind::kGroupMessage).empty());
}

TEST_F(MqttSim, DisconnectWithWillMessagePublishesTheWill) {
  MqttClient& watcher = Mqtt("watcher");
  Up(watcher);
  ASSERT_TRUE(watcher.Subscribe("wills", 1).ok());
  MqttClient& c = Mqtt("client1");
  mqtt::Will will;
  will.topic = "wills";
  c.options().connect.will = will;
  Up(c);
  ASSERT_TRUE(c.Disconnect(ReasonCode::kDisconnectWithWillMessage).ok());
  Run();
  EXPECT_EQ(Of(watcher, Observation::Kind::kGroupMessage).size(), 1u);
}

TEST_F(MqttSim, WillDelayWaitsAndReconnectingCancelsIt) {
  MqttClient& watcher = Mqtt("watcher");
  Up(watcher);
  ASSERT_TRUE(watcher.Subscribe("wills", 1).ok());
  MqttClient& c = Mqtt("client1");
  c.options().connect.clean_start = false;
  mqtt::Will will;
  will.topic = "wills";
  will.properties.will_delay_interval = 5;
  c.options().connect.will = will;
  Up(c);
  c.Kill();
  Run(4 * sim::kSecond);
  EXPECT_TRUE(Of(watcher, Observation::Kind::kGroupMessage).empty());
  Run(2 * sim::kSecond);
  EXPECT_EQ(Of(watcher, Observation::Kind::kGroupMessage).size(), 1u);
  // Second round: reconnect within the delay cancels the will.
  Up(c);
  c.Kill();
  Run(2 * sim::kSecond);
  Up(c);
  Run(10 * sim::kSecond);
  EXPECT_EQ(Of(watcher, Observation::Kind::kGroupMessage).size(), 1u);
}

TEST_F(MqttSim, KeepAliveTimeoutPublishesTheWill) {
  MqttClient& watcher = Mqtt("watcher");
  Up(watcher);
  ASSERT_TRUE(watcher.Subscribe("wills", 1).ok());
  MqttClient& c = Mqtt("client1");
  c.options().connect.keep_alive = 2;
  c.options().auto_ping = false;
  mqtt::Will will;
  will.topic = "wills";
  c.options().connect.will = will;
  Up(c);
  Run(5 * sim::kSecond);
  EXPECT_EQ(Of(watcher, Observation::Kind::kGroupMessage).size(), 1u);
}

}  // namespace
}  // namespace wpsim::service::testing
