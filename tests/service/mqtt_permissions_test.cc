// MQTT in the reference service, in simulation: unsupported features (wildcards, shared
// subscriptions, retain, topic aliases), roles and permissions, and REST operations on MQTT
// connections.
// The fixture: tests/service/mqtt_sim_fixture.h (docs/mqtt-conformance.md maps statements to
// tests).
#include "tests/service/mqtt_sim_fixture.h"

namespace wpsim::service::testing {
namespace {

// ---- Unsupported features ---------------------------------------------------------------------

TEST_F(MqttSim, WildcardFiltersAreRefusedWith0xA2In5And0x80In311) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe({{"a/+", {}}, {"a/#", {}}, {"ok", {}}}).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback, 0), ReasonCode::kWildcardSubscriptionsNotSupported);
  EXPECT_EQ(Code(suback, 1), ReasonCode::kWildcardSubscriptionsNotSupported);
  EXPECT_EQ(Code(suback, 2), ReasonCode::kGrantedQos0);
  MqttClient& d = Mqtt("client2", ProtocolVersion::kV311);
  Up(d);
  ASSERT_TRUE(d.Subscribe("#", 1).ok());
  Run();
  auto suback311 = Last(d, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback311, nullptr);
  EXPECT_EQ(Code(suback311), ReasonCode::kUnspecifiedError);
  EXPECT_FALSE(TheHub().state().GroupExists("#"));
}

TEST_F(MqttSim, SharedSubscriptionsAreRefusedWith0x9E) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe("$share/g/topic1", 1).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback), ReasonCode::kSharedSubscriptionsNotSupported);
}

TEST_F(MqttSim, RetainedPublishGetsDisconnect0x9A) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  MqttPublishOptions p = Pub("t", "r", 1);
  p.retain = true;
  ASSERT_TRUE(c.Publish(p).ok());
  Run();
  auto d = Last(c, Observation::Kind::kDisconnected);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Code(d), ReasonCode::kRetainNotSupported);
}

TEST_F(MqttSim, RetainedPublishIn311IsDeliveredWithoutRetain) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  MqttPublishOptions p = Pub("t", "r", 1);
  p.retain = true;
  ASSERT_TRUE(c.Publish(p).ok());
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0]->mqtt->retain);
}

TEST_F(MqttSim, TopicAliasGetsDisconnect0x94) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  MqttPublishOptions p = Pub("t", "a", 0);
  p.properties.topic_alias = 1;
  ASSERT_TRUE(c.Publish(p).ok());
  Run();
  auto d = Last(c, Observation::Kind::kDisconnected);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Code(d), ReasonCode::kTopicAliasInvalid);
}

// ---- Permissions -------------------------------------------------------------------------------

TEST_F(MqttSim, WithoutRolesSubscribeAndPublishAreNotAuthorized) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV5, {});
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  ASSERT_TRUE(c.Publish(Pub("t", "x", 1)).ok());
  MqttPublishOptions q2 = Pub("t", "y", 2);
  ASSERT_TRUE(c.Publish(q2).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback), ReasonCode::kNotAuthorized);
  auto puback = Last(c, Observation::Kind::kAck, "puback");
  ASSERT_NE(puback, nullptr);
  EXPECT_EQ(Code(puback), ReasonCode::kNotAuthorized);
  auto pubrec = Last(c, Observation::Kind::kAck, "pubrec");
  ASSERT_NE(pubrec, nullptr);
  EXPECT_EQ(Code(pubrec), ReasonCode::kNotAuthorized);
  EXPECT_FALSE(TheHub().state().GroupExists("t"));
}

TEST_F(MqttSim, WithoutRolesV311SubscribeFailsWith0x80AndPublishIsDropped) {
  MqttClient& watcher = Mqtt("watcher");
  Up(watcher);
  ASSERT_TRUE(watcher.Subscribe("t", 1).ok());
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311, {});
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  ASSERT_TRUE(c.Publish(Pub("t", "x", 1)).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback), ReasonCode::kUnspecifiedError);
  EXPECT_NE(Last(c, Observation::Kind::kAck, "puback"), nullptr);  // acknowledged, dropped
  EXPECT_TRUE(Of(watcher, Observation::Kind::kGroupMessage).empty());
}

TEST_F(MqttSim, ScopedRolesAllowOnlyTheirGroups) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV5,
                       {"webpubsub.joinLeaveGroup.allowed", "webpubsub.sendToGroup.allowed"});
  Up(c);
  ASSERT_TRUE(c.Subscribe({{"allowed", {}}, {"other", {}}}).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback, 0), ReasonCode::kGrantedQos0);
  EXPECT_EQ(Code(suback, 1), ReasonCode::kNotAuthorized);
}

TEST_F(MqttSim, RestGrantPermissionActsOnTheSession) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV5, {});
  Up(c);
  Rest().Call("PUT", "/api/hubs/hub/permissions/joinLeaveGroup/connections/client1?targetName=t",
              "", "", "grant");
  Run();
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback), ReasonCode::kGrantedQos1);
}

// ---- REST
// ----------------------------------------------------------------------------------------

TEST_F(MqttSim, RestSendToAllArrivesOnServerMessagesTopicAtQos1) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  Rest().Call("POST", "/api/hubs/hub/:send", "text/plain", "Hello", "all");
  Run();
  auto got = Of(c, Observation::Kind::kServerMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->topic, "$webpubsub/server/messages");
  EXPECT_EQ(got[0]->mqtt->qos, 1);
  EXPECT_EQ(got[0]->payload.type, wps::DataType::kText);
  EXPECT_EQ(got[0]->payload.data.view(), "Hello");
}

TEST_F(MqttSim, RestSendToConnectionAndUserReachMqttClients) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  Up(c);
  Rest().Call("POST", "/api/hubs/hub/connections/client1/:send", "application/octet-stream", "b",
              "conn");
  Rest().Call("POST", "/api/hubs/hub/users/client1/:send", "application/json", "{}", "user");
  Run();
  EXPECT_EQ(Of(c, Observation::Kind::kServerMessage).size(), 2u);
}

TEST_F(MqttSim, RestSendToGroupReachesMqttSubscribers) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe("room", 1).ok());
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/room/:send", "application/json", "{\"k\":2}", "g");
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->properties.content_type, "application/json");
}

TEST_F(MqttSim, RestAddToGroupSubscribesTheSession) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  Rest().Call("PUT", "/api/hubs/hub/groups/room/connections/client1", "", "", "add");
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/room/:send", "text/plain", "hi", "g");
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->qos, 1);
}

TEST_F(MqttSim, RestCloseConnectionEndsTheSessionWithAdministrativeAction) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  Rest().Call("DELETE", "/api/hubs/hub/connections/client1?reason=bye", "", "", "close");
  Run();
  auto d = Last(c, Observation::Kind::kDisconnected);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Code(d), ReasonCode::kAdministrativeAction);
  EXPECT_EQ(TheHub().Find("client1"), nullptr);
}

TEST_F(MqttSim, RestConnectionExistsSeesAnOfflinePersistentSession) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.clean_start = false;
  Up(c);
  c.Kill();
  Run();
  Rest().Call("HEAD", "/api/hubs/hub/connections/client1", "", "", "exists");
  Run();
  auto r = Of(Rest(), Observation::Kind::kHttpResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->http_status, 200);
}

}  // namespace
}  // namespace wpsim::service::testing
