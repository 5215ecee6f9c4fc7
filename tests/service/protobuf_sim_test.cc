// The protobuf subprotocols in the reference service (PROTOCOL.md §7), end to end in
// simulation: negotiation, acks, permissions, noEcho, reliable sequence ids, sequenceAck,
// recovery with replay, malformed input, and conversion to and from JSON, MQTT, REST and the
// event handler. The protobuf client is a raw WsClient offering the subprotocol; its binary
// frames are decoded with protocol/protobuf. docs/conformance.md maps the PB-00N case IDs here.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "clients/app_server.h"
#include "clients/mqtt_client.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/protobuf/messages.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_test_util.h"

namespace wpsim::service {
namespace {

using clients::AppServer;
using clients::AppServerReply;
using clients::MqttClient;
using clients::MqttClientOptions;
using clients::MqttPublishOptions;
using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
namespace wps = protocol::webpubsub;
namespace pb = protocol::protobuf;
namespace auth = protocol::auth;

const std::vector<std::string> kPubSubRoles = {"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};

class ProtobufSim : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.hubs["hub"].event_handlers = {
        {"http://app/api/{hub}/{event}", "*", {"connected", "disconnected"}}};
    service_host_ = net_.AddHost("service").value();
    client_host_ = net_.AddHost("client").value();
    app_host_ = net_.AddHost("app").value();
    clients::AppServerOptions app_options;
    app_options.access_keys = options_.access_keys;
    app_ = std::make_unique<AppServer>(*app_host_, "app", app_options);
    ASSERT_TRUE(app_->Listen().ok());
    service_ = std::make_unique<Service>(*service_host_, options_);
    if (getenv("WPSIM_DEBUG")) {
      service_->log = [](std::string_view l) {
        fprintf(stderr, "svc: %.*s\n", static_cast<int>(l.size()), l.data());
      };
    }
    ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(kDefaultAccessKey);
  }

  std::string Token(std::string user, std::vector<std::string> roles = kPubSubRoles,
                    auth::ClientType type = auth::ClientType::kDefault) {
    auth::ClientTokenOptions o;
    o.client_type = type;
    o.user_id = std::move(user);
    if (!roles.empty()) o.roles = roles;
    o.issued_at = client_host_->UnixNow() / sim::kSecond;
    o.expires_at = o.issued_at + 3600;
    return auth::BuildClientToken(cs_, "hub", o);
  }

  WsClient& Ws(std::string name, WsClientKind kind, std::string token,
               std::optional<std::vector<std::string>> subprotocols = std::nullopt,
               std::string extra_query = {}) {
    WsClientOptions o;
    o.kind = kind;
    o.service = sim::Address{"service", 80};
    o.hub = "hub";
    o.access_token = std::move(token);
    o.subprotocols = std::move(subprotocols);
    o.extra_query = std::move(extra_query);
    ws_.push_back(std::make_unique<WsClient>(*client_host_, std::move(name), o));
    return *ws_.back();
  }
  // A protobuf client: raw frames, the subprotocol offered.
  WsClient& Pb(std::string name, std::vector<std::string> roles = kPubSubRoles,
               std::string_view subprotocol = pb::kProtobufSubprotocol) {
    return Ws(name, WsClientKind::kRaw, Token(name, roles), {{std::string(subprotocol)}});
  }
  WsClient& Json(std::string name, std::vector<std::string> roles = kPubSubRoles) {
    return Ws(name, WsClientKind::kJson, Token(name, roles));
  }
  MqttClient& Mqtt(std::string client_id) {
    MqttClientOptions o;
    o.service = sim::Address{"service", 80};
    o.access_token = Token(client_id, kPubSubRoles, auth::ClientType::kMqtt);
    o.connect.client_id = client_id;
    o.connect.clean_start = true;
    o.connect.keep_alive = 60;
    mqtt_.push_back(std::make_unique<MqttClient>(*client_host_, client_id, std::move(o)));
    return *mqtt_.back();
  }
  clients::RestClient& Rest() {
    if (!rest_) {
      clients::RestClientOptions o;
      o.service = sim::Address{"service", 80};
      o.connection_string = cs_;
      rest_ = std::make_unique<clients::RestClient>(*client_host_, "rest", o);
    }
    return *rest_;
  }

  void Run(sim::Nanos duration = sim::kSecond) { testing::RunNetwork(net_, duration); }

  static void Send(WsClient& c, const SharedBytes& message) {
    ASSERT_TRUE(c.SendRawBinary(message.span()).ok());
  }
  // Every DownstreamMessage the client received, decoded, in order.
  static std::vector<wps::ServiceMessage> Received(const WsClient& c) {
    std::vector<wps::ServiceMessage> out;
    for (const Observation* o : testing::ObservationsOf(c, Observation::Kind::kRawMessage)) {
      EXPECT_EQ(o->payload.type, wps::DataType::kBinary) << "protobuf arrives in binary frames";
      auto m = pb::DecodeDownstreamMessage(o->payload.data.span());
      EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
      if (m.ok()) out.push_back(std::move(*m));
    }
    return out;
  }
  template <typename T>
  static std::vector<T> ReceivedOf(const WsClient& c) {
    std::vector<T> out;
    for (wps::ServiceMessage& m : Received(c)) {
      if (auto* t = std::get_if<T>(&m)) out.push_back(std::move(*t));
    }
    return out;
  }
  static const Observation* Closed(const WsClient& c) {
    auto closed = testing::ObservationsOf(c, Observation::Kind::kClosed);
    return closed.empty() ? nullptr : closed.back();
  }

  ServiceOptions options_;
  sim::SimNetwork net_;
  sim::SimRuntime* service_host_ = nullptr;
  sim::SimRuntime* client_host_ = nullptr;
  sim::SimRuntime* app_host_ = nullptr;
  std::unique_ptr<AppServer> app_;
  std::unique_ptr<Service> service_;
  auth::ConnectionString cs_;
  std::vector<std::unique_ptr<WsClient>> ws_;
  std::vector<std::unique_ptr<MqttClient>> mqtt_;
  std::unique_ptr<clients::RestClient> rest_;
};

// PB-001
TEST_F(ProtobufSim, ProtobufOfferIsNegotiatedAndGreetedWithAProtobufConnectedMessage) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  auto opened = testing::ObservationsOf(c, Observation::Kind::kOpened);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0]->subprotocol, "protobuf.webpubsub.azure.v1");
  auto connected = ReceivedOf<wps::ConnectedMessage>(c);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0].user_id, std::optional<std::string>("alice"));
  EXPECT_EQ(connected[0].connection_id.size(), 32u);
  EXPECT_FALSE(connected[0].reconnection_token.has_value());
  // The event handler sees the negotiated subprotocol.
  auto posts = app_->RequestsFor("connected");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]->Header("ce-subprotocol"), "protobuf.webpubsub.azure.v1");
}

// PB-001
TEST_F(ProtobufSim, ReliableProtobufGetsAReconnectionToken) {
  WsClient& c = Pb("alice", kPubSubRoles, pb::kReliableProtobufSubprotocol);
  c.Connect();
  Run();
  auto connected = ReceivedOf<wps::ConnectedMessage>(c);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_TRUE(connected[0].reconnection_token.has_value());
  EXPECT_FALSE(connected[0].reconnection_token->empty());
}

// PB-001
TEST_F(ProtobufSim, FirstSupportedOfferedSubprotocolWinsAcrossFamilies) {
  WsClient& c = Ws("c", WsClientKind::kRaw, Token("c"),
                   std::vector<std::string>{"custom.v1", "protobuf.reliable.webpubsub.azure.v1",
                                            "json.webpubsub.azure.v1"});
  c.Connect();
  Run();
  auto opened = testing::ObservationsOf(c, Observation::Kind::kOpened);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0]->subprotocol, "protobuf.reliable.webpubsub.azure.v1");
}

// PB-002
TEST_F(ProtobufSim, JoinAndSendAreAckedAndARepeatedAckIdIsDuplicate) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  Send(c, pb::EncodeJoinGroupRequest("g", 1));
  Send(c, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("hi"), 2, false));
  Send(c, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("again"), 2, false));
  Run();
  auto acks = ReceivedOf<wps::AckMessage>(c);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0], (wps::AckMessage{1, true, std::nullopt}));
  EXPECT_EQ(acks[1], (wps::AckMessage{2, true, std::nullopt}));
  EXPECT_EQ(acks[2].ack_id, 2u);
  EXPECT_FALSE(acks[2].success);
  EXPECT_EQ(acks[2].error->name, "Duplicate");
  // The duplicate was not delivered again (the sender is in the group, no noEcho).
  auto messages = ReceivedOf<wps::GroupDataMessage>(c);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload, wps::Payload::Text("hi"));
}

// PB-002
TEST_F(ProtobufSim, SendWithoutPermissionFailsTheAckWithForbidden) {
  WsClient& c = Pb("alice", {"webpubsub.joinLeaveGroup"});
  c.Connect();
  Run();
  Send(c, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("hi"), 5, false));
  Send(c, pb::EncodeJoinGroupRequest("g", 6));
  Run();
  auto acks = ReceivedOf<wps::AckMessage>(c);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_FALSE(acks[0].success);
  EXPECT_EQ(acks[0].error->name, "Forbidden");
  EXPECT_TRUE(acks[1].success);
}

// PB-002
TEST_F(ProtobufSim, RequestsWithoutAckIdAreFireAndForget) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  Send(c, pb::EncodeJoinGroupRequest("g", std::nullopt));
  Send(c, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("hi"), std::nullopt, false));
  Run();
  EXPECT_TRUE(ReceivedOf<wps::AckMessage>(c).empty());
  EXPECT_EQ(ReceivedOf<wps::GroupDataMessage>(c).size(), 1u);
}

// PB-002
TEST_F(ProtobufSim, NoEchoKeepsTheSendersOwnMessageAway) {
  WsClient& a = Pb("a");
  WsClient& b = Pb("b");
  a.Connect();
  b.Connect();
  Run();
  Send(a, pb::EncodeJoinGroupRequest("g", 1));
  Send(b, pb::EncodeJoinGroupRequest("g", 1));
  Run();
  Send(a, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("quiet"), 2, true));
  Send(a, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("loud"), 3, false));
  Run();
  auto at_a = ReceivedOf<wps::GroupDataMessage>(a);
  auto at_b = ReceivedOf<wps::GroupDataMessage>(b);
  ASSERT_EQ(at_a.size(), 1u);
  EXPECT_EQ(at_a[0].payload, wps::Payload::Text("loud"));
  ASSERT_EQ(at_b.size(), 2u);
  EXPECT_EQ(at_b[0].payload, wps::Payload::Text("quiet"));
  EXPECT_EQ(at_b[0].group, "g");
  EXPECT_FALSE(at_b[0].from_user_id.has_value());  // protobuf has no fromUserId
}

// PB-002
TEST_F(ProtobufSim, PingIsAnsweredWithPong) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  Send(c, pb::EncodePingRequest());
  Run();
  EXPECT_EQ(ReceivedOf<wps::PongMessage>(c).size(), 1u);
}

// PB-003
TEST_F(ProtobufSim, MalformedUpstreamMessageClosesWith1007) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  const uint8_t truncated[] = {0x32, 0x05, 0x0a};
  ASSERT_TRUE(c.SendRawBinary(truncated).ok());
  Run();
  const Observation* closed = Closed(c);
  ASSERT_NE(closed, nullptr);
  EXPECT_EQ(closed->close_code, 1007);
  EXPECT_EQ(closed->text, "The client message is not a valid protobuf protocol message.");
}

// PB-003
TEST_F(ProtobufSim, TextFrameOnAProtobufConnectionClosesWith1003) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  ASSERT_TRUE(c.SendRawText("{\"type\":\"joinGroup\",\"group\":\"g\"}").ok());
  Run();
  const Observation* closed = Closed(c);
  ASSERT_NE(closed, nullptr);
  EXPECT_EQ(closed->close_code, 1003);
}

// PB-003
// PB-006: a protobuf publisher runs the whole stream life cycle; JSON and protobuf subscribers
// see the stream info, MQTT subscribers the fragments as messages.
TEST_F(ProtobufSim, ProtobufPublisherStreamsToJsonProtobufAndMqttSubscribers) {
  WsClient& pub = Pb("pub");
  WsClient& json = Json("json");
  WsClient& psub = Pb("psub");
  MqttClient& mqtt = Mqtt("mqtt1");
  for (WsClient* c : {&pub, &json, &psub}) c->Connect();
  mqtt.Connect();
  Run();
  ASSERT_TRUE(json.JoinGroup("g", 1).ok());
  Send(psub, pb::EncodeJoinGroupRequest("g", 1));
  ASSERT_TRUE(mqtt.Subscribe("g", 1).ok());
  Run();
  Send(pub, pb::EncodeStreamStartRequest(
                wps::StreamStartRequest{"g", "s1", 60000, std::nullopt, false}));
  Run();
  Send(pub, pb::EncodeStreamDataRequest(wps::StreamDataRequest{"s1", 1, wps::Payload::Text("a")}));
  Send(pub, pb::EncodeStreamDataRequest(wps::StreamDataRequest{"s1", std::nullopt, std::nullopt}));
  Send(pub, pb::EncodeStreamDataRequest(wps::StreamDataRequest{"s1", 3, wps::Payload::Text("c")}));
  Send(pub, pb::EncodeStreamDataRequest(wps::StreamDataRequest{"s1", 1, wps::Payload::Text("a")}));
  Send(pub, pb::EncodeStreamDataRequest(wps::StreamDataRequest{"s1", 2, wps::Payload::Text("b")}));
  Send(pub, pb::EncodeStreamEndRequest(wps::StreamEndRequest{"s1", wps::StreamEndError{"m", "c"}}));
  Run();
  // The publisher: streamAck 1, 2, nack (3 > 2), re-ack 2 (duplicate 1), ack 3, streamClosed.
  std::vector<std::string> answers;
  for (const wps::ServiceMessage& m : Received(pub)) {
    if (auto* a = std::get_if<wps::StreamAckMessage>(&m)) {
      answers.push_back("ack " + std::to_string(a->expected_sequence_id));
    } else if (auto* n = std::get_if<wps::StreamNackMessage>(&m)) {
      answers.push_back(n->name + " " + std::to_string(n->expected_sequence_id));
    } else if (auto* c = std::get_if<wps::StreamClosedMessage>(&m)) {
      answers.push_back(c->error ? "closed " + c->error->name : "closed");
    }
  }
  EXPECT_EQ(answers, (std::vector<std::string>{"ack 1", "ack 2", "InvalidSequenceId 2", "ack 2",
                                               "ack 3", "closed"}));
  // A protobuf subscriber: fragments 1 and 2 with stream info, then the terminal message.
  auto at_pb = ReceivedOf<wps::GroupDataMessage>(psub);
  ASSERT_EQ(at_pb.size(), 3u);
  EXPECT_EQ(at_pb[0].payload, wps::Payload::Text("a"));
  EXPECT_EQ(at_pb[0].stream,
            (std::optional<wps::StreamInfo>(wps::StreamInfo{"s1", 1, false, std::nullopt})));
  EXPECT_EQ(at_pb[1].payload, wps::Payload::Text("b"));
  EXPECT_EQ(at_pb[2].stream, (std::optional<wps::StreamInfo>(wps::StreamInfo{
                                 "s1", 3, true, wps::StreamDataError{"UserError", "m", "c"}})));
  // A JSON subscriber sees the same stream, with fromUserId.
  auto at_json = testing::ObservationsOf(json, Observation::Kind::kGroupMessage);
  ASSERT_EQ(at_json.size(), 3u);
  EXPECT_EQ(at_json[0]->stream_id, "s1");
  EXPECT_EQ(at_json[0]->from_user_id, std::optional<std::string>("pub"));
  EXPECT_EQ(at_json[1]->stream_sequence_id, std::optional<uint64_t>(2));
  EXPECT_TRUE(at_json[2]->end_of_stream);
  EXPECT_EQ(at_json[2]->user_error_code, "c");
  // MQTT: the two fragments as ordinary messages, no terminal message.
  std::vector<std::string> at_mqtt;
  for (const Observation& o : mqtt.observations()) {
    if (o.mqtt && o.mqtt->packet == "publish") at_mqtt.emplace_back(o.payload.data.view());
  }
  EXPECT_EQ(at_mqtt, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Closed(pub), nullptr);
}

// PB-006: a JSON publisher's stream reaches a reliable protobuf subscriber with sequence ids;
// refusals are protobuf streamClosed messages; malformed stream messages close with 1007.
TEST_F(ProtobufSim, JsonStreamsReachReliableProtobufAndRefusalsAreProtobufStreamClosed) {
  WsClient& json = Json("json");
  WsClient& rel = Pb("rel", kPubSubRoles, pb::kReliableProtobufSubprotocol);
  WsClient& reader = Pb("reader", {"webpubsub.joinLeaveGroup"});
  WsClient& bad = Pb("bad");
  for (WsClient* c : {&json, &rel, &reader, &bad}) c->Connect();
  Run();
  Send(rel, pb::EncodeJoinGroupRequest("g", 1));
  Run();
  ASSERT_TRUE(json.StreamStart(wps::StreamStartRequest{"g", "j", 60000, std::nullopt, false}).ok());
  Run();
  ASSERT_TRUE(
      json.StreamData(wps::StreamDataRequest{"j", 1, wps::Payload::Json("{\"n\":1}")}).ok());
  ASSERT_TRUE(json.StreamEnd(wps::StreamEndRequest{"j", std::nullopt}).ok());
  Run();
  auto at_rel = ReceivedOf<wps::GroupDataMessage>(rel);
  ASSERT_EQ(at_rel.size(), 2u);
  EXPECT_EQ(at_rel[0].sequence_id, std::optional<uint64_t>(1));
  EXPECT_EQ(at_rel[0].payload, wps::Payload::Text("{\"n\":1}"));  // json as text_data
  EXPECT_EQ(at_rel[1].sequence_id, std::optional<uint64_t>(2));
  EXPECT_EQ(at_rel[1].stream,
            (std::optional<wps::StreamInfo>(wps::StreamInfo{"j", 2, true, std::nullopt})));
  // Refusals: no role for the group (Forbidden), an unknown stream (StreamNotFound).
  Send(reader,
       pb::EncodeStreamStartRequest(wps::StreamStartRequest{"g", "r", 1000, std::nullopt, false}));
  Send(reader,
       pb::EncodeStreamDataRequest(wps::StreamDataRequest{"nope", 1, wps::Payload::Text("x")}));
  Run();
  auto closed = ReceivedOf<wps::StreamClosedMessage>(reader);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].stream_id, "r");
  EXPECT_EQ(closed[0].error->name, "Forbidden");
  EXPECT_EQ(closed[1].error->name, "StreamNotFound");
  EXPECT_EQ(Closed(reader), nullptr);
  // A stream start with data is malformed: 1007.
  const std::vector<uint8_t> start_with_data = {0x0a, 0x0e, 0x0a, 0x01, 'g',  0x1a, 0x03, 0x0a,
                                                0x01, 'x',  0x3a, 0x04, 0x0a, 0x02, 's',  '1'};
  ASSERT_TRUE(bad.SendRawBinary(start_with_data).ok());
  Run();
  ASSERT_NE(Closed(bad), nullptr);
  EXPECT_EQ(Closed(bad)->close_code, 1007);
}

// META-001, META-002, META-005: metadata and ttlSeconds over protobuf, to and from JSON.
TEST_F(ProtobufSim, MetadataTravelsBetweenProtobufAndJsonClientsAndToTheHandler) {
  WsClient& pub = Pb("pub");
  WsClient& psub = Pb("psub");
  WsClient& json = Json("json");
  for (WsClient* c : {&pub, &psub, &json}) c->Connect();
  Run();
  Send(psub, pb::EncodeJoinGroupRequest("g", 1));
  ASSERT_TRUE(json.JoinGroup("g", 1).ok());
  Run();
  wps::Payload with = wps::Payload::Text("hi");
  with.metadata = {{"Trace", "1"}};
  Send(pub, pb::EncodeSendToGroupRequest("g", with, 1, false, 30));
  Run();
  wps::Payload from_json = wps::Payload::Json("2");
  from_json.metadata = {{"k", "v"}};
  ASSERT_TRUE(json.SendToGroup("g", from_json, 2, false).ok());
  Run();
  auto at_json = testing::ObservationsOf(json, Observation::Kind::kGroupMessage);
  ASSERT_EQ(at_json.size(), 2u);
  EXPECT_EQ(at_json[0]->payload, with);
  auto at_pb = ReceivedOf<wps::GroupDataMessage>(psub);
  ASSERT_EQ(at_pb.size(), 2u);
  EXPECT_EQ(at_pb[0].payload, with);
  wps::Payload as_text = wps::Payload::Text("2");
  as_text.metadata = {{"k", "v"}};
  EXPECT_EQ(at_pb[1].payload, as_text);
  // An event's metadata becomes x-webpubsub-metadata-* headers.
  app_->Enqueue("e", AppServerReply::Reply("", "text/plain"));
  wps::Payload event = wps::Payload::Text("x");
  event.metadata = {{"Span", "a"}, {"SPAN", "b"}, {"other", "c"}};
  Send(pub, pb::EncodeEventRequest("e", event, 3));
  Run();
  auto posts = app_->RequestsFor("e");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]->Header("x-webpubsub-metadata-span"), "b");
  EXPECT_EQ(posts[0]->Header("x-webpubsub-metadata-other"), "c");
  // ttl_seconds 301 is a malformed request.
  const std::vector<uint8_t> ttl301 = {0x0a, 0x0b, 0x0a, 0x01, 'g',  0x1a, 0x03,
                                       0x0a, 0x01, 'x',  0x28, 0xad, 0x02};
  ASSERT_TRUE(pub.SendRawBinary(ttl301).ok());
  Run();
  ASSERT_NE(Closed(pub), nullptr);
  EXPECT_EQ(Closed(pub)->close_code, 1007);
}

// STREAM-001 with --inject-bug drop-noecho: the stream fan-out ignores noEcho too. The
// publisher is the simulated protobuf client (WsClientKind::kProtobuf).
class ProtobufSimDropNoEcho : public ProtobufSim {
 protected:
  void SetUp() override {
    options_.bugs.insert(Bug::kDropNoEcho);
    ProtobufSim::SetUp();
  }
};

TEST_F(ProtobufSimDropNoEcho, DropNoEchoBugReachesTheStreamFanout) {
  WsClient& pub = Ws("pub", WsClientKind::kProtobuf, Token("pub"));
  pub.Connect();
  Run();
  ASSERT_EQ(testing::ObservationsOf(pub, Observation::Kind::kConnected).size(), 1u);
  ASSERT_TRUE(pub.JoinGroup("g", 1).ok());
  Run();
  ASSERT_TRUE(pub.StreamStart(wps::StreamStartRequest{"g", "s", 60000, std::nullopt, true}).ok());
  Run();
  ASSERT_TRUE(pub.StreamData(wps::StreamDataRequest{"s", 1, wps::Payload::Text("echo")}).ok());
  Run();
  // With the bug the publisher's own fragment comes back despite noEcho.
  auto own = testing::ObservationsOf(pub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0]->stream_id, "s");
}

// PB-004: protobuf publisher → JSON, protobuf and MQTT subscribers.
TEST_F(ProtobufSim, ProtobufPayloadsReachJsonAndMqttSubscribersInTheirOwnFormats) {
  WsClient& pub = Pb("pub");
  WsClient& json = Json("json");
  MqttClient& mqtt = Mqtt("mqtt1");
  pub.Connect();
  json.Connect();
  mqtt.Connect();
  Run();
  ASSERT_TRUE(json.JoinGroup("g", 1).ok());
  ASSERT_TRUE(mqtt.Subscribe("g", 1).ok());
  Run();
  const std::vector<uint8_t> any = {0x0a, 0x01, 't', 0x12, 0x01, 0x07};  // Any{"t", 07}
  const uint8_t bytes[] = {0, 1, 2};
  Send(pub, pb::EncodeSendToGroupRequest("g", wps::Payload::Text("hello"), 1, false));
  Send(pub, pb::EncodeSendToGroupRequest("g", wps::Payload::Binary(bytes), 2, false));
  Send(pub, pb::EncodeSendToGroupRequest("g", wps::Payload::Protobuf(any), 3, false));
  Send(pub, pb::EncodeSendToGroupRequest("g", wps::Payload::Json("{\"a\":1}"), 4, false));
  Run();
  auto at_json = testing::ObservationsOf(json, Observation::Kind::kGroupMessage);
  ASSERT_EQ(at_json.size(), 4u);
  EXPECT_EQ(at_json[0]->payload, wps::Payload::Text("hello"));
  EXPECT_EQ(at_json[1]->payload, wps::Payload::Binary(bytes));
  EXPECT_EQ(at_json[2]->payload, wps::Payload::Protobuf(any));  // dataType protobuf, base64
  EXPECT_EQ(at_json[3]->payload, wps::Payload::Json("{\"a\":1}"));
  EXPECT_EQ(at_json[0]->from_user_id, std::optional<std::string>("pub"));
  std::vector<const Observation*> mqtt_publishes;
  for (const Observation& o : mqtt.observations()) {
    if (o.mqtt && o.mqtt->packet == "publish") mqtt_publishes.push_back(&o);
  }
  ASSERT_EQ(mqtt_publishes.size(), 4u);
  EXPECT_EQ(mqtt_publishes[0]->payload.data.view(), "hello");
  EXPECT_EQ(mqtt_publishes[0]->mqtt->properties.content_type,
            std::optional<std::string>("text/plain"));
  EXPECT_EQ(mqtt_publishes[2]->payload.data.view(), AsString(any));
  EXPECT_EQ(mqtt_publishes[2]->mqtt->properties.content_type,
            std::optional<std::string>("application/x-protobuf"));
}

// PB-004: JSON, MQTT and REST publishers → protobuf subscriber (REST takes no
// application/x-protobuf, PROTOCOL.md §11.3; a JSON client's dataType protobuf does).
TEST_F(ProtobufSim, JsonMqttAndRestPayloadsReachProtobufSubscribersAsMessageData) {
  WsClient& sub = Pb("sub");
  WsClient& json = Json("json");
  MqttClient& mqtt = Mqtt("mqtt1");
  sub.Connect();
  json.Connect();
  mqtt.Connect();
  Run();
  Send(sub, pb::EncodeJoinGroupRequest("g", 1));
  Run();
  ASSERT_TRUE(json.SendToGroup("g", wps::Payload::Json("{\"n\":1}"), 1, false).ok());
  Run();
  MqttPublishOptions publish;
  publish.topic = "g";
  publish.payload = MqttPublishOptions::Bytes("from-mqtt");
  publish.properties.content_type = "text/plain";
  ASSERT_TRUE(mqtt.Publish(publish).ok());
  Run();
  const std::string any("\x0a\x01t", 3);
  ASSERT_TRUE(json.SendToGroup("g", wps::Payload::Protobuf(AsBytes(any)), 2, false).ok());
  Rest().Call("POST", "/api/hubs/hub/:send", "application/octet-stream", std::string("\x00\x01", 2),
              "bin");
  Run();
  auto groups = ReceivedOf<wps::GroupDataMessage>(sub);
  ASSERT_EQ(groups.size(), 3u);
  // JSON reaches protobuf clients as text_data holding the JSON (docs rule).
  EXPECT_EQ(groups[0].payload, wps::Payload::Text("{\"n\":1}"));
  EXPECT_EQ(groups[1].payload, wps::Payload::Text("from-mqtt"));
  EXPECT_EQ(groups[2].payload, wps::Payload::Protobuf(AsBytes(any)));
  auto servers = ReceivedOf<wps::ServerDataMessage>(sub);
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].payload, wps::Payload::Binary(AsBytes(std::string("\x00\x01", 2))));
}

// PB-005: sequence ids, sequenceAck, recovery with replay in order.
TEST_F(ProtobufSim, ReliableProtobufNumbersMessagesAndReplaysUnackedOnesAfterRecovery) {
  WsClient& c = Pb("rel", kPubSubRoles, pb::kReliableProtobufSubprotocol);
  c.Connect();
  Run();
  auto connected = ReceivedOf<wps::ConnectedMessage>(c);
  ASSERT_EQ(connected.size(), 1u);
  Send(c, pb::EncodeJoinGroupRequest("g", 1));
  Run();
  for (const char* text : {"m1", "m2", "m3"}) {
    Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", text, text);
  }
  Run();
  auto first = ReceivedOf<wps::GroupDataMessage>(c);
  ASSERT_EQ(first.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(first[i].sequence_id, std::optional<uint64_t>(i + 1));
  // Ack the first, then lose the transport.
  Send(c, pb::EncodeSequenceAckRequest(1));
  Run();
  c.Kill();
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m4", "m4");
  Run();
  // Recover on a new transport with the connection id and token.
  const std::string query =
      "awps_connection_id=" + protocol::http::PercentEncode(connected[0].connection_id) +
      "&awps_reconnection_token=" + protocol::http::PercentEncode(*connected[0].reconnection_token);
  WsClient& again =
      Ws("again", WsClientKind::kRaw, "",
         std::vector<std::string>{std::string(pb::kReliableProtobufSubprotocol)}, query);
  again.Connect();
  Run();
  ASSERT_EQ(testing::ObservationsOf(again, Observation::Kind::kOpened).size(), 1u);
  EXPECT_EQ(Closed(again), nullptr);
  auto replayed = ReceivedOf<wps::GroupDataMessage>(again);
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed[0].sequence_id, std::optional<uint64_t>(2));
  EXPECT_EQ(replayed[0].payload, wps::Payload::Text("m2"));
  EXPECT_EQ(replayed[1].sequence_id, std::optional<uint64_t>(3));
  EXPECT_EQ(replayed[2].sequence_id, std::optional<uint64_t>(4));
  EXPECT_EQ(replayed[2].payload, wps::Payload::Text("m4"));
  // No second connected message after a recovery (the emulator's behaviour, §6.4).
  EXPECT_TRUE(ReceivedOf<wps::ConnectedMessage>(again).empty());
  // Groups survived: new traffic continues the numbering.
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "m5", "m5");
  Run();
  auto after = ReceivedOf<wps::GroupDataMessage>(again);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[3].sequence_id, std::optional<uint64_t>(5));
}

// PB-005
TEST_F(ProtobufSim, NonReliableProtobufMessagesCarryNoSequenceId) {
  WsClient& c = Pb("plain");
  c.Connect();
  Run();
  Send(c, pb::EncodeJoinGroupRequest("g", 1));
  Run();
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "x", "x");
  Run();
  auto messages = ReceivedOf<wps::GroupDataMessage>(c);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_FALSE(messages[0].sequence_id.has_value());
}

// PB-005
TEST_F(ProtobufSim, RecoveryWithTheWrongSubprotocolIsRefusedWith1008) {
  WsClient& c = Pb("rel", kPubSubRoles, pb::kReliableProtobufSubprotocol);
  c.Connect();
  Run();
  auto connected = ReceivedOf<wps::ConnectedMessage>(c);
  ASSERT_EQ(connected.size(), 1u);
  c.Kill();
  Run();
  const std::string query =
      "awps_connection_id=" + protocol::http::PercentEncode(connected[0].connection_id) +
      "&awps_reconnection_token=" + protocol::http::PercentEncode(*connected[0].reconnection_token);
  WsClient& json = Ws("json", WsClientKind::kRaw, "",
                      std::vector<std::string>{"json.reliable.webpubsub.azure.v1"}, query);
  json.Connect();
  Run();
  ASSERT_NE(Closed(json), nullptr);
  EXPECT_EQ(Closed(json)->close_code, 1008);
}

// PB-002: events go upstream with the payload's content type; the reply comes back
// as a protobuf server message before the ack.
TEST_F(ProtobufSim, EventsGoUpstreamWithTheirContentTypeAndRepliesComeBackAsProtobuf) {
  app_->Enqueue("e", AppServerReply::Reply("{\"ok\":true}", "application/json"));
  app_->Enqueue("e", AppServerReply::Reply("raw", "application/octet-stream"));
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  const std::vector<uint8_t> any = {0x0a, 0x01, 't'};
  Send(c, pb::EncodeEventRequest("e", wps::Payload::Protobuf(any), 1));
  Send(c, pb::EncodeEventRequest("e", wps::Payload::Text("hi"), 2));
  Run();
  auto posts = app_->RequestsFor("e");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]->Header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(posts[0]->body, AsString(any));
  EXPECT_EQ(posts[0]->Header("ce-subprotocol"), "protobuf.webpubsub.azure.v1");
  EXPECT_EQ(posts[1]->Header("Content-Type"), "text/plain");
  EXPECT_EQ(posts[1]->body, "hi");
  std::vector<wps::ServiceMessage> received = Received(c);
  std::vector<std::string> order;
  for (const wps::ServiceMessage& m : received) {
    if (const auto* s = std::get_if<wps::ServerDataMessage>(&m)) {
      order.push_back("server:" + std::string(s->payload.data.view()));
    } else if (const auto* a = std::get_if<wps::AckMessage>(&m)) {
      order.push_back("ack:" + std::to_string(a->ack_id));
    }
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"server:{\"ok\":true}", "ack:1", "server:raw", "ack:2"}));
}

// PB-002
TEST_F(ProtobufSim, RestCloseSendsAProtobufDisconnectedMessage) {
  WsClient& c = Pb("alice");
  c.Connect();
  Run();
  auto connected = ReceivedOf<wps::ConnectedMessage>(c);
  ASSERT_EQ(connected.size(), 1u);
  Rest().Call("DELETE", "/api/hubs/hub/connections/" + connected[0].connection_id + "?reason=bye",
              "", "", "close");
  Run();
  auto disconnected = ReceivedOf<wps::DisconnectedMessage>(c);
  ASSERT_EQ(disconnected.size(), 1u);
  EXPECT_EQ(disconnected[0].message, "bye");
}

// PB-001: the REST OData `protocol` identifier sees the protobuf subprotocol.
TEST_F(ProtobufSim, ODataProtocolFilterMatchesTheProtobufSubprotocol) {
  WsClient& p = Pb("p");
  WsClient& j = Json("j");
  p.Connect();
  j.Connect();
  Run();
  Rest().Call("POST",
              "/api/hubs/hub/:send?filter=" +
                  protocol::http::PercentEncode("protocol eq 'protobuf.webpubsub.azure.v1'"),
              "text/plain", "only-pb", "filtered");
  Run();
  EXPECT_EQ(ReceivedOf<wps::ServerDataMessage>(p).size(), 1u);
  EXPECT_TRUE(testing::ObservationsOf(j, Observation::Kind::kServerMessage).empty());
}

}  // namespace
}  // namespace wpsim::service
