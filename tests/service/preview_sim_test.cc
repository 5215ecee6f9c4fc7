// The client SDK 1.1 message families in the reference service, end to end in simulation:
// invocations (PROTOCOL.md §9.2) answered through the event handler, and group streams (§9.1)
// from a JSON publisher to subscribers of every kind. The JSON clients are raw
// WsClients offering a JSON subprotocol; their text frames are decoded with
// protocol/webpubsub's service-message decoder (the one simulated clients use).
// docs/conformance.md maps the INVOKE-00N and STREAM-00N case IDs here.
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
#include "protocol/http/url.h"
#include "protocol/protobuf/messages.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/webpubsub/service_messages.h"
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
using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;
namespace pb = protocol::protobuf;

const std::vector<std::string> kPubSubRoles = {"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};

class PreviewSim : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.hubs["hub"].event_handlers = {
        {"http://app/api/{hub}/{event}", "*", {"connected", "disconnected"}}};
    options_.upstream.request_timeout = 5 * sim::kSecond;
    options_.upstream.retry_delays = {};
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

  std::string Token(std::string user, std::vector<std::string> roles,
                    auth::ClientType type = auth::ClientType::kDefault) {
    auth::ClientTokenOptions o;
    o.client_type = type;
    o.user_id = std::move(user);
    if (!roles.empty()) o.roles = roles;
    o.issued_at = client_host_->UnixNow() / sim::kSecond;
    o.expires_at = o.issued_at + 3600;
    return auth::BuildClientToken(cs_, "hub", o);
  }

  // A JSON-subprotocol client whose frames the test decodes itself.
  WsClient& Json(std::string name, std::vector<std::string> roles = kPubSubRoles,
                 std::string_view subprotocol = wps::kJsonSubprotocol) {
    WsClientOptions o;
    o.kind = WsClientKind::kRaw;
    o.service = sim::Address{"service", 80};
    o.hub = "hub";
    o.access_token = Token(name, std::move(roles));
    o.subprotocols = std::vector<std::string>{std::string(subprotocol)};
    ws_.push_back(std::make_unique<WsClient>(*client_host_, std::move(name), o));
    ws_.back()->Connect();
    return *ws_.back();
  }

  MqttClient& Mqtt(std::string client_id) {
    MqttClientOptions o;
    o.service = sim::Address{"service", 80};
    o.access_token = Token(client_id, kPubSubRoles, auth::ClientType::kMqtt);
    o.connect.client_id = client_id;
    o.connect.clean_start = true;
    o.connect.keep_alive = 60;
    mqtt_.push_back(std::make_unique<MqttClient>(*client_host_, client_id, std::move(o)));
    mqtt_.back()->Connect();
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

  static void Send(WsClient& c, std::string_view text) { ASSERT_TRUE(c.SendRawText(text).ok()); }
  static void Send(WsClient& c, const SharedBytes& message) { Send(c, message.view()); }

  static std::vector<wps::ServiceMessage> Received(const WsClient& c) {
    std::vector<wps::ServiceMessage> out;
    for (const Observation* o : testing::ObservationsOf(c, Observation::Kind::kRawMessage)) {
      auto m = o->payload.type == wps::DataType::kBinary
                   ? pb::DecodeDownstreamMessage(o->payload.data.span())
                   : wps::DecodeServiceMessage(o->payload.data.view());
      EXPECT_TRUE(m.ok()) << o->payload.data.view();
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

wps::InvokeRequest Invoke(std::string id, std::string event,
                          std::optional<wps::Payload> payload = std::nullopt) {
  return wps::InvokeRequest{std::move(id), "event", std::move(event), std::move(payload)};
}

// ---- Invocation (INVOKE-*) ----------------------------------------------------------------

// INVOKE-001, INVOKE-002
TEST_F(PreviewSim, InvokeBecomesAUserEventAndItsAnswerTheInvokeResponse) {
  app_->Enqueue("calc", AppServerReply::Reply("{\"sum\":3}", "application/json"));
  app_->Enqueue("calc", AppServerReply::Reply("plain", "text/plain; charset=utf-8"));
  app_->Enqueue("calc", AppServerReply::Accept());
  WsClient& c = Json("alice");
  Run();
  Send(c, wps::EncodeInvokeRequest(Invoke("1", "calc", wps::Payload::Json("[1,2]"))));
  Send(c, wps::EncodeInvokeRequest(Invoke("2", "calc", wps::Payload::Text("hi"))));
  Send(c, wps::EncodeInvokeRequest(Invoke("3", "calc")));
  Run();
  auto posts = app_->RequestsFor("calc");
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0]->Header("ce-type"), "azure.webpubsub.user.calc");
  EXPECT_EQ(posts[0]->Header("ce-invocationId"), "1");
  EXPECT_EQ(posts[0]->Header("Content-Type"), "application/json");
  EXPECT_EQ(posts[0]->body, "[1,2]");
  EXPECT_EQ(posts[1]->Header("ce-invocationId"), "2");
  EXPECT_EQ(posts[1]->Header("Content-Type"), "text/plain");
  EXPECT_EQ(posts[1]->body, "hi");
  EXPECT_EQ(posts[2]->Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(posts[2]->body, "");
  auto responses = ReceivedOf<wps::InvokeResponseMessage>(c);
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0], (wps::InvokeResponseMessage{"1", true, wps::Payload::Json("{\"sum\":3}"),
                                                      std::nullopt}));
  EXPECT_EQ(responses[1],
            (wps::InvokeResponseMessage{"2", true, wps::Payload::Text("plain"), std::nullopt}));
  EXPECT_EQ(responses[2], (wps::InvokeResponseMessage{"3", true, std::nullopt, std::nullopt}));
  // Not a server message and not an ack: the reply is only the invokeResponse.
  EXPECT_TRUE(ReceivedOf<wps::ServerDataMessage>(c).empty());
  EXPECT_TRUE(ReceivedOf<wps::AckMessage>(c).empty());
}

// INVOKE-002: the invokeResponse of a reliable connection carries no sequenceId.
TEST_F(PreviewSim, InvokeResponseOnAReliableConnectionIsUnsequenced) {
  app_->Enqueue("calc", AppServerReply::Reply("ok"));
  WsClient& c = Json("alice", kPubSubRoles, wps::kReliableJsonSubprotocol);
  Run();
  Send(c, wps::EncodeInvokeRequest(Invoke("7", "calc", wps::Payload::Text("x"))));
  Run();
  auto frames = testing::ObservationsOf(c, Observation::Kind::kRawMessage);
  ASSERT_FALSE(frames.empty());
  const std::string last(frames.back()->payload.data.view());
  EXPECT_EQ(
      last,
      R"({"type":"invokeResponse","invocationId":"7","success":true,"dataType":"text","data":"ok"})");
}

// INVOKE-003
TEST_F(PreviewSim, FailedHandlerAnswersTheInvocationWithANamedError) {
  app_->Enqueue("calc", AppServerReply::Reject(400, "bad input"));
  app_->Enqueue("calc", AppServerReply::Reject(500, "boom"));
  app_->Enqueue("calc", AppServerReply::Timeout());
  WsClient& c = Json("alice");
  Run();
  Send(c, wps::EncodeInvokeRequest(Invoke("a", "calc", wps::Payload::Text("1"))));
  Send(c, wps::EncodeInvokeRequest(Invoke("b", "calc", wps::Payload::Text("2"))));
  Send(c, wps::EncodeInvokeRequest(Invoke("c", "calc", wps::Payload::Text("3"))));
  Run(10 * sim::kSecond);
  auto responses = ReceivedOf<wps::InvokeResponseMessage>(c);
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].invocation_id, "a");
  EXPECT_FALSE(responses[0].success);
  EXPECT_EQ(responses[0].error->name, "BadRequest");
  EXPECT_NE(responses[0].error->message.find("status 400: bad input"), std::string::npos)
      << responses[0].error->message;
  EXPECT_EQ(responses[1].error->name, "InternalServerError");
  EXPECT_NE(responses[1].error->message.find("status 500"), std::string::npos);
  EXPECT_EQ(responses[2].invocation_id, "c");
  EXPECT_EQ(responses[2].error->name, "Timeout");
  // The connection stays open through all of it.
  EXPECT_EQ(Closed(c), nullptr);
}

// INVOKE-004
TEST_F(PreviewSim, CancelledInvocationGetsNoResponseAndUnknownCancelIsIgnored) {
  app_->Enqueue("slow", AppServerReply::Reply("late").After(2 * sim::kSecond));
  app_->Enqueue("slow", AppServerReply::Reply("second"));
  WsClient& c = Json("alice");
  Run();
  Send(c, wps::EncodeInvokeRequest(Invoke("1", "slow", wps::Payload::Text("x"))));
  Run(sim::kSecond / 2);
  ASSERT_EQ(app_->RequestsFor("slow").size(), 1u);
  Send(c, wps::EncodeCancelInvocationRequest("1"));
  Send(c, wps::EncodeCancelInvocationRequest("never-issued"));
  // The id is free again once cancelled.
  Send(c, wps::EncodeInvokeRequest(Invoke("1", "slow", wps::Payload::Text("y"))));
  Run(5 * sim::kSecond);
  auto responses = ReceivedOf<wps::InvokeResponseMessage>(c);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].payload, wps::Payload::Text("second"));
  EXPECT_EQ(Closed(c), nullptr);
}

// INVOKE-005
TEST_F(PreviewSim, InvocationRefusalsAreAnsweredWithoutCallingTheHandler) {
  options_.hubs["hub"].event_handlers = {
      {"http://app/api/{hub}/{event}", "calc,slow", {"connected", "disconnected"}}};
  service_ = std::make_unique<Service>(*service_host_, options_);
  ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
  app_->Enqueue("slow", AppServerReply::Reply("done").After(2 * sim::kSecond));
  WsClient& c = Json("alice");
  Run();
  Send(c, wps::EncodeInvokeRequest(Invoke("1", "nohandler", wps::Payload::Text("x"))));
  Send(c, wps::EncodeInvokeRequest(wps::InvokeRequest{"2", "group", "", std::nullopt}));
  Send(c, wps::EncodeInvokeRequest(Invoke("3", "slow")));
  Send(c, wps::EncodeInvokeRequest(Invoke("3", "slow")));  // in use while the first is pending
  Run(5 * sim::kSecond);
  EXPECT_TRUE(app_->RequestsFor("nohandler").empty());
  EXPECT_EQ(app_->RequestsFor("slow").size(), 1u);
  auto responses = ReceivedOf<wps::InvokeResponseMessage>(c);
  ASSERT_EQ(responses.size(), 4u);
  EXPECT_EQ(responses[0].invocation_id, "1");
  EXPECT_EQ(responses[0].error->name, "InternalServerError");
  EXPECT_EQ(responses[0].error->message, "No event handler is configured for event 'nohandler'.");
  EXPECT_EQ(responses[1].invocation_id, "2");
  EXPECT_EQ(responses[1].error->name, "BadRequest");
  EXPECT_EQ(responses[1].error->message, "The invocation target 'group' is not supported.");
  EXPECT_EQ(responses[2].invocation_id, "3");
  EXPECT_EQ(responses[2].error->message, "The invocation id '3' is already in use.");
  EXPECT_EQ(responses[3],
            (wps::InvokeResponseMessage{"3", true, wps::Payload::Text("done"), std::nullopt}));
}

// INVOKE-006
TEST_F(PreviewSim, MalformedInvocationsCloseWith1007) {
  const char* bad[] = {
      R"({"type":"invoke","target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":"","target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":1,"target":"event","event":"e"})",
      R"({"type":"invoke","invocationId":"1","event":"e"})",
      R"({"type":"invoke","invocationId":"1","target":"event"})",
      R"({"type":"invoke","invocationId":"1","target":"event","event":"bad name"})",
      R"({"type":"invoke","invocationId":"1","target":"event","event":"e","dataType":"text"})",
      R"({"type":"cancelInvocation"})",
      R"({"type":"invokeResponse","invocationId":"1","success":true})",
  };
  std::vector<WsClient*> clients;
  for (size_t i = 0; i < std::size(bad); ++i) clients.push_back(&Json("c" + std::to_string(i)));
  Run();
  for (size_t i = 0; i < std::size(bad); ++i) Send(*clients[i], std::string_view(bad[i]));
  Run();
  for (size_t i = 0; i < std::size(bad); ++i) {
    const Observation* closed = Closed(*clients[i]);
    ASSERT_NE(closed, nullptr) << bad[i];
    EXPECT_EQ(closed->close_code, 1007) << bad[i];
  }
  EXPECT_TRUE(app_->RequestsFor("e").empty());
}

// ---- Group streams (STREAM-*) ---------------------------------------------------------------

wps::StreamStartRequest Start(std::string group, std::string id, uint64_t idle_ms = 300000,
                              bool no_echo = false) {
  return wps::StreamStartRequest{std::move(group), std::move(id), idle_ms, std::nullopt, no_echo};
}
SharedBytes Data(std::string id, uint64_t n, wps::Payload payload) {
  return wps::EncodeStreamDataRequest(wps::StreamDataRequest{std::move(id), n, std::move(payload)});
}
SharedBytes Keepalive(std::string id) {
  return wps::EncodeStreamDataRequest(
      wps::StreamDataRequest{std::move(id), std::nullopt, std::nullopt});
}
SharedBytes End(std::string id, std::optional<wps::StreamEndError> error = std::nullopt) {
  return wps::EncodeStreamEndRequest(wps::StreamEndRequest{std::move(id), std::move(error)});
}

// The publisher-side answers (streamAck/streamNack/streamClosed) as short strings, in order.
std::vector<std::string> StreamAnswers(const std::vector<wps::ServiceMessage>& received) {
  std::vector<std::string> out;
  for (const wps::ServiceMessage& m : received) {
    if (const auto* a = std::get_if<wps::StreamAckMessage>(&m)) {
      out.push_back("ack " + a->stream_id + " " + std::to_string(a->expected_sequence_id));
    } else if (const auto* n = std::get_if<wps::StreamNackMessage>(&m)) {
      out.push_back("nack " + n->stream_id + " " + n->name + " " +
                    std::to_string(n->expected_sequence_id));
    } else if (const auto* c = std::get_if<wps::StreamClosedMessage>(&m)) {
      out.push_back("closed " + c->stream_id + (c->error ? " " + c->error->name : ""));
    }
  }
  return out;
}

// STREAM-001, STREAM-006: the whole life cycle, seen by subscribers of every kind.
TEST_F(PreviewSim, StreamLifeCycleReachesSubscribersOfEveryKind) {
  WsClient& pub = Json("pub");
  WsClient& json = Json("json");
  WsClient& reliable = Json("reliable", kPubSubRoles, wps::kReliableJsonSubprotocol);
  WsClient& protobuf = Json("protobuf", kPubSubRoles, pb::kProtobufSubprotocol);
  MqttClient& mqtt = Mqtt("mqtt1");
  Run();
  Send(json, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Send(reliable, wps::EncodeJoinGroupRequest("g", std::nullopt));
  ASSERT_TRUE(protobuf.SendRawBinary(pb::EncodeJoinGroupRequest("g", std::nullopt).span()).ok());
  ASSERT_TRUE(mqtt.Subscribe("g", 1).ok());
  Run();
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "s1")));
  Send(pub, Data("s1", 1, wps::Payload::Text("a")));
  Send(pub, Data("s1", 2, wps::Payload::Json(R"({"x":1})")));
  Send(pub, Keepalive("s1"));
  Send(pub, End("s1"));
  Run();
  EXPECT_EQ(StreamAnswers(Received(pub)),
            (std::vector<std::string>{"ack s1 1", "ack s1 2", "ack s1 3", "closed s1"}));
  for (WsClient* c : {&json, &reliable}) {
    auto messages = ReceivedOf<wps::GroupDataMessage>(*c);
    ASSERT_EQ(messages.size(), 3u) << c->name();
    EXPECT_EQ(messages[0].payload, wps::Payload::Text("a"));
    EXPECT_EQ(messages[0].from_user_id, std::optional<std::string>("pub"));
    EXPECT_EQ(messages[0].stream, (wps::StreamInfo{"s1", 1, false, std::nullopt}));
    EXPECT_EQ(messages[1].payload, wps::Payload::Json(R"({"x":1})"));
    EXPECT_EQ(messages[1].stream, (wps::StreamInfo{"s1", 2, false, std::nullopt}));
    EXPECT_EQ(messages[2].stream, (wps::StreamInfo{"s1", 3, true, std::nullopt}));
    EXPECT_TRUE(messages[2].payload.data.empty());
  }
  // The connection-level sequenceId is independent of the stream's.
  auto sequenced = ReceivedOf<wps::GroupDataMessage>(reliable);
  EXPECT_EQ(sequenced[0].sequence_id, std::optional<uint64_t>(1));
  EXPECT_EQ(sequenced[2].sequence_id, std::optional<uint64_t>(3));
  EXPECT_FALSE(ReceivedOf<wps::GroupDataMessage>(json)[0].sequence_id.has_value());
  // Protobuf subscribers see the stream info (DataMessage.stream), the terminal message too;
  // MQTT subscribers see the fragments as ordinary messages, no terminal one.
  auto at_pb = ReceivedOf<wps::GroupDataMessage>(protobuf);
  ASSERT_EQ(at_pb.size(), 3u);
  EXPECT_EQ(at_pb[0].payload, wps::Payload::Text("a"));
  EXPECT_EQ(at_pb[0].stream, (wps::StreamInfo{"s1", 1, false, std::nullopt}));
  EXPECT_EQ(at_pb[1].payload, wps::Payload::Text(R"({"x":1})"));  // json as text_data
  EXPECT_EQ(at_pb[2].stream, (wps::StreamInfo{"s1", 3, true, std::nullopt}));
  std::vector<const Observation*> publishes;
  for (const Observation& o : mqtt.observations()) {
    if (o.mqtt && o.mqtt->packet == "publish") publishes.push_back(&o);
  }
  ASSERT_EQ(publishes.size(), 2u);
  EXPECT_EQ(publishes[0]->payload.data.view(), "a");
  EXPECT_EQ(publishes[1]->payload.data.view(), R"({"x":1})");
  EXPECT_EQ(publishes[1]->mqtt->properties.content_type,
            std::optional<std::string>("application/json"));
}

// STREAM-002
TEST_F(PreviewSim, StreamDuplicatesAreReackedAndGapsNacked) {
  WsClient& pub = Json("pub");
  WsClient& sub = Json("sub");
  Run();
  Send(sub, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Run();
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "s")));
  Send(pub, Data("s", 1, wps::Payload::Text("one")));
  Send(pub, Data("s", 1, wps::Payload::Text("one again")));
  Send(pub, Data("s", 3, wps::Payload::Text("three")));
  Send(pub, Data("s", 2, wps::Payload::Text("two")));
  Run();
  EXPECT_EQ(StreamAnswers(Received(pub)),
            (std::vector<std::string>{"ack s 1", "ack s 2", "ack s 2", "nack s InvalidSequenceId 2",
                                      "ack s 3"}));
  auto messages = ReceivedOf<wps::GroupDataMessage>(sub);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].payload, wps::Payload::Text("one"));
  EXPECT_EQ(messages[1].payload, wps::Payload::Text("two"));
  EXPECT_EQ(messages[1].stream->stream_sequence_id, 2u);
}

// STREAM-003
TEST_F(PreviewSim, IdleStreamsTimeOutAndKeepalivesKeepThemOpen) {
  WsClient& pub = Json("pub");
  WsClient& sub = Json("sub");
  Run();
  Send(sub, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Run();
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "idle", 1000)));
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "kept", 1000)));
  Send(pub, Data("idle", 1, wps::Payload::Text("x")));
  for (int i = 0; i < 6; ++i) {
    Run(sim::kSecond / 2);
    Send(pub, Keepalive("kept"));
  }
  EXPECT_EQ(StreamAnswers(Received(pub)),
            (std::vector<std::string>{"ack idle 1", "ack kept 1", "ack idle 2",
                                      "closed idle IdleTimeout"}));
  auto messages = ReceivedOf<wps::GroupDataMessage>(sub);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].stream->stream_id, "idle");
  EXPECT_TRUE(messages[1].stream->end_of_stream);
  EXPECT_EQ(messages[1].stream->stream_sequence_id, 2u);
  ASSERT_TRUE(messages[1].stream->error.has_value());
  EXPECT_EQ(messages[1].stream->error->name, "IdleTimeout");
  // "kept" is still open: it takes data.
  Send(pub, Data("kept", 1, wps::Payload::Text("still")));
  Run();
  EXPECT_EQ(StreamAnswers(Received(pub)).back(), "ack kept 2");
}

// STREAM-004
TEST_F(PreviewSim, StreamRefusalsAreAnsweredWithStreamClosed) {
  options_.limits.streams_per_connection_max = 2;
  service_ = std::make_unique<Service>(*service_host_, options_);
  ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
  WsClient& pub = Json("pub", {"webpubsub.sendToGroup.g"});
  Run();
  Send(pub, wps::EncodeStreamStartRequest(Start("other", "f")));  // no role for "other"
  Send(pub, Data("nope", 1, wps::Payload::Text("x")));
  Send(pub, End("nope"));
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "a")));
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "a")));  // already active
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "long", 3600001)));
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "b")));
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "c")));  // a third one
  Run();
  EXPECT_EQ(
      StreamAnswers(Received(pub)),
      (std::vector<std::string>{"closed f Forbidden", "closed nope StreamNotFound",
                                "closed nope StreamNotFound", "ack a 1", "closed a BadRequest",
                                "closed long BadRequest", "ack b 1", "closed c BadRequest"}));
  EXPECT_EQ(Closed(pub), nullptr);
}

// STREAM-004: malformed stream requests close the connection like any malformed request.
TEST_F(PreviewSim, MalformedStreamRequestsCloseWith1007) {
  const char* bad[] = {
      R"({"type":"sendToGroup","group":"g","stream":{"streamId":""}})",
      R"({"type":"sendToGroup","group":"g","stream":{"streamId":"s","idleTimeoutMs":0}})",
      R"({"type":"sendToGroup","group":"g","dataType":"text","data":"x","stream":{"streamId":"s"}})",
      R"({"type":"streamData","streamId":"s","streamSequenceId":0,"dataType":"text","data":"x"})",
      R"({"type":"streamData","streamId":"s","streamSequenceId":1})",
      R"({"type":"streamEnd"})",
  };
  std::vector<WsClient*> clients;
  for (size_t i = 0; i < std::size(bad); ++i) clients.push_back(&Json("c" + std::to_string(i)));
  Run();
  for (size_t i = 0; i < std::size(bad); ++i) Send(*clients[i], std::string_view(bad[i]));
  Run();
  for (size_t i = 0; i < std::size(bad); ++i) {
    const Observation* closed = Closed(*clients[i]);
    ASSERT_NE(closed, nullptr) << bad[i];
    EXPECT_EQ(closed->close_code, 1007) << bad[i];
  }
}

// STREAM-005
TEST_F(PreviewSim, StreamEndsWithUserErrorCancelledOrForbidden) {
  WsClient& pub = Json("pub");
  WsClient& quitter = Json("quitter");
  WsClient& sub = Json("sub");
  Run();
  Send(sub, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Run();
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "u")));
  Send(pub, End("u", wps::StreamEndError{"it broke", "E42"}));
  Send(quitter, wps::EncodeStreamStartRequest(Start("g", "q")));
  Send(quitter, Data("q", 1, wps::Payload::Text("bye")));
  Run();
  quitter.Close();
  Run();
  auto messages = ReceivedOf<wps::GroupDataMessage>(sub);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].stream,
            (wps::StreamInfo{"u", 1, true, wps::StreamDataError{"UserError", "it broke", "E42"}}));
  EXPECT_EQ(messages[1].stream->stream_id, "q");
  EXPECT_EQ(messages[2].stream->stream_id, "q");
  EXPECT_TRUE(messages[2].stream->end_of_stream);
  EXPECT_EQ(messages[2].stream->stream_sequence_id, 2u);
  EXPECT_EQ(messages[2].stream->error->name, "Cancelled");
  EXPECT_EQ(StreamAnswers(Received(pub)), (std::vector<std::string>{"ack u 1", "closed u"}));
}

// STREAM-001: noEcho keeps a publisher's own fragments away; without it the publisher, as a
// member, gets them too.
TEST_F(PreviewSim, StreamNoEchoKeepsThePublishersOwnFragmentsAway) {
  WsClient& quiet = Json("quiet");
  WsClient& loud = Json("loud");
  Run();
  Send(quiet, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Send(loud, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Run();
  Send(quiet, wps::EncodeStreamStartRequest(Start("g", "q", 300000, /*no_echo=*/true)));
  Send(quiet, Data("q", 1, wps::Payload::Text("from quiet")));
  Send(loud, wps::EncodeStreamStartRequest(Start("g", "l")));
  Send(loud, Data("l", 1, wps::Payload::Text("from loud")));
  Run();
  auto at_quiet = ReceivedOf<wps::GroupDataMessage>(quiet);
  ASSERT_EQ(at_quiet.size(), 1u);
  EXPECT_EQ(at_quiet[0].stream->stream_id, "l");
  EXPECT_EQ(ReceivedOf<wps::GroupDataMessage>(loud).size(), 2u);
}

// STREAM-005: a sendToGroup role revoked mid-stream ends the stream on its next fragment.
TEST_F(PreviewSim, RevokedRoleEndsTheStreamWithForbidden) {
  WsClient& pub = Json("pub", {"webpubsub.sendToGroup"});
  WsClient& sub = Json("sub");
  Run();
  Send(sub, wps::EncodeJoinGroupRequest("g", std::nullopt));
  Send(pub, wps::EncodeStreamStartRequest(Start("g", "s")));
  Send(pub, Data("s", 1, wps::Payload::Text("allowed")));
  Run();
  auto connected = ReceivedOf<wps::ConnectedMessage>(pub);
  ASSERT_EQ(connected.size(), 1u);
  Rest().Call("DELETE",
              "/api/hubs/hub/permissions/sendToGroup/connections/" + connected[0].connection_id +
                  "?targetName=g",
              "", "", "revoke");
  Run();
  Send(pub, Data("s", 2, wps::Payload::Text("refused")));
  Run();
  EXPECT_EQ(StreamAnswers(Received(pub)),
            (std::vector<std::string>{"ack s 1", "ack s 2", "closed s Forbidden"}));
  auto messages = ReceivedOf<wps::GroupDataMessage>(sub);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].payload, wps::Payload::Text("allowed"));
  EXPECT_TRUE(messages[1].stream->end_of_stream);
  EXPECT_EQ(messages[1].stream->stream_sequence_id, 2u);
  EXPECT_EQ(messages[1].stream->error->name, "Forbidden");
}

// ---- The simulated JSON client (clients/ws_client.h) ------------------------------------------

// The scenario steps' client: a kJson WsClient sends the SDK 1.1 requests and records the
// answers as observations of their own kinds, and stream info on group messages.
TEST_F(PreviewSim, SimulatedJsonClientObservesInvocationAndStreamAnswers) {
  app_->Enqueue("calc", AppServerReply::Reply("ok"));
  WsClientOptions o;
  o.kind = WsClientKind::kJson;
  o.service = sim::Address{"service", 80};
  o.access_token = Token("pub", kPubSubRoles);
  WsClient pub(*client_host_, "pub", o);
  pub.Connect();
  Run();
  ASSERT_TRUE(pub.JoinGroup("g", std::nullopt).ok());
  ASSERT_TRUE(pub.Invoke(Invoke("1", "calc", wps::Payload::Text("x"))).ok());
  ASSERT_TRUE(pub.StreamStart(Start("g", "s")).ok());
  ASSERT_TRUE(pub.StreamData({"s", 1, wps::Payload::Text("frag")}).ok());
  ASSERT_TRUE(pub.StreamData({"s", 3, wps::Payload::Text("gap")}).ok());
  ASSERT_TRUE(pub.StreamEnd({"s", wps::StreamEndError{"bye", "E1"}}).ok());
  ASSERT_TRUE(pub.StreamData({"s", 2, wps::Payload::Text("after")}).ok());
  ASSERT_TRUE(pub.CancelInvocation("unknown").ok());
  Run();
  auto invoked = testing::ObservationsOf(pub, Observation::Kind::kInvokeResponse);
  ASSERT_EQ(invoked.size(), 1u);
  EXPECT_EQ(invoked[0]->invocation_id, "1");
  EXPECT_TRUE(invoked[0]->success);
  EXPECT_EQ(invoked[0]->payload, wps::Payload::Text("ok"));
  auto acks = testing::ObservationsOf(pub, Observation::Kind::kStreamAck);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0]->stream_id, "s");
  EXPECT_EQ(acks[0]->expected_sequence_id, 1u);
  EXPECT_EQ(acks[1]->expected_sequence_id, 2u);
  auto nacks = testing::ObservationsOf(pub, Observation::Kind::kStreamNack);
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0]->error_name, "InvalidSequenceId");
  EXPECT_EQ(nacks[0]->expected_sequence_id, 2u);
  auto closed = testing::ObservationsOf(pub, Observation::Kind::kStreamClosed);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_TRUE(closed[0]->success);
  EXPECT_FALSE(closed[1]->success);
  EXPECT_EQ(closed[1]->error_name, "StreamNotFound");
  auto messages = testing::ObservationsOf(pub, Observation::Kind::kGroupMessage);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]->stream_id, "s");
  EXPECT_EQ(messages[0]->stream_sequence_id, std::optional<uint64_t>(1));
  EXPECT_FALSE(messages[0]->end_of_stream);
  EXPECT_EQ(messages[1]->stream_sequence_id, std::optional<uint64_t>(2));
  EXPECT_TRUE(messages[1]->end_of_stream);
  EXPECT_EQ(messages[1]->error_name, "UserError");
  EXPECT_EQ(messages[1]->text, "bye");
  EXPECT_EQ(messages[1]->user_error_code, "E1");
  EXPECT_TRUE(pub.open());
}

}  // namespace
// ---- Message metadata and TTL (PROTOCOL.md §9.4; docs/conformance.md META-*) ----

class MetadataSim : public PreviewSim {
 protected:
  WsClient& Client(std::string name, WsClientKind kind) {
    WsClientOptions o;
    o.kind = kind;
    o.service = sim::Address{"service", 80};
    o.hub = "hub";
    o.access_token = Token(name, kPubSubRoles);
    o.auto_sequence_ack = false;
    ws_.push_back(std::make_unique<WsClient>(*client_host_, std::move(name), o));
    ws_.back()->Connect();
    return *ws_.back();
  }
  static wps::Payload WithMetadata(wps::Payload p, wps::Metadata m) {
    p.metadata = std::move(m);
    return p;
  }
};

// META-001, META-006 (raw receivers: preview/message-metadata.yaml)
TEST_F(MetadataSim, GroupSendMetadataReachesJsonAndMqtt5ReceiversInTheirForm) {
  WsClient& pub = Client("pub", WsClientKind::kJson);
  WsClient& json = Client("json", WsClientKind::kJson);
  MqttClient& m5 = Mqtt("m5");
  Run();
  ASSERT_TRUE(json.JoinGroup("g", 1).ok());
  ASSERT_TRUE(m5.Subscribe("g", 1).ok());
  Run();
  const wps::Payload sent = WithMetadata(wps::Payload::Text("hi"), {{"b", "2"}, {"A", "1"}});
  ASSERT_TRUE(pub.SendToGroup("g", sent, 1, false).ok());
  Run();
  auto at_json = testing::ObservationsOf(json, Observation::Kind::kGroupMessage);
  ASSERT_EQ(at_json.size(), 1u);
  EXPECT_EQ(at_json[0]->payload, sent);
  const Observation* publish = nullptr;
  for (const Observation& o : m5.observations()) {
    if (o.mqtt && o.mqtt->packet == "publish") publish = &o;
  }
  ASSERT_NE(publish, nullptr);
  EXPECT_EQ(publish->mqtt->properties.user_properties,
            (std::vector<protocol::mqtt::UserProperty>{{"b", "2"}, {"A", "1"}}));
}

// META-003, META-004
TEST_F(MetadataSim, RestHeadersAndHandlerAnswersCarryMetadataAndBadOnesAreRefused) {
  WsClient& json = Client("json", WsClientKind::kJson);
  Run();
  ASSERT_TRUE(json.JoinGroup("g", 1).ok());
  Run();
  clients::RestCallOptions call;
  call.headers = {{"X-WebPubSub-Metadata-Origin", " api "},
                  {"x-webpubsub-metadata-ORIGIN", "last"}};
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "rest", "ok", nullptr, call);
  clients::RestCallOptions bad;
  bad.headers = {{"X-WebPubSub-Metadata-K", std::string(1025, 'v')}};
  Rest().Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "refused", "bad", nullptr, bad);
  Run();
  auto statuses = testing::ObservationsOf(Rest(), Observation::Kind::kHttpResponse);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0]->http_status, 202);
  EXPECT_EQ(statuses[1]->http_status, 400);
  EXPECT_NE(statuses[1]->text.find("exceeds 1024 bytes"), std::string::npos);
  auto got = testing::ObservationsOf(json, Observation::Kind::kGroupMessage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->payload, WithMetadata(wps::Payload::Text("rest"), {{"origin", "last"}}));
  // The handler's metadata headers come back on the server message; bad ones fail the ack.
  AppServerReply answer = AppServerReply::Reply("", "text/plain");
  answer.headers = {{"X-WebPubSub-Metadata-Result", "done"}};
  app_->Enqueue("e", answer);
  AppServerReply broken = AppServerReply::Reply("x", "text/plain");
  broken.headers = {{"X-WebPubSub-Metadata-bad key", "v"}};
  app_->Enqueue("e", broken);
  ASSERT_TRUE(json.SendEvent("e", wps::Payload::Text("1"), 2).ok());
  Run();
  ASSERT_TRUE(json.SendEvent("e", wps::Payload::Text("2"), 3).ok());
  Run();
  auto servers = testing::ObservationsOf(json, Observation::Kind::kServerMessage);
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0]->payload, WithMetadata(wps::Payload::Text(""), {{"result", "done"}}));
  auto acks = testing::ObservationsOf(json, Observation::Kind::kAck);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_TRUE(acks[1]->success);
  EXPECT_FALSE(acks[2]->success);
  EXPECT_EQ(acks[2]->error_name, "InternalServerError");
}

// META-005
TEST_F(MetadataSim, TtlSecondsDropsWhatWaitedTooLongForADetachedReliableClient) {
  WsClient& pub = Client("pub", WsClientKind::kJson);
  WsClientOptions o;
  o.kind = WsClientKind::kReliable;
  o.service = sim::Address{"service", 80};
  o.hub = "hub";
  o.access_token = Token("rel", kPubSubRoles);
  o.auto_recover = false;
  ws_.push_back(std::make_unique<WsClient>(*client_host_, "rel", o));
  WsClient& rel = *ws_.back();
  rel.Connect();
  Run();
  ASSERT_TRUE(rel.JoinGroup("g", 1).ok());
  Run();
  auto connected = testing::ObservationsOf(rel, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  const std::string id = connected[0]->connection_id;
  const std::string token = connected[0]->reconnection_token;
  rel.Kill();
  Run();
  ASSERT_TRUE(pub.SendToGroup("g", wps::Payload::Text("short"), 1, false, 1).ok());
  ASSERT_TRUE(pub.SendToGroup("g", wps::Payload::Text("long"), 2, false, 300).ok());
  ASSERT_TRUE(pub.SendToGroup("g", wps::Payload::Text("zero"), 3, false, 0).ok());
  Run(2 * sim::kSecond);
  // Recover 2 s later: "short" (1 s) expired while waiting; the replay skips it.
  o.access_token.clear();
  o.extra_query = "awps_connection_id=" + protocol::http::PercentEncode(id) +
                  "&awps_reconnection_token=" + protocol::http::PercentEncode(token);
  ws_.push_back(std::make_unique<WsClient>(*client_host_, "again", o));
  WsClient& again = *ws_.back();
  again.Connect();
  Run();
  std::vector<std::string> got;
  for (const Observation* m : testing::ObservationsOf(again, Observation::Kind::kGroupMessage)) {
    got.emplace_back(m->payload.data.view());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"long", "zero"}));
}

}  // namespace wpsim::service
