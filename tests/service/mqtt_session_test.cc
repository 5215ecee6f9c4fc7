// MQTT sessions in the reference service, in simulation: takeover, persistent sessions and
// their expiry, clean start, Receive Maximum and the QoS 2 flow.
// The fixture: tests/service/mqtt_sim_fixture.h (docs/mqtt-conformance.md maps statements to
// tests).
#include "tests/service/mqtt_sim_fixture.h"

namespace wpsim::service::testing {
namespace {

// ---- Sessions ----------------------------------------------------------------------------------

TEST_F(MqttSim, SameClientIdTakesOverWithDisconnect0x8E) {
  MqttClient& a = Mqtt("client1");
  Up(a);
  MqttClient& b = Mqtt("client1");
  Up(b);
  auto d = Last(a, Observation::Kind::kDisconnected);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Code(d), ReasonCode::kSessionTakenOver);
  EXPECT_FALSE(a.open());
  EXPECT_TRUE(b.connected());
  EXPECT_EQ(TheHub().state().connection_count(), 1u);
}

TEST_F(MqttSim, PersistentSessionRedeliversUnackedQos1WithDupAfterReconnect) {
  MqttClient& sub = Mqtt("sub");
  sub.options().connect.clean_start = false;
  sub.options().auto_ack = false;
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 1).ok());
  Run();
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  ASSERT_TRUE(pub.Publish(Pub("t", "one", 1)).ok());
  Run();
  ASSERT_EQ(Of(sub, Observation::Kind::kGroupMessage).size(), 1u);
  sub.Kill();
  Run();
  ASSERT_TRUE(pub.Publish(Pub("t", "two", 1)).ok());  // while the session is offline
  Run();
  sub.options().auto_ack = true;
  Up(sub);
  auto connack = Last(sub, Observation::Kind::kConnected);
  ASSERT_NE(connack, nullptr);
  EXPECT_TRUE(connack->mqtt->session_present);
  auto got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1]->payload.data.view(), "one");
  EXPECT_TRUE(got[1]->mqtt->dup);
  EXPECT_EQ(got[1]->mqtt->packet_id, got[0]->mqtt->packet_id);
  EXPECT_EQ(got[2]->payload.data.view(), "two");
  EXPECT_FALSE(got[2]->mqtt->dup);
}

TEST_F(MqttSim, PersistentV311SessionIsKeptFor30Seconds) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  c.options().connect.clean_start = false;
  Up(c);
  c.Kill();
  Run(29 * sim::kSecond);
  EXPECT_NE(TheHub().Find("client1"), nullptr);
  Run(2 * sim::kSecond);
  EXPECT_EQ(TheHub().Find("client1"), nullptr);
  Up(c);
  auto connack = Last(c, Observation::Kind::kConnected);
  ASSERT_NE(connack, nullptr);
  EXPECT_FALSE(connack->mqtt->session_present);
}

TEST_F(MqttSim, SessionExpiryZeroEndsTheSessionWithTheConnection) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.properties.session_expiry_interval.reset();
  Up(c);
  ASSERT_NE(TheHub().Find("client1"), nullptr);
  ASSERT_TRUE(c.Disconnect().ok());
  Run();
  EXPECT_EQ(TheHub().Find("client1"), nullptr);
}

TEST_F(MqttSim, CleanStartDiscardsTheOldSession) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  Run();
  ASSERT_TRUE(c.Disconnect().ok());
  Run();
  EXPECT_TRUE(TheHub().state().GroupExists("t"));  // kept for the 30 s expiry
  Up(c);
  auto connack = Last(c, Observation::Kind::kConnected);
  ASSERT_NE(connack, nullptr);
  EXPECT_FALSE(connack->mqtt->session_present);
  EXPECT_FALSE(TheHub().state().GroupExists("t"));
}

TEST_F(MqttSim, DisconnectSettingExpiryAfterZeroIsAProtocolError) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.properties.session_expiry_interval.reset();
  Up(c);
  mqtt::Properties p;
  p.session_expiry_interval = 10;
  ASSERT_TRUE(c.Disconnect(ReasonCode::kNormalDisconnection, p).ok());
  Run();
  // The client closes right after DISCONNECT; the service's answer is DISCONNECT 0x82 if the
  // socket is still open, and the session ends either way.
  EXPECT_EQ(TheHub().Find("client1"), nullptr);
}

TEST_F(MqttSim, ReceiveMaximumLimitsUnacknowledgedDeliveries) {
  MqttClient& sub = Mqtt("sub");
  sub.options().connect.properties.receive_maximum = 2;
  sub.options().auto_ack = false;
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 1).ok());
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pub.Publish(Pub("t", std::to_string(i), 1)).ok());
  Run();
  auto got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 2u);
  mqtt::Puback ack;
  ack.packet_id = got[0]->mqtt->packet_id;
  ASSERT_TRUE(sub.SendPacket(ack).ok());
  Run();
  got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2]->payload.data.view(), "2");
}

TEST_F(MqttSim, Qos2FlowsEndToEnd) {
  MqttClient& sub = Mqtt("sub");
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 2).ok());
  MqttClient& pub = Mqtt("pub", ProtocolVersion::kV311);
  Up(pub);
  ASSERT_TRUE(pub.Publish(Pub("t", "exactly once", 2)).ok());
  Run();
  auto got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->qos, 2);
  EXPECT_NE(Last(pub, Observation::Kind::kAck, "pubcomp"), nullptr);
  EXPECT_EQ(pub.unacknowledged_publishes(), 0u);
}

TEST_F(MqttSim, DuplicateQos2PublishIsDeliveredOnce) {
  MqttClient& sub = Mqtt("sub");
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 1).ok());
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  mqtt::Publish p;
  p.topic = "t";
  p.qos = 2;
  p.packet_id = 77;
  p.payload = MqttPublishOptions::Bytes("once");
  ASSERT_TRUE(pub.SendPacket(p).ok());
  p.dup = true;
  ASSERT_TRUE(pub.SendPacket(p).ok());
  Run();
  EXPECT_EQ(Of(sub, Observation::Kind::kGroupMessage).size(), 1u);
}

TEST_F(MqttSim, PubrelForUnknownPacketIdGetsPubcomp0x92) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  mqtt::Pubrel rel;
  rel.packet_id = 9;
  ASSERT_TRUE(c.SendPacket(rel).ok());
  Run();
  auto comp = Last(c, Observation::Kind::kAck, "pubcomp");
  ASSERT_NE(comp, nullptr);
  EXPECT_EQ(Code(comp), ReasonCode::kPacketIdentifierNotFound);
}

}  // namespace
}  // namespace wpsim::service::testing
