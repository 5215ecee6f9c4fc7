// MQTT 5.0 properties in the reference service, in simulation: subscription identifiers,
// forwarded properties, message expiry, No Local, maximum packet size, upstream events and
// determinism.
// The fixture: tests/service/mqtt_sim_fixture.h (docs/mqtt-conformance.md maps statements to
// tests).
#include "tests/service/mqtt_sim_fixture.h"

namespace wpsim::service::testing {
namespace {

// ---- 5.0 properties
// ------------------------------------------------------------------------------

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
  EXPECT_TRUE(Of(c, Observation::Kind::kGroupMessage)
                  .back()
                  ->mqtt->properties.subscription_identifiers.empty());
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
}  // namespace wpsim::service::testing
