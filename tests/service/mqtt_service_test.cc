// MQTT in the reference service, end to end in simulation: the service, MqttClient,
// WsClient and RestClient on a SimNetwork. docs/mqtt-conformance.md ("Service level") maps
// the normative statements and PROTOCOL.md §10 rules to these tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>
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

namespace wpsim::service {
namespace {

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

const std::vector<std::string> kPubSubRoles = {"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};

class MqttSim : public testing::ServiceSimTest {
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
  static ReasonCode Code(const Observation* o, size_t i = 0) {
    return o->mqtt->reason_codes.at(i);
  }
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

// ---- Seed 000: PubSub among MQTT clients ---------------------------------------------------

TEST_F(MqttSim, QuickstartV5SubscribesPublishesAndReceivesHelloWorld) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  auto connack = Last(c, Observation::Kind::kConnected);
  ASSERT_NE(connack, nullptr);
  EXPECT_FALSE(connack->mqtt->session_present);
  EXPECT_EQ(connack->connection_id, "client1");
  ASSERT_TRUE(c.Subscribe("topic1", 1).ok());
  Run();
  auto suback = Last(c, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback), ReasonCode::kGrantedQos1);
  ASSERT_TRUE(c.Publish(Pub("topic1", "Hello World!", 0)).ok());
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->group, "topic1");
  EXPECT_EQ(got[0]->payload.data.view(), "Hello World!");
  EXPECT_EQ(got[0]->mqtt->qos, 0);
  // 5.0 without a content type is binary; the service says so on the way out (§10.5).
  EXPECT_EQ(got[0]->payload.type, wps::DataType::kBinary);
}

TEST_F(MqttSim, QuickstartV311SubscribesPublishesAndReceivesHelloWorld) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  Up(c);
  ASSERT_NE(Last(c, Observation::Kind::kConnected), nullptr);
  ASSERT_TRUE(c.Subscribe("topic1", 1).ok());
  Run();
  ASSERT_TRUE(c.Publish(Pub("topic1", "Hello World!", 1)).ok());
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload.data.view(), "Hello World!");
  EXPECT_EQ(got[0]->mqtt->qos, 1);
  auto puback = Last(c, Observation::Kind::kAck, "puback");
  ASSERT_NE(puback, nullptr);
  EXPECT_TRUE(puback->success);
  EXPECT_EQ(c.unacknowledged_publishes(), 0u);
}

TEST_F(MqttSim, JsonClientInGroupReceivesMqttPublishWithContentTypeAsDataType) {
  WsClient& j = Json("json");
  j.Connect();
  Run();
  ASSERT_TRUE(j.JoinGroup("topic1", std::nullopt).ok());
  MqttClient& m = Mqtt("client1");
  Up(m);
  MqttPublishOptions p = Pub("topic1", "Hello World!", 1);
  p.properties.content_type = "text/plain";
  ASSERT_TRUE(m.Publish(p).ok());
  MqttPublishOptions b = Pub("topic1", "raw", 0);
  ASSERT_TRUE(m.Publish(b).ok());
  Run();
  auto got = Of(j, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->group, "topic1");
  EXPECT_EQ(got[0]->payload.type, wps::DataType::kText);
  EXPECT_EQ(got[0]->payload.data.view(), "Hello World!");
  EXPECT_EQ(got[0]->from_user_id, "client1");
  EXPECT_EQ(got[1]->payload.type, wps::DataType::kBinary);
}

TEST_F(MqttSim, V311PublishReachesJsonClientsAsBinary) {
  WsClient& j = Json("json");
  j.Connect();
  Run();
  ASSERT_TRUE(j.JoinGroup("topic1", std::nullopt).ok());
  MqttClient& m = Mqtt("client1", ProtocolVersion::kV311);
  Up(m);
  ASSERT_TRUE(m.Publish(Pub("topic1", "{\"a\":1}", 1)).ok());
  Run();
  auto got = Of(j, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload.type, wps::DataType::kBinary);
  EXPECT_EQ(got[0]->payload.data.view(), "{\"a\":1}");
}

TEST_F(MqttSim, JsonSendToGroupReachesMqttSubscriberAtQos1WithContentType) {
  MqttClient& m = Mqtt("client1");
  Up(m);
  ASSERT_TRUE(m.Subscribe("topic1", 2).ok());
  MqttClient& m0 = Mqtt("client0");
  Up(m0);
  ASSERT_TRUE(m0.Subscribe("topic1", 0).ok());
  Run();
  WsClient& j = Json("json");
  j.Connect();
  Run();
  ASSERT_TRUE(j.SendToGroup("topic1", wps::Payload::Json("{\"x\":1}"), std::nullopt, false).ok());
  Run();
  auto got = Of(m, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->qos, 1);  // min(1, granted 2)
  EXPECT_EQ(got[0]->mqtt->properties.content_type, "application/json");
  EXPECT_EQ(got[0]->payload.data.view(), "{\"x\":1}");
  auto got0 = Of(m0, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got0.size(), 1u);
  EXPECT_EQ(got0[0]->mqtt->qos, 0);  // min(1, granted 0)
}

TEST_F(MqttSim, ReliableJsonReceiverGetsMqttPublishAsSequencedMessage) {
  WsClient& r = Json("rel", kPubSubRoles, WsClientKind::kReliable);
  r.Connect();
  Run();
  ASSERT_TRUE(r.JoinGroup("topic1", std::nullopt).ok());
  MqttClient& m = Mqtt("client1");
  Up(m);
  ASSERT_TRUE(m.Publish(Pub("topic1", "x", 0)).ok());
  Run();
  auto got = Of(r, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0]->sequence_id.has_value());
}

// ---- Upgrade and CONNECT validation -------------------------------------------------------

TEST_F(MqttSim, UpgradeWithoutTokenIsRefusedWith401) {
  MqttClient& c = Mqtt("client1");
  c.options().access_token.clear();
  Up(c);
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
}

TEST_F(MqttSim, TokenForTheJsonEndpointIsRefusedWith401) {
  MqttClient& c = Mqtt("client1");
  c.options().access_token = Token("u", kPubSubRoles, auth::ClientType::kDefault);
  Up(c);
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
}

TEST_F(MqttSim, TokenInAuthorizationHeaderIsAccepted) {
  MqttClient& c = Mqtt("client1");
  c.options().token_in_header = true;
  Up(c);
  EXPECT_NE(Last(c, Observation::Kind::kConnected), nullptr);
}

TEST_F(MqttSim, UpgradeWithoutMqttSubprotocolIsRefusedWith400) {
  MqttClient& c = Mqtt("client1");
  c.options().subprotocols = {"json.webpubsub.azure.v1"};
  Up(c);
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 400);
}

TEST_F(MqttSim, ClientIdWithInvalidCharactersIsRefusedWith0x85) {
  MqttClient& c = Mqtt("bad-id");
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kClientIdentifierNotValid);
  EXPECT_TRUE(refused->mqtt->properties.reason_string.has_value());
}

TEST_F(MqttSim, ClientIdLongerThan128IsRefusedWithIdentifierRejectedIn311) {
  MqttClient& c = Mqtt(std::string(129, 'a'), ProtocolVersion::kV311);
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kClientIdentifierNotValid);  // return code 2
}

TEST_F(MqttSim, ClientIdOf128AlphanumericsIsAccepted) {
  MqttClient& c = Mqtt(std::string(128, 'Z'));
  Up(c);
  EXPECT_NE(Last(c, Observation::Kind::kConnected), nullptr);
}

TEST_F(MqttSim, EmptyClientIdGetsAssignedClientIdentifierIn5) {
  MqttClient& c = Mqtt("");
  Up(c);
  auto ok = Last(c, Observation::Kind::kConnected);
  ASSERT_NE(ok, nullptr);
  ASSERT_TRUE(ok->mqtt->properties.assigned_client_identifier.has_value());
  EXPECT_EQ(c.client_id(), *ok->mqtt->properties.assigned_client_identifier);
  EXPECT_NE(TheHub().Find(c.client_id()), nullptr);  // the client id is the connection id
}

TEST_F(MqttSim, EmptyClientIdWithCleanSessionIsAssignedIn311) {
  MqttClient& c = Mqtt("", ProtocolVersion::kV311);
  Up(c);
  EXPECT_NE(Last(c, Observation::Kind::kConnected), nullptr);
  EXPECT_EQ(TheHub().state().connection_count(), 1u);
}

TEST_F(MqttSim, EmptyClientIdWithoutCleanSessionIsRejectedIn311) {
  MqttClient& c = Mqtt("", ProtocolVersion::kV311);
  c.options().connect.clean_start = false;
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kClientIdentifierNotValid);
}

TEST_F(MqttSim, KeepAliveZeroIsRefusedIn311) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  c.options().connect.keep_alive = 0;
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kClientIdentifierNotValid);  // return code 2
}

TEST_F(MqttSim, KeepAliveAbove180IsRefusedIn311And180IsAccepted) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  c.options().connect.keep_alive = 181;
  Up(c);
  EXPECT_NE(Last(c, Observation::Kind::kHandshakeFailed, "connack"), nullptr);
  MqttClient& d = Mqtt("client2", ProtocolVersion::kV311);
  d.options().connect.keep_alive = 180;
  Up(d);
  EXPECT_NE(Last(d, Observation::Kind::kConnected), nullptr);
}

TEST_F(MqttSim, KeepAliveZeroIsAcceptedIn5) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.keep_alive = 0;
  Up(c);
  EXPECT_NE(Last(c, Observation::Kind::kConnected), nullptr);
}

TEST_F(MqttSim, EnhancedAuthenticationIsRefusedWithBadAuthenticationMethod) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.properties.authentication_method = "SCRAM-SHA-1";
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kBadAuthenticationMethod);
}

TEST_F(MqttSim, WillWithRetainIsRefusedWithRetainNotSupported) {
  MqttClient& c = Mqtt("client1");
  mqtt::Will will;
  will.topic = "wills";
  will.retain = true;
  c.options().connect.will = will;
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kRetainNotSupported);
}

TEST_F(MqttSim, WillTopicOver1024CharactersIsRefusedWithTopicNameInvalid) {
  MqttClient& c = Mqtt("client1");
  mqtt::Will will;
  will.topic = std::string(1025, 't');
  c.options().connect.will = will;
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kTopicNameInvalid);
}

TEST_F(MqttSim, WillPayloadOver2000BytesIsRefusedWithPacketTooLarge) {
  MqttClient& c = Mqtt("client1");
  mqtt::Will will;
  will.topic = "wills";
  will.payload.assign(2001, 'x');
  c.options().connect.will = will;
  Up(c);
  auto refused = Last(c, Observation::Kind::kHandshakeFailed, "connack");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(Code(refused), ReasonCode::kPacketTooLarge);
}

TEST_F(MqttSim, ConnackAnnouncesUnsupportedFeaturesAndLimits) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.properties.session_expiry_interval = 3600;
  Up(c);
  auto ok = Last(c, Observation::Kind::kConnected);
  ASSERT_NE(ok, nullptr);
  const mqtt::Properties& p = ok->mqtt->properties;
  EXPECT_EQ(p.retain_available, 0);
  EXPECT_EQ(p.wildcard_subscription_available, 0);
  EXPECT_EQ(p.shared_subscription_available, 0);
  EXPECT_EQ(p.receive_maximum, 100);
  EXPECT_EQ(p.maximum_packet_size, 1024u * 1024u);
  EXPECT_EQ(p.session_expiry_interval, 30u);  // clamped to the 30 s the service keeps
}

TEST_F(MqttSim, TextFrameClosesTheConnection) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  const std::string text = "hello";
  ASSERT_TRUE(c.SendRaw(MqttPublishOptions::Bytes(text), true).ok());
  Run();
  EXPECT_FALSE(c.open());
  EXPECT_NE(Last(c, Observation::Kind::kClosed), nullptr);
}

TEST_F(MqttSim, MalformedPacketGetsDisconnect0x81In5) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  const uint8_t bad[] = {0x82, 0x02, 0x00, 0x01};  // SUBSCRIBE without properties/payload
  ASSERT_TRUE(c.SendRaw(bad).ok());
  Run();
  auto d = Last(c, Observation::Kind::kDisconnected);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Code(d), ReasonCode::kMalformedPacket);
  EXPECT_FALSE(c.open());
}

// ---- Keep-alive ------------------------------------------------------------------------------

TEST_F(MqttSim, SilentClientIsDisconnectedWithKeepAliveTimeoutAfterOneAndAHalfIntervals) {
  MqttClient& c = Mqtt("client1");
  c.options().connect.keep_alive = 10;
  c.options().auto_ping = false;
  Up(c);
  Run(13 * sim::kSecond);
  EXPECT_EQ(Last(c, Observation::Kind::kDisconnected), nullptr);  // 14 s < 15 s
  Run(2 * sim::kSecond);
  auto d = Last(c, Observation::Kind::kDisconnected);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Code(d), ReasonCode::kKeepAliveTimeout);
  EXPECT_FALSE(c.open());
}

TEST_F(MqttSim, PingingClientStaysConnectedAndGetsPingresp) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  c.options().connect.keep_alive = 10;
  Up(c);
  Run(60 * sim::kSecond);
  EXPECT_TRUE(c.connected());
  EXPECT_GE(Of(c, Observation::Kind::kPong).size(), 5u);
}

TEST_F(MqttSim, SilentV311ClientIsClosedWithoutDisconnect) {
  MqttClient& c = Mqtt("client1", ProtocolVersion::kV311);
  c.options().connect.keep_alive = 2;
  c.options().auto_ping = false;
  Up(c);
  Run(3 * sim::kSecond);
  EXPECT_FALSE(c.open());
  EXPECT_EQ(Last(c, Observation::Kind::kDisconnected), nullptr);
}

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

// ---- Will ----------------------------------------------------------------------------------------

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

// ---- REST ----------------------------------------------------------------------------------------

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

// ---- 5.0 properties ------------------------------------------------------------------------------

TEST_F(MqttSim, SubscriptionIdentifierIsSentWithMatchingPublishes) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1, 42).ok());
  Run();
  ASSERT_TRUE(c.Publish(Pub("t", "x", 1)).ok());
  ASSERT_TRUE(c.Publish(Pub("t", "y", 0)).ok());
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->mqtt->properties.subscription_identifiers, std::vector<uint32_t>{42});
  EXPECT_EQ(got[1]->mqtt->properties.subscription_identifiers, std::vector<uint32_t>{42});
}

// Deliver keeps an inline copy of a sole short subscription (no map lookup); the granted QoS,
// No Local and identifiers must follow every change of the subscriptions all the same.
TEST_F(MqttSim, DeliveryFollowsTheSubscriptionsAsTheyAreAddedChangedAndRemoved) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  const std::string long_topic = "a-topic-longer-than-sixteen";
  auto publish_all = [&](std::string_view text) {
    ASSERT_TRUE(pub.Publish(Pub("t", text, 1)).ok());
    ASSERT_TRUE(pub.Publish(Pub(long_topic, text, 1)).ok());
    Run();
  };
  auto received = [&](size_t from) {
    std::vector<std::string> out;
    auto got = Of(c, Observation::Kind::kGroupMessage);
    for (size_t i = from; i < got.size(); ++i) {
      out.push_back(got[i]->group + "@" + std::to_string(got[i]->mqtt->qos));
    }
    return out;
  };
  size_t seen = 0;
  auto next = [&] {
    std::vector<std::string> r = received(seen);
    seen += r.size();
    return r;
  };
  using V = std::vector<std::string>;
  ASSERT_TRUE(c.Subscribe("t", 0).ok());  // sole, short: inline
  Run();
  publish_all("1");
  EXPECT_EQ(next(), (V{"t@0"}));
  ASSERT_TRUE(c.Subscribe("t", 1).ok());  // same filter, new QoS
  Run();
  publish_all("2");
  EXPECT_EQ(next(), (V{"t@1"}));
  ASSERT_TRUE(c.Subscribe(long_topic, 0).ok());  // two: the map
  Run();
  publish_all("3");
  EXPECT_EQ(next(), (V{"t@1", long_topic + "@0"}));
  ASSERT_TRUE(c.Unsubscribe({"t"}).ok());  // sole but long: the map
  Run();
  publish_all("4");
  EXPECT_EQ(next(), (V{long_topic + "@0"}));
  ASSERT_TRUE(c.Unsubscribe({long_topic}).ok());
  ASSERT_TRUE(c.Subscribe("t", 1, 7).ok());  // sole, short, with an identifier: the map
  Run();
  publish_all("5");
  EXPECT_EQ(next(), (V{"t@1"}));
  auto got = Of(c, Observation::Kind::kGroupMessage);
  EXPECT_EQ(got.back()->mqtt->properties.subscription_identifiers, std::vector<uint32_t>{7});
  mqtt::Subscription no_local;
  no_local.topic_filter = "t";
  no_local.options.qos = 1;
  no_local.options.no_local = true;
  ASSERT_TRUE(c.Subscribe({no_local}).ok());  // sole, short, No Local: inline
  Run();
  ASSERT_TRUE(c.Publish(Pub("t", "own", 1)).ok());
  publish_all("6");
  EXPECT_EQ(next(), (V{"t@1"}));
  EXPECT_TRUE(Of(c, Observation::Kind::kGroupMessage).back()->mqtt->properties
                  .subscription_identifiers.empty());
  ASSERT_TRUE(c.Unsubscribe({"t"}).ok());
  Run();
  publish_all("7");
  EXPECT_EQ(next(), V{});
}

TEST_F(MqttSim, PublishPropertiesAreForwardedUnaltered) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  MqttPublishOptions p = Pub("t", "x", 1);
  p.properties.message_expiry_interval = 60;
  p.properties.response_topic = "replies";
  p.properties.correlation_data = std::vector<uint8_t>{1, 2, 3};
  p.properties.user_properties = {{"a", "1"}, {"a", "2"}};
  p.properties.content_type = "application/x-custom";
  Run();
  ASSERT_TRUE(c.Publish(p).ok());
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  const mqtt::Properties& q = got[0]->mqtt->properties;
  EXPECT_EQ(q.message_expiry_interval, 60u);
  EXPECT_EQ(q.response_topic, "replies");
  EXPECT_EQ(q.correlation_data, p.properties.correlation_data);
  EXPECT_EQ(q.user_properties, p.properties.user_properties);
  EXPECT_EQ(q.content_type, "application/x-custom");
}

TEST_F(MqttSim, ExpiredQueuedMessageIsNotDeliveredAfterReconnect) {
  MqttClient& sub = Mqtt("sub");
  sub.options().connect.clean_start = false;
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 1).ok());
  Run();
  sub.Kill();
  Run();
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  MqttPublishOptions shortlived = Pub("t", "short", 1);
  shortlived.properties.message_expiry_interval = 2;
  ASSERT_TRUE(pub.Publish(shortlived).ok());
  ASSERT_TRUE(pub.Publish(Pub("t", "long", 1)).ok());
  Run(5 * sim::kSecond);
  Up(sub);
  auto got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload.data.view(), "long");
}

TEST_F(MqttSim, NoLocalSubscriptionDoesNotEchoOwnPublishes) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  mqtt::Subscription s;
  s.topic_filter = "t";
  s.options.qos = 1;
  s.options.no_local = true;
  ASSERT_TRUE(c.Subscribe({s}).ok());
  Run();
  ASSERT_TRUE(c.Publish(Pub("t", "x", 1)).ok());
  Run();
  EXPECT_TRUE(Of(c, Observation::Kind::kGroupMessage).empty());
}

TEST_F(MqttSim, MessagesLargerThanClientMaximumPacketSizeAreNotSent) {
  MqttClient& small = Mqtt("small");
  small.options().connect.properties.maximum_packet_size = 64;
  Up(small);
  ASSERT_TRUE(small.Subscribe("t", 1).ok());
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  ASSERT_TRUE(pub.Publish(Pub("t", std::string(200, 'x'), 1)).ok());
  ASSERT_TRUE(pub.Publish(Pub("t", "tiny", 1)).ok());
  Run();
  auto got = Of(small, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload.data.view(), "tiny");
}

TEST_F(MqttSim, Qos2PublishResentAfterReconnectingIsDeliveredOnce) {
  MqttClient& sub = Mqtt("sub");
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 2).ok());
  Run();
  MqttClient& pub = Mqtt("pub");
  pub.options().connect.clean_start = false;
  Up(pub);
  // The service receives the PUBLISH and answers PUBREC, which never reaches the client: the
  // client resends the PUBLISH (DUP, same Packet Identifier) after reconnecting to its session.
  ASSERT_TRUE(net_.Partition("service", "client", sim::PartitionDirection::kAToB).ok());
  ASSERT_TRUE(pub.Publish(Pub("t", "once", 2)).ok());
  Run();
  pub.Kill();
  net_.HealAll();
  Run();
  ASSERT_EQ(Of(sub, Observation::Kind::kGroupMessage).size(), 1u);
  Up(pub);
  Run();
  EXPECT_EQ(pub.unacknowledged_publishes(), 0u);  // PUBREC, PUBREL, PUBCOMP completed
  EXPECT_EQ(Of(sub, Observation::Kind::kGroupMessage).size(), 1u);
}

TEST_F(MqttSim, SubackTooLargeForTheClientIsSentWithoutItsReasonString) {
  MqttClient& small = Mqtt("small");
  small.options().connect.properties.maximum_packet_size = 64;
  Up(small);
  ASSERT_TRUE(small.Subscribe("w/+/" + std::string(100, 'x'), 1).ok());
  Run();
  auto suback = Last(small, Observation::Kind::kAck, "suback");
  ASSERT_NE(suback, nullptr);
  EXPECT_EQ(Code(suback), ReasonCode::kWildcardSubscriptionsNotSupported);
  EXPECT_FALSE(suback->mqtt->properties.reason_string.has_value());
}

TEST_F(MqttSim, InvalidUtf8WithTextContentTypeGetsPayloadFormatInvalid) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  MqttPublishOptions p;
  p.topic = "t";
  p.qos = 1;
  p.payload = {0xFF, 0xFE};
  p.properties.content_type = "text/plain";
  ASSERT_TRUE(c.Publish(p).ok());
  Run();
  auto puback = Last(c, Observation::Kind::kAck, "puback");
  ASSERT_NE(puback, nullptr);
  EXPECT_EQ(Code(puback), ReasonCode::kPayloadFormatInvalid);
}

TEST_F(MqttSim, UnsubscribeLeavesTheGroupAndReportsMissingSubscriptions) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  ASSERT_TRUE(c.Subscribe("t", 1).ok());
  Run();
  ASSERT_TRUE(c.Unsubscribe({"t", "never"}).ok());
  Run();
  auto unsuback = Last(c, Observation::Kind::kAck, "unsuback");
  ASSERT_NE(unsuback, nullptr);
  EXPECT_EQ(Code(unsuback, 0), ReasonCode::kSuccess);
  EXPECT_EQ(Code(unsuback, 1), ReasonCode::kNoSubscriptionExisted);
  EXPECT_FALSE(TheHub().state().GroupExists("t"));
}

TEST_F(MqttSim, UpstreamEventWithoutHandlerIsAnsweredOnFailedTopic) {
  MqttClient& c = Mqtt("client1");
  Up(c);
  MqttPublishOptions p = Pub("$webpubsub/server/events/hello", "x", 1);
  p.properties.correlation_data = std::vector<uint8_t>{7};
  ASSERT_TRUE(c.Publish(p).ok());
  Run();
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->topic, "$webpubsub/server/events/hello/failed");
  EXPECT_EQ(got[0]->mqtt->properties.correlation_data, std::vector<uint8_t>{7});
  ASSERT_FALSE(got[0]->mqtt->properties.user_properties.empty());
  EXPECT_EQ(got[0]->mqtt->properties.user_properties[0].key, "azure-status-code");
}

TEST_F(MqttSim, UpstreamEventGoesToTheHandlerAndTheAnswerComesBackOnSucceeded) {
  sim::SimRuntime* app_host = net_.AddHost("app").value();
  clients::AppServerOptions app_options;
  app_options.access_keys = ServiceOptions{}.access_keys;
  clients::AppServer app(*app_host, "app", app_options);
  ASSERT_TRUE(app.Listen().ok());
  clients::AppServerReply answer;
  answer.status = 200;
  answer.content_type = "text/plain";
  answer.body = "hi back";
  answer.headers.push_back({"mqtt-k", "v"});
  app.SetDefault("hello", answer);
  service_.reset();
  ServiceOptions options;
  options.hubs["hub"].event_handlers = {{"http://app/api/{hub}/{event}", "*", {}}};
  service_ = std::make_unique<Service>(*service_host_, options);
  ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
  MqttClient& c = Mqtt("client1");
  Up(c);
  MqttPublishOptions p = Pub("$webpubsub/server/events/hello", "hi", 1);
  p.properties.content_type = "text/plain";
  p.properties.correlation_data = std::vector<uint8_t>{9};
  p.properties.user_properties = {{"a", "b"}};
  ASSERT_TRUE(c.Publish(p).ok());
  Run(3 * sim::kSecond);
  auto posts = app.RequestsFor("hello");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]->body, "hi");
  EXPECT_EQ(posts[0]->Header("mqtt-a"), "b");
  auto got = Of(c, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->mqtt->topic, "$webpubsub/server/events/hello/succeeded");
  EXPECT_EQ(got[0]->payload.data.view(), "hi back");
  EXPECT_EQ(got[0]->mqtt->properties.correlation_data, std::vector<uint8_t>{9});
  const auto& up = got[0]->mqtt->properties.user_properties;
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0], (mqtt::UserProperty{"k", "v"}));
  EXPECT_EQ(up[1], (mqtt::UserProperty{"azure-status-code", "200"}));
}

TEST_F(MqttSim, SameSeedGivesTheSameObservations) {
  auto run = [] {
    sim::SimNetwork net;
    auto* s = net.AddHost("service").value();
    auto* h = net.AddHost("client").value();
    Service service(*s, ServiceOptions{});
    EXPECT_TRUE(service.Listen(sim::Address{"service", 80}).ok());
    auth::ConnectionString cs;
    cs.scheme = "http";
    cs.host = "service";
    cs.port = 80;
    cs.access_key = std::string(kDefaultAccessKey);
    auth::ClientTokenOptions o;
    o.roles = kPubSubRoles;
    o.issued_at = h->UnixNow() / sim::kSecond;
    o.expires_at = o.issued_at + 3600;
    o.client_type = auth::ClientType::kMqtt;
    MqttClientOptions mo;
    mo.service = sim::Address{"service", 80};
    mo.access_token = auth::BuildClientToken(cs, "hub", o);
    mo.connect.client_id = "";
    mo.connect.keep_alive = 30;
    MqttClient c(*h, "c", mo);
    c.Connect();
    EXPECT_TRUE(net.RunFor(sim::kSecond).ok());
    return c.client_id();
  };
  const std::string a = run();
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, run());
}

// [MQTT-3.3.2-6]: the Message Expiry Interval sent is the received value minus the time the
// message waited in the service (here: queued for an offline persistent session).
TEST_F(MqttSim, MessageExpiryIsReducedByTheTimeTheMessageWaitedInTheQueue) {
  MqttClient& sub = Mqtt("sub");
  sub.options().connect.clean_start = false;
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 1).ok());
  Run();
  sub.Kill();
  Run();
  MqttClient& pub = Mqtt("pub");
  Up(pub);
  MqttPublishOptions p = Pub("t", "waited", 1);
  p.properties.message_expiry_interval = 60;
  ASSERT_TRUE(pub.Publish(p).ok());
  Run(20 * sim::kSecond);
  Up(sub);
  auto got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0]->mqtt->properties.message_expiry_interval.has_value());
  const uint32_t left = *got[0]->mqtt->properties.message_expiry_interval;
  EXPECT_LE(left, 40u);  // waited at least the 20 s run
  EXPECT_GE(left, 35u);  // and at most the reconnect's few seconds more
}

// REST messageTtlSeconds (PROTOCOL.md §11.2) drops a message the service still holds for an
// offline MQTT session once the TTL has passed; within it, the remaining TTL is the expiry.
TEST_F(MqttSim, RestMessageTtlDropsMessagesQueuedLongerThanTheTtl) {
  MqttClient& sub = Mqtt("sub");
  sub.options().connect.clean_start = false;
  Up(sub);
  ASSERT_TRUE(sub.Subscribe("t", 1).ok());
  Run();
  sub.Kill();
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/t/:send?messageTtlSeconds=2", "text/plain", "short",
              "short");
  Rest().Call("POST", "/api/hubs/hub/groups/t/:send?messageTtlSeconds=300", "text/plain", "long",
              "long");
  Run(5 * sim::kSecond);
  Up(sub);
  auto got = Of(sub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload.data.view(), "long");
  ASSERT_TRUE(got[0]->mqtt->properties.message_expiry_interval.has_value());
  EXPECT_LT(*got[0]->mqtt->properties.message_expiry_interval, 300u);
}

}  // namespace
}  // namespace wpsim::service
