// MQTT in the reference service, end to end in simulation: the seed 000 quickstarts and
// interop with JSON clients, upgrade and CONNECT validation, keep-alive.
// The fixture: tests/service/mqtt_sim_fixture.h (docs/mqtt-conformance.md maps statements to
// tests).
#include "tests/service/mqtt_sim_fixture.h"

namespace wpsim::service::testing {
namespace {

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

}  // namespace
}  // namespace wpsim::service::testing
