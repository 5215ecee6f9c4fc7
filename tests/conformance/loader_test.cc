// The loader turns every construct of the language into the right model, resolves references,
// and reports problems at the right file:line:column.
#include "conformance/loader.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conformance/real_environment.h"
#include "conformance/yaml_json.h"

namespace wpsim::conformance {
namespace {

// Four lines every test scenario starts with; line numbers in the tests count them.
const std::string kHeader =
    "name: t\n"
    "source: {seed: \"001\", section: S}\n"
    "description: d\n"
    "hub: h\n";

Scenario MustLoad(const std::string& body) {
  LoadResult r = LoadScenarioText(kHeader + body, "t.yaml");
  EXPECT_TRUE(r.ok()) << FormatDiagnostics(r.diagnostics);
  return r.ok() ? *r.scenario : Scenario{};
}

// All diagnostics as "line:column: message", one per line.
std::string Errors(const std::string& body) {
  LoadResult r = LoadScenarioText(kHeader + body, "t.yaml");
  EXPECT_FALSE(r.ok()) << "expected the scenario to be rejected";
  std::string out;
  for (const Diagnostic& d : r.diagnostics) {
    EXPECT_EQ(d.pos.file, "t.yaml");
    out += std::to_string(d.pos.line) + ":" + std::to_string(d.pos.column) + ": " + d.message + "\n";
  }
  return out;
}

std::string FirstError(const std::string& body) {
  std::string all = Errors(body);
  return all.substr(0, all.find('\n'));
}

TEST(ScenarioLoader, LoadsTheTopLevelFields) {
  LoadResult r = LoadScenarioText(
      "name: qs\n"
      "source: {seed: \"002\", section: Publish messages from client}\n"
      "description: many words\n"
      "tags: [quickstart, seed-002]\n"
      "hub: stream\n"
      "seed: 42\n"
      "targets: [sim, local]\n"
      "run: {step_timeout: 2s, settle: 100ms, time_limit: 30s, perturb: true}\n"
      "clients: {a: json}\n"
      "steps: [{connect: a}]\n",
      "qs.yaml");
  ASSERT_TRUE(r.ok()) << FormatDiagnostics(r.diagnostics);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.file, "qs.yaml");
  EXPECT_EQ(s.name, "qs");
  EXPECT_EQ(s.name_pos.line, 1);
  EXPECT_EQ(s.name_pos.column, 7);
  EXPECT_EQ(s.source.seed, "002");
  EXPECT_EQ(s.source.section, "Publish messages from client");
  EXPECT_EQ(s.description, "many words");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"quickstart", "seed-002"}));
  EXPECT_TRUE(s.HasTag("seed-002"));
  EXPECT_EQ(s.hub, "stream");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.targets, (std::vector<Target>{Target::kSim, Target::kLocal}));
  EXPECT_EQ(s.run.step_timeout_ns, 2 * kNanosPerSecond);
  EXPECT_EQ(s.run.settle_ns, 100 * kNanosPerMilli);
  EXPECT_EQ(s.run.time_limit_ns, 30 * kNanosPerSecond);
  EXPECT_TRUE(s.run.perturb);
  EXPECT_TRUE(RealTargetSkipReasons(s, true, 0).empty());
}

TEST(ScenarioLoader, ClientsKeepDocumentOrderAndCohortsFlattenIntoMembers) {
  Scenario s = MustLoad(
      "clients:\n"
      "  pub: {kind: json, user: alice, roles: [webpubsub.sendToGroup], groups: g1}\n"
      "  sub: {kind: websocket, count: 3, user: 'user{i}'}\n"
      "  server: rest\n"
      "  one: {kind: reliable, count: 1}\n"
      "steps: [{connect: [pub, sub]}]\n");
  ASSERT_EQ(s.clients.size(), 4u);
  EXPECT_EQ(s.clients[0].name, "pub");
  EXPECT_EQ(s.clients[0].kind, ClientKind::kJson);
  EXPECT_EQ(s.clients[0].user, "alice");
  EXPECT_EQ(s.clients[0].roles, (std::vector<std::string>{"webpubsub.sendToGroup"}));
  EXPECT_EQ(s.clients[0].groups, (std::vector<std::string>{"g1"}));
  EXPECT_EQ(s.clients[0].pos.line, 6);
  EXPECT_EQ(s.clients[1].kind, ClientKind::kWebSocket);
  EXPECT_TRUE(s.clients[1].is_cohort);
  EXPECT_EQ(s.clients[1].count, 3u);
  EXPECT_EQ(s.clients[1].first_member, 1u);
  EXPECT_EQ(s.clients[2].kind, ClientKind::kRest);
  EXPECT_TRUE(s.clients[3].is_cohort) << "count: 1 still makes a cohort named one[0]";
  ASSERT_EQ(s.members.size(), 6u);
  EXPECT_EQ(s.members[0].name, "pub");
  EXPECT_EQ(s.members[1].name, "sub[0]");
  EXPECT_EQ(s.members[3].name, "sub[2]");
  EXPECT_EQ(s.members[3].user, "user2");
  EXPECT_EQ(s.members[3].index, 2u);
  EXPECT_EQ(s.members[4].name, "server");
  EXPECT_EQ(s.members[5].name, "one[0]");
  EXPECT_EQ(s.ClientOf(2).name, "sub");
  EXPECT_EQ(s.FindClient("server"), 2u);
  const ConnectStep& c = s.steps[0].As<ConnectStep>();
  EXPECT_EQ(c.clients.members, (std::vector<uint32_t>{0, 1, 2, 3}));
}

TEST(ScenarioLoader, ClientReferencesResolveIndicesRangesListsAndAll) {
  Scenario s = MustLoad(
      "clients:\n"
      "  a: json\n"
      "  sub: {kind: json, count: 5}\n"
      "  api: rest\n"
      "steps:\n"
      "  - kill: sub[3]\n"
      "  - kill: sub[1..2]\n"
      "  - kill: [a, 'sub[4]', a]\n"
      "  - partition: all\n");
  EXPECT_EQ(s.steps[0].As<KillStep>().clients.members, (std::vector<uint32_t>{4}));
  EXPECT_EQ(s.steps[1].As<KillStep>().clients.members, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(s.steps[2].As<KillStep>().clients.members, (std::vector<uint32_t>{0, 5}))
      << "duplicates are dropped, order of appearance kept";
  EXPECT_EQ(s.steps[2].As<KillStep>().clients.text, "a, sub[4], a");
  const PartitionStep& p = s.steps[3].As<PartitionStep>();
  EXPECT_TRUE(p.all);
  EXPECT_FALSE(p.clients.has_value());
}

TEST(ScenarioLoader, TokenOptionsParseAsFaultShorthandOrMapping) {
  Scenario s = MustLoad(
      "clients:\n"
      "  a: {kind: json, token: expired}\n"
      "  b:\n"
      "    kind: json\n"
      "    token:\n"
      "      fault: wrong_audience\n"
      "      via: header\n"
      "      lifetime: 10m\n"
      "      audience: http://elsewhere/client/hubs/h\n"
      "      role_as_string: true\n"
      "      group_claim: group\n"
      "      claims: {custom: [x, y], n: 5}\n"
      "  api: {kind: rest, token: {fault: wrong_key, audience_form: without_query}, api_version: 2023-07-01}\n"
      "steps: [{connect: [a, b]}]\n");
  EXPECT_EQ(s.clients[0].token.fault, TokenFault::kExpired);
  const TokenOptions& t = s.clients[1].token;
  EXPECT_EQ(t.fault, TokenFault::kWrongAudience);
  EXPECT_EQ(t.via, TokenPlacement::kHeader);
  EXPECT_EQ(t.lifetime_ns, 10 * kNanosPerMinute);
  EXPECT_EQ(t.audience, "http://elsewhere/client/hubs/h");
  EXPECT_TRUE(t.role_as_string);
  EXPECT_EQ(t.group_claim, "group");
  ASSERT_EQ(t.claims.size(), 2u);
  EXPECT_EQ(t.claims[0].first, "custom");
  EXPECT_EQ(t.claims[0].second, nlohmann::json::parse(R"(["x","y"])"));
  EXPECT_EQ(t.claims[1].second, 5);
  EXPECT_EQ(s.clients[2].token.fault, TokenFault::kWrongKey);
  EXPECT_EQ(s.clients[2].token.rest_audience, RestAudienceForm::kWithoutQuery);
}

TEST(ScenarioLoader, MqttClientOptionsParse) {
  Scenario s = MustLoad(
      "clients:\n"
      "  m:\n"
      "    kind: mqtt5\n"
      "    roles: [webpubsub.sendToGroup, webpubsub.joinLeaveGroup]\n"
      "    client_id: client1\n"
      "    clean_start: false\n"
      "    session_expiry: 30s\n"
      "    keepalive: 60s\n"
      "    username: u\n"
      "    password: p\n"
      "    receive_maximum: 10\n"
      "    maximum_packet_size: 1MiB\n"
      "    topic_alias_maximum: 0\n"
      "    request_problem_information: true\n"
      "    user_properties: {a: '1', b: '2'}\n"
      "    will: {topic: lastwill, payload: bye, qos: 1, delay: 5s, content_type: text/plain}\n"
      "  old: {kind: mqtt311, keepalive: 180s, client_id: old1}\n"
      "steps: [{connect: [m, old]}]\n");
  const MqttOptions& o = s.clients[0].mqtt;
  EXPECT_EQ(o.client_id, "client1");
  EXPECT_FALSE(o.clean_start);
  EXPECT_EQ(o.session_expiry_s, 30u);
  EXPECT_EQ(o.keepalive_s, 60);
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "p");
  EXPECT_EQ(o.receive_maximum, 10);
  EXPECT_EQ(o.maximum_packet_size, 1024u * 1024);
  EXPECT_EQ(o.topic_alias_maximum, 0);
  EXPECT_EQ(o.request_problem_information, true);
  ASSERT_EQ(o.user_properties.size(), 2u);
  EXPECT_EQ(o.user_properties[1].name, "b");
  ASSERT_TRUE(o.will.has_value());
  EXPECT_EQ(o.will->topic, "lastwill");
  EXPECT_EQ(o.will->payload, "bye");
  EXPECT_EQ(o.will->qos, 1);
  EXPECT_EQ(o.will->delay_s, 5u);
  EXPECT_EQ(o.will->properties.content_type, "text/plain");
  EXPECT_EQ(s.clients[1].mqtt.keepalive_s, 180);
  EXPECT_TRUE(s.clients[1].mqtt.clean_start);
}

TEST(ScenarioLoader, RejectsKeysThatDoNotApplyToTheClientKind) {
  EXPECT_EQ(FirstError("clients:\n"
                       "  old: {kind: mqtt311, session_expiry: 30s}\n"
                       "steps: [{connect: old}]\n"),
            "6:24: key 'session_expiry' applies only to mqtt5 clients; 'old' is mqtt311");
  EXPECT_EQ(FirstError("clients:\n"
                       "  a: {kind: json, clean_start: true}\n"
                       "steps: [{connect: a}]\n"),
            "6:19: key 'clean_start' applies only to mqtt311 and mqtt5 clients; 'a' is json");
  EXPECT_EQ(FirstError("clients:\n"
                       "  api: {kind: rest, roles: [x]}\n"
                       "steps: [{rest: health}]\n"),
            "6:21: key 'roles' applies only to websocket, json, reliable and mqtt clients; 'api' is rest");
}

TEST(ScenarioLoader, StepsAreStoredInPreOrderWithChildrenAndLabels) {
  Scenario s = MustLoad(
      "clients: {a: json, b: json}\n"
      "steps:\n"
      "  - connect: [a, b]\n"
      "  - parallel:\n"
      "      - join: {client: a, group: g, ack: auto, as: ja}\n"
      "      - join: {client: b, group: g}\n"
      "        as: jb\n"
      "  - repeat:\n"
      "      count: 3\n"
      "      steps:\n"
      "        - send_to_group: {client: a, group: g, data: 'hi ${i}', data_type: text}\n"
      "        - wait: 10ms\n"
      "    as: loop\n"
      "  - barrier\n");
  ASSERT_EQ(s.steps.size(), 8u);
  for (uint32_t i = 0; i < s.steps.size(); ++i) EXPECT_EQ(s.steps[i].id, i);
  EXPECT_EQ(s.root_steps, (std::vector<uint32_t>{0, 1, 4, 7}));
  EXPECT_TRUE(s.steps[1].Is<ParallelStep>());
  EXPECT_EQ(s.steps[1].children, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(s.steps[2].parent, 1u);
  EXPECT_TRUE(s.steps[4].Is<RepeatStep>());
  EXPECT_EQ(s.steps[4].children, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(s.steps[4].As<RepeatStep>().count, 3u);
  EXPECT_EQ(s.steps[5].As<SendToGroupStep>().payload.data, "hi ${i}");
  EXPECT_TRUE(s.steps[7].Is<BarrierStep>());
  EXPECT_EQ(s.FindStep("ja"), 2u);
  EXPECT_EQ(s.FindStep("jb"), 3u);
  EXPECT_EQ(s.FindStep("loop"), 4u);
  EXPECT_EQ(s.steps[2].label, "ja");
  EXPECT_EQ(s.steps[2].pos.line, 9);
  EXPECT_EQ(s.steps[2].pos.column, 9);
}

TEST(ScenarioLoader, StepModifiersApplyInsideOrOutside) {
  Scenario s = MustLoad(
      "clients: {a: json}\n"
      "steps:\n"
      "  - connect: {client: a, timeout: 3s, async: true, as: c}\n"
      "  - ping: a\n"
      "    at: 2s\n"
      "    case: JSON-PING-001\n");
  EXPECT_EQ(s.steps[0].timeout_ns, 3 * kNanosPerSecond);
  EXPECT_TRUE(s.steps[0].async);
  EXPECT_EQ(s.steps[0].label, "c");
  EXPECT_EQ(s.steps[1].at_ns, 2 * kNanosPerSecond);
  EXPECT_EQ(s.steps[1].case_id, "JSON-PING-001");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps:\n"
                       "  - connect: {client: a, as: x}\n"
                       "    as: y\n"),
            "7:26: 'as' is given both outside and inside the step");
}

TEST(ScenarioLoader, BlockCaseIdsCoverTheInlineChecksOfTheirChildren) {
  Scenario s = MustLoad(
      "clients: {a: json}\n"
      "steps:\n"
      "  - repeat:\n"
      "      count: 2\n"
      "      steps:\n"
      "        - join: {client: a, group: g, ack: auto, expect_ack: success}\n"
      "        - join: {client: a, group: h, ack: auto, expect_ack: success, case: OWN-001}\n"
      "    case: BLOCK-001\n");
  ASSERT_EQ(s.expectations.size(), 2u);
  EXPECT_EQ(s.expectations[0].case_id, "BLOCK-001");
  EXPECT_EQ(s.expectations[1].case_id, "OWN-001");
  EXPECT_EQ(s.steps[0].case_id, "BLOCK-001");
  EXPECT_EQ(s.steps[1].case_id, "");
}

TEST(ScenarioLoader, ConnectionLifecycleStepsParse) {
  Scenario s = MustLoad(
      "clients: {a: json, r: reliable, m: mqtt5}\n"
      "steps:\n"
      "  - connect: {client: a, subprotocols: [custom.v1, json.webpubsub.azure.v1], token: missing,\n"
      "              expect_status: 401}\n"
      "  - connect: {client: m, clean_start: false, session_expiry: never, keepalive: 30s,\n"
      "              expect_connack: {reason_code: 0, session_present: true}}\n"
      "  - disconnect: {client: a, code: 4000, reason: bye}\n"
      "  - disconnect: {client: m, reason_code: 4, session_expiry: 0s, user_properties: {k: v}}\n"
      "  - disconnect: {client: r, code: none}\n"
      "  - kill: r\n"
      "  - recover: {client: r, fault: bad_token, expect_close: 1008}\n"
      "  - recover: r\n");
  const ConnectStep& c0 = s.steps[0].As<ConnectStep>();
  EXPECT_EQ(*c0.subprotocols, (std::vector<std::string>{"custom.v1", "json.webpubsub.azure.v1"}));
  EXPECT_EQ(c0.token->fault, TokenFault::kMissing);
  const ConnectStep& c1 = s.steps[1].As<ConnectStep>();
  EXPECT_EQ(c1.clean_start, false);
  EXPECT_EQ(c1.session_expiry_s, 0xFFFFFFFFu);
  EXPECT_EQ(c1.keepalive_s, 30);
  const DisconnectStep& d0 = s.steps[2].As<DisconnectStep>();
  EXPECT_EQ(d0.code, 4000);
  EXPECT_EQ(d0.reason, "bye");
  const DisconnectStep& d1 = s.steps[3].As<DisconnectStep>();
  EXPECT_EQ(d1.mqtt_reason_code, 4);
  EXPECT_EQ(d1.session_expiry_s, 0u);
  EXPECT_EQ(d1.user_properties.size(), 1u);
  const DisconnectStep& d2 = s.steps[4].As<DisconnectStep>();
  EXPECT_FALSE(d2.code.has_value());
  EXPECT_FALSE(d2.send_code);
  EXPECT_TRUE(s.steps[5].Is<KillStep>());
  EXPECT_EQ(s.steps[6].As<RecoverStep>().fault, RecoverFault::kBadToken);
  EXPECT_EQ(s.steps[7].As<RecoverStep>().fault, RecoverFault::kNone);
  // Inline checks became expectations, in step order, pointing at their steps.
  ASSERT_EQ(s.expectations.size(), 3u);
  EXPECT_EQ(s.expectations[0].kind(), ExpectKind::kClosed);
  EXPECT_EQ(s.expectations[0].As<ClosedExpect>().http_status, 401);
  EXPECT_EQ(s.expectations[0].from_step, 0u);
  EXPECT_EQ(s.expectations[1].As<ConnackExpect>().reason_code, 0);
  EXPECT_EQ(s.expectations[1].As<ConnackExpect>().session_present, true);
  EXPECT_EQ(s.expectations[2].As<ClosedExpect>().code, 1008);
  EXPECT_EQ(s.expectations[2].from_step, 6u);
}

TEST(ScenarioLoader, JsonRequestsParseWithAckModesAndPayloadTypes) {
  Scenario s = MustLoad(
      "clients: {a: json, r: reliable}\n"
      "steps:\n"
      "  - join: {client: a, group: g, ack: auto, expect_ack: success}\n"
      "  - leave: {client: a, group: g, ack: 7, expect_ack: Forbidden}\n"
      "  - send_to_group: {client: a, group: g, data: {msg1: Hello world}}\n"
      "  - send_to_group: {client: a, group: g, data: '5', data_type: text, no_echo: true, ack: none}\n"
      "  - send_to_group: {client: a, group: g, data: aGk=, data_type: binary}\n"
      "  - send_to_group: {client: a, group: g, payload_size: 1KiB, data_type: text}\n"
      "  - event: {client: a, event: echo, data: 5, ack: auto,\n"
      "            expect_ack: {success: false, error: InternalServerError, message_contains: fail}}\n"
      "  - sequence_ack: r\n"
      "  - sequence_ack: {client: r, sequence_id: 4}\n"
      "  - ping: [a, r]\n"
      "  - send_raw: {client: a, text: '{not json'}\n"
      "  - send_raw: {client: a, binary: AAE=}\n");
  const JoinStep& j = s.steps[0].As<JoinStep>();
  EXPECT_EQ(j.group, "g");
  EXPECT_EQ(j.ack.mode, AckSpec::Mode::kAuto);
  const LeaveStep& l = s.steps[1].As<LeaveStep>();
  EXPECT_EQ(l.ack.mode, AckSpec::Mode::kExplicit);
  EXPECT_EQ(l.ack.id, 7u);
  const SendToGroupStep& s0 = s.steps[2].As<SendToGroupStep>();
  EXPECT_FALSE(s0.payload.data_type.has_value()) << "dataType omitted unless written";
  EXPECT_EQ(s0.payload.data, nlohmann::json::parse(R"({"msg1":"Hello world"})"));
  EXPECT_EQ(s0.ack.mode, AckSpec::Mode::kNone);
  const SendToGroupStep& s1 = s.steps[3].As<SendToGroupStep>();
  EXPECT_EQ(s1.payload.data_type, DataType::kText);
  EXPECT_EQ(s1.payload.data, "5") << "quoted '5' stays a string";
  EXPECT_EQ(s1.no_echo, true);
  EXPECT_EQ(s.steps[4].As<SendToGroupStep>().payload.data, "aGk=");
  EXPECT_EQ(s.steps[5].As<SendToGroupStep>().payload.filler_bytes, 1024u);
  const EventStep& e = s.steps[6].As<EventStep>();
  EXPECT_EQ(e.event, "echo");
  EXPECT_EQ(e.payload.data, 5) << "plain 5 is a JSON number";
  EXPECT_FALSE(s.steps[7].As<SequenceAckStep>().sequence_id.has_value());
  EXPECT_EQ(s.steps[8].As<SequenceAckStep>().sequence_id, 4u);
  EXPECT_EQ(s.steps[9].As<PingStep>().clients.members.size(), 2u);
  EXPECT_EQ(s.steps[10].As<SendRawStep>().bytes, "{not json");
  EXPECT_TRUE(s.steps[11].As<SendRawStep>().binary);
  EXPECT_EQ(s.steps[11].As<SendRawStep>().bytes, std::string("\x00\x01", 2));
  ASSERT_EQ(s.expectations.size(), 3u);
  const AckExpect& a0 = s.expectations[0].As<AckExpect>();
  EXPECT_EQ(a0.step, 0u);
  EXPECT_TRUE(a0.success);
  const AckExpect& a1 = s.expectations[1].As<AckExpect>();
  EXPECT_FALSE(a1.success);
  EXPECT_EQ(a1.error, "Forbidden");
  const AckExpect& a2 = s.expectations[2].As<AckExpect>();
  EXPECT_EQ(a2.error, "InternalServerError");
  EXPECT_EQ(a2.message_contains, "fail");
}

TEST(ScenarioLoader, RequestStepsCheckTheClientKind) {
  EXPECT_EQ(FirstError("clients: {w: websocket}\n"
                       "steps:\n"
                       "  - join: {client: w, group: g}\n"),
            "7:20: step 'join' needs a json or reliable or protobuf or reliable_protobuf client, "
            "but 'w' is websocket");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps:\n"
                       "  - join: {client: a, group: g, expect_ack: success}\n"),
            "7:45: expect_ack needs an ackId on the request (add 'ack: auto')");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps:\n"
                       "  - publish: {client: a, topic: t, payload: x}\n"),
            "7:23: step 'publish' needs a mqtt311 or mqtt5 client, but 'a' is json");
}

TEST(ScenarioLoader, MqttStepsParseWithProperties) {
  Scenario s = MustLoad(
      "clients: {m: mqtt5, old: mqtt311}\n"
      "steps:\n"
      "  - subscribe: {client: m, topic: topic1, qos: 1, expect_suback: 1}\n"
      "  - subscribe:\n"
      "      client: m\n"
      "      topics: [a, {topic: b, qos: 2, no_local: true, retain_handling: 2}]\n"
      "      subscription_identifier: 7\n"
      "      user_properties: [{name: k, value: v1}, {name: k, value: v2}]\n"
      "  - publish:\n"
      "      client: m\n"
      "      topic: topic1\n"
      "      payload: Hello World!\n"
      "      qos: 1\n"
      "      retain: false\n"
      "      content_type: text/plain\n"
      "      message_expiry: 60s\n"
      "      payload_format_indicator: 1\n"
      "      response_topic: replies\n"
      "      correlation_data: c-1\n"
      "      user_properties: {trace: abc}\n"
      "      expect_puback: 0\n"
      "    as: pub\n"
      "  - publish: {client: old, topic: t, payload_json: {a: 1}}\n"
      "  - publish: {client: old, topic: t, payload_base64: AP8=, qos: 2}\n"
      "  - unsubscribe: {client: m, topics: [a, b]}\n");
  const SubscribeStep& s0 = s.steps[0].As<SubscribeStep>();
  ASSERT_EQ(s0.subscriptions.size(), 1u);
  EXPECT_EQ(s0.subscriptions[0].topic, "topic1");
  EXPECT_EQ(s0.subscriptions[0].qos, 1);
  const SubscribeStep& s1 = s.steps[1].As<SubscribeStep>();
  ASSERT_EQ(s1.subscriptions.size(), 2u);
  EXPECT_EQ(s1.subscriptions[0].qos, 0);
  EXPECT_EQ(s1.subscriptions[1].topic, "b");
  EXPECT_EQ(s1.subscriptions[1].qos, 2);
  EXPECT_TRUE(s1.subscriptions[1].no_local);
  EXPECT_EQ(s1.subscriptions[1].retain_handling, 2);
  EXPECT_EQ(s1.subscription_identifier, 7u);
  EXPECT_EQ(s1.user_properties.size(), 2u);
  const PublishStep& p = s.steps[2].As<PublishStep>();
  EXPECT_EQ(p.topic, "topic1");
  EXPECT_EQ(p.payload, "Hello World!");
  EXPECT_EQ(p.qos, 1);
  EXPECT_EQ(p.properties.content_type, "text/plain");
  EXPECT_EQ(p.properties.message_expiry_s, 60u);
  EXPECT_EQ(p.properties.payload_format_indicator, 1);
  EXPECT_EQ(p.properties.response_topic, "replies");
  EXPECT_EQ(p.properties.correlation_data, "c-1");
  ASSERT_EQ(p.properties.user_properties.size(), 1u);
  EXPECT_EQ(p.properties.user_properties[0].value, "abc");
  EXPECT_EQ(s.steps[3].As<PublishStep>().payload, R"({"a":1})");
  EXPECT_EQ(s.steps[4].As<PublishStep>().payload, std::string("\x00\xff", 2));
  EXPECT_EQ(s.steps[5].As<UnsubscribeStep>().topics, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(s.expectations.size(), 2u);
  EXPECT_EQ(s.expectations[0].As<SubackExpect>().reason_codes, (std::vector<uint8_t>{1}));
  EXPECT_EQ(s.expectations[1].As<PubackExpect>().step, 2u);
  EXPECT_EQ(s.expectations[1].label, "pub");
  EXPECT_EQ(FirstError("clients: {old: mqtt311}\n"
                       "steps:\n"
                       "  - publish: {client: old, topic: t, payload: x, content_type: text/plain}\n"),
            "7:50: 'content_type' is an MQTT 5.0 feature; 'old' includes an mqtt311 client");
}

struct RestCase {
  const char* yaml;
  RestOp op;
  int success;
};

TEST(ScenarioLoader, EveryRestOperationParses) {
  const RestCase cases[] = {
      {"{op: health}", RestOp::kGetServiceStatus, 200},
      {"{op: send_to_all, body: hi, content_type: text/plain, excluded: a, filter: \"userId ne 'x'\", message_ttl_seconds: 30}", RestOp::kSendToAll, 202},
      {"{op: close_all_connections, excluded_ids: [c1], reason: bye}", RestOp::kCloseAllConnections, 204},
      {"{op: generate_token, user: u, roles: [r], minutes_to_expire: 5, groups: [g], client_type: MQTT}", RestOp::kGenerateClientToken, 200},
      {"{op: add_to_groups, groups: [g1, g2], filter: \"userId eq 'u'\"}", RestOp::kAddConnectionsToGroups, 200},
      {"{op: remove_from_groups, groups: [g1]}", RestOp::kRemoveConnectionsFromGroups, 200},
      {"{op: close_connection, connection: a, reason: r}", RestOp::kCloseConnection, 204},
      {"{op: connection_exists, connection_id: nope}", RestOp::kConnectionExists, 200},
      {"{op: send_to_connection, connection: a, body: {x: 1}}", RestOp::kSendToConnection, 202},
      {"{op: remove_connection_from_all_groups, connection: a}", RestOp::kRemoveConnectionFromAllGroups, 204},
      {"{op: group_exists, group: g}", RestOp::kGroupExists, 200},
      {"{op: send_to_group, group: g, body_raw: '{bad', excluded: [a]}", RestOp::kSendToGroup, 202},
      {"{op: close_group_connections, group: g, reason: r}", RestOp::kCloseGroupConnections, 204},
      {"{op: list_connections_in_group, group: g, max_page_size: 1, top: 5, all_pages: true}", RestOp::kListConnectionsInGroup, 200},
      {"{op: add_connection_to_group, group: g, connection: a}", RestOp::kAddConnectionToGroup, 200},
      {"{op: remove_connection_from_group, group: g, connection: a}", RestOp::kRemoveConnectionFromGroup, 204},
      {"{op: grant_permission, permission: send_to_group, connection: a, target_name: g}", RestOp::kGrantPermission, 200},
      {"{op: revoke_permission, permission: joinLeaveGroup, connection: a}", RestOp::kRevokePermission, 204},
      {"{op: check_permission, permission: join_leave_group, connection: a, target_name: g}", RestOp::kCheckPermission, 200},
      {"{op: user_exists, user: u}", RestOp::kUserExists, 200},
      {"{op: send_to_user, user: u, body: AAE=, content_type: application/octet-stream}", RestOp::kSendToUser, 202},
      {"{op: close_user_connections, user: u, excluded: a}", RestOp::kCloseUserConnections, 204},
      {"{op: remove_user_from_all_groups, user: u}", RestOp::kRemoveUserFromAllGroups, 204},
      {"{op: add_user_to_group, user: u, group: g}", RestOp::kAddUserToGroup, 200},
      {"{op: remove_user_from_group, user: u, group: g}", RestOp::kRemoveUserFromGroup, 204},
      {"{op: request, method: GET, path: '/api/hubs/{hub}/:send', query: {x: [1, 2]}, api_version: none}", kRestRequest, 200},
  };
  for (const RestCase& c : cases) {
    SCOPED_TRACE(c.yaml);
    Scenario s = MustLoad(std::string("clients: {a: json, api: rest}\nsteps:\n  - rest: ") + c.yaml + "\n");
    ASSERT_EQ(s.steps.size(), 1u);
    const RestStep& r = s.steps[0].As<RestStep>();
    EXPECT_EQ(r.op, c.op);
    EXPECT_EQ(r.client, 1u);
    EXPECT_EQ(RestOpSuccessStatus(c.op), c.success);
    EXPECT_EQ(RestOpName(c.op), std::string(c.yaml).substr(5, RestOpName(c.op).size()));
  }
}

TEST(ScenarioLoader, EveryRestStepOperationMapsToItsOwnServiceOperation) {
  std::set<protocol::rest::Operation> seen;
  for (int i = 0; i <= static_cast<int>(kRestRequest); ++i) {
    const RestOp op = static_cast<RestOp>(i);
    const std::optional<protocol::rest::Operation> o = RestOperationOf(op);
    EXPECT_NE(RestOpName(op), "?") << i << " has no step name";
    if (op == kRestRequest) {
      EXPECT_FALSE(o.has_value());
      continue;
    }
    ASSERT_TRUE(o.has_value()) << RestOpName(op);
    EXPECT_TRUE(seen.insert(*o).second) << RestOpName(op) << " maps to an operation already taken";
  }
  EXPECT_EQ(seen.size(), protocol::rest::kOperationCount);
  EXPECT_EQ(protocol::rest::OperationId(*RestOperationOf(RestOp::kAddConnectionsToGroups)), "WebPubSub_AddConnectionsToGroups");
  EXPECT_EQ(protocol::rest::OperationId(*RestOperationOf(RestOp::kGetServiceStatus)), "HealthApi_GetServiceStatus");
}

TEST(ScenarioLoader, RestStepFieldsParse) {
  Scenario s = MustLoad(
      "clients: {a: json, sub: {kind: json, count: 2}, api: {kind: rest, api_version: 2024-01-01}}\n"
      "steps:\n"
      "  - rest: {op: send_to_all, body: Hello, content_type: text/plain, excluded: [a, sub],\n"
      "           filter: \"connectionId ne '${sub[1].connection_id}'\", message_ttl_seconds: 30,\n"
      "           expect_status: 202}\n"
      "  - rest: {op: send_to_group, group: g, body: {hello: world}, expect_status: [202, 200],\n"
      "           expect_body: {}, expect_error_code: X}\n"
      "  - rest: {op: send_to_connection, connection: 'sub[0]', body: Hello}\n"
      "  - rest: {op: grant_permission, permission: send_to_group, connection_id: abc, target_name: g,\n"
      "           auth: expired, api_version: 2022-11-01}\n"
      "  - rest: {op: list_connections_in_group, group: g, expect_status: 200}\n");
  const RestStep& r0 = s.steps[0].As<RestStep>();
  EXPECT_EQ(r0.body, "Hello");
  EXPECT_EQ(r0.content_type, "text/plain");
  EXPECT_TRUE(r0.has_body);
  EXPECT_EQ(r0.excluded->members, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(r0.filter, "connectionId ne '${sub[1].connection_id}'");
  EXPECT_EQ(r0.message_ttl_seconds, 30u);
  EXPECT_EQ(r0.api_version, "2024-01-01") << "the rest client's api_version is the default";
  const RestStep& r1 = s.steps[1].As<RestStep>();
  EXPECT_EQ(r1.body, R"({"hello":"world"})");
  EXPECT_EQ(r1.content_type, "application/json");
  const RestStep& r2 = s.steps[2].As<RestStep>();
  EXPECT_EQ(r2.body, "\"Hello\"") << "a string body without content_type is a JSON string, as in the JS SDK";
  EXPECT_EQ(r2.connection->client->members, (std::vector<uint32_t>{1}));
  const RestStep& r3 = s.steps[3].As<RestStep>();
  EXPECT_EQ(r3.permission, Permission::kSendToGroup);
  EXPECT_EQ(PermissionWireName(*r3.permission), "sendToGroup");
  EXPECT_EQ(r3.connection->literal_id, "abc");
  EXPECT_EQ(r3.auth->fault, TokenFault::kExpired);
  EXPECT_EQ(r3.api_version, "2022-11-01");
  ASSERT_EQ(s.expectations.size(), 3u);
  EXPECT_EQ(s.expectations[0].As<HttpStatusExpect>().statuses, (std::vector<int>{202}));
  EXPECT_EQ(s.expectations[1].As<HttpStatusExpect>().statuses, (std::vector<int>{202, 200}));
  EXPECT_EQ(s.expectations[1].As<HttpStatusExpect>().error_code, "X");
  EXPECT_EQ(s.expectations[1].As<HttpStatusExpect>().body, nlohmann::json::object());
  EXPECT_EQ(s.expectations[2].As<HttpStatusExpect>().step, 4u);
}

TEST(ScenarioLoader, RestParametersMustBelongToTheOperation) {
  EXPECT_EQ(FirstError("clients: {api: rest}\n"
                       "steps:\n"
                       "  - rest: {op: send_to_user, user: u, body: x, excluded_ids: [a]}\n"),
            "7:48: key 'excluded_ids' does not apply to rest operation 'send_to_user'");
  EXPECT_EQ(FirstError("clients: {api: rest}\n"
                       "steps:\n"
                       "  - rest: {op: add_user_to_group, user: u}\n"),
            "7:11: rest operation 'add_user_to_group' needs 'group'");
  EXPECT_EQ(FirstError("clients: {api: rest}\n"
                       "steps:\n"
                       "  - rest: {op: sendToAll, body: x}\n"),
            "7:16: unknown rest operation 'sendToAll' (did you mean 'send_to_all'?)");
}

TEST(ScenarioLoader, AnImpliedRestClientIsAppendedAfterDeclaredClients) {
  Scenario s = MustLoad(
      "clients: {a: json, sub: {kind: json, count: 2}}\n"
      "steps:\n"
      "  - rest: health\n"
      "  - rest: {op: group_exists, group: g}\n");
  ASSERT_EQ(s.clients.size(), 3u);
  EXPECT_EQ(s.clients[2].name, "server");
  EXPECT_EQ(s.clients[2].kind, ClientKind::kRest);
  EXPECT_EQ(s.members.size(), 4u);
  EXPECT_EQ(s.steps[0].As<RestStep>().client, 3u);
  EXPECT_EQ(s.steps[1].As<RestStep>().client, 3u);
}

TEST(ScenarioLoader, ControlAndNetworkStepsParse) {
  Scenario s = MustLoad(
      "clients: {a: json, b: json}\n"
      "steps:\n"
      "  - wait: 1.5s\n"
      "  - barrier: {client: a, quiesce: false}\n"
      "  - repeat: {count: 10, rate: 1000/s, index: k, steps: [{ping: a}]}\n"
      "  - repeat: {duration: 2s, rate: 50/s, steps: [{ping: b}]}\n"
      "  - partition: {client: a, direction: client_to_service}\n"
      "  - partition: upstream\n"
      "  - heal: a\n"
      "  - heal\n"
      "  - delay: {client: b, latency: uniform 1ms 3ms, bandwidth: 1Mbps, loss: 1%, receive_window: 64KiB}\n"
      "  - delay: {latency: 50ms}\n"
      "  - reset: [a, b]\n"
      "  - set_clock_skew: {client: a, skew: -10m}\n"
      "  - set_clock_skew: +6m\n");
  EXPECT_EQ(s.steps[0].As<WaitStep>().duration_ns, 1'500'000'000);
  EXPECT_FALSE(s.steps[1].As<BarrierStep>().quiesce);
  const RepeatStep& r = s.steps[2].As<RepeatStep>();
  EXPECT_EQ(r.count, 10u);
  EXPECT_EQ(r.rate->count, 1000u);
  EXPECT_EQ(r.index_var, "k");
  const RepeatStep& r2 = s.steps[4].As<RepeatStep>();
  EXPECT_EQ(r2.duration_ns, 2 * kNanosPerSecond);
  EXPECT_FALSE(r2.count.has_value());
  EXPECT_EQ(s.steps[6].As<PartitionStep>().direction, PartitionDirection::kClientToService);
  EXPECT_TRUE(s.steps[7].As<PartitionStep>().upstream);
  EXPECT_EQ(s.steps[8].As<HealStep>().clients->members, (std::vector<uint32_t>{0}));
  EXPECT_TRUE(s.steps[9].As<HealStep>().all);
  const DelayStep& d = s.steps[10].As<DelayStep>();
  EXPECT_EQ(d.link.latency->kind(), sim::Distribution::Kind::kUniform);
  EXPECT_EQ(d.link.latency->a(), 1e6);
  EXPECT_EQ(d.link.latency->b(), 3e6);
  EXPECT_EQ(d.link.bandwidth_bps, 1'000'000u);
  EXPECT_DOUBLE_EQ(*d.link.loss, 0.01);
  EXPECT_EQ(d.link.receive_window_bytes, 64u * 1024);
  EXPECT_TRUE(s.steps[11].As<DelayStep>().all);
  EXPECT_EQ(s.steps[12].As<ResetStep>().clients.members.size(), 2u);
  EXPECT_EQ(s.steps[13].As<ClockSkewStep>().skew_ns, -10 * kNanosPerMinute);
  EXPECT_EQ(s.steps[13].As<ClockSkewStep>().clients->members, (std::vector<uint32_t>{0}));
  EXPECT_FALSE(s.steps[14].As<ClockSkewStep>().clients.has_value());
  EXPECT_EQ(s.steps[14].As<ClockSkewStep>().skew_ns, 6 * kNanosPerMinute);
  Requirements needs = s.Needs();
  EXPECT_TRUE(needs.network_control);
  EXPECT_TRUE(needs.clock_control);
  EXPECT_EQ(RealTargetSkipReasons(s, false, 0).size(), 2u);  // network and clocks
}

TEST(ScenarioLoader, NetworkServiceAndUpstreamSectionsParse) {
  Scenario s = MustLoad(
      "clients: {a: json, slow: {kind: json, network: {latency: pareto scale=1ms shape=2.5}}}\n"
      "network:\n"
      "  latency: normal mean=5ms stddev=1ms\n"
      "  bandwidth: 100Mbps\n"
      "  loss: 0.1%\n"
      "  clients: {a: {latency: constant 1ms}}\n"
      "  upstream: {latency: 2ms}\n"
      "  stream_timeout: 30s\n"
      "  partitions:\n"
      "    - {at: 2s, duration: 3s, client: a, direction: both}\n"
      "    - {at: 1s, client: upstream}\n"
      "service:\n"
      "  recovery_window: 30s\n"
      "  reliable_buffer: {messages: 1000, bytes: 16MiB}\n"
      "  keepalive: 20s\n"
      "  anonymous: allow\n"
      "  inject_bug: [skip-role-check]\n"
      "  access_key: k\n"
      "  max_message_size: 1MiB\n"
      "  mqtt_session_window: 30s\n"
      "  upstream_timeout: 5s\n"
      "  token_clock_skew: 5m\n"
      "upstream:\n"
      "  handlers:\n"
      "    - {url: 'http://app/api/{event}', user_events: '*', system_events: [connect, connected, disconnected]}\n"
      "  validation: origin\n"
      "  responses:\n"
      "    - on: connect\n"
      "      match: {client: a}\n"
      "      accept: {user: bob, groups: [g1], roles: [], subprotocol: json.webpubsub.azure.v1}\n"
      "    - {on: connect, match: {user: mallory}, reject: {status: 401, body: nope}}\n"
      "    - {on: echo, reply: {body: {x: 1}}, delay: 10ms, times: 2, state: s1, headers: {a: b}}\n"
      "    - {on: [msg, other], reply: hello}\n"
      "    - {on: boom, fail: true}\n"
      "    - {on: slow, timeout: true}\n"
      "    - {on: '*', reject: 500}\n"
      "steps: [{connect: a}]\n");
  EXPECT_TRUE(s.network.present);
  EXPECT_EQ(s.network.defaults.latency->kind(), sim::Distribution::Kind::kNormal);
  EXPECT_EQ(s.network.defaults.bandwidth_bps, 100'000'000u);
  EXPECT_EQ(*s.clients[0].network.latency, sim::Distribution::Constant(1e6));
  EXPECT_EQ(*s.clients[1].network.latency, sim::Distribution::Pareto(1e6, 2.5));
  EXPECT_EQ(*s.network.upstream.latency, sim::Distribution::Constant(2e6));
  EXPECT_EQ(s.network.stream_timeout_ns, 30 * kNanosPerSecond);
  ASSERT_EQ(s.network.partitions.size(), 2u);
  EXPECT_EQ(s.network.partitions[0].at_ns, 2 * kNanosPerSecond);
  EXPECT_EQ(s.network.partitions[0].duration_ns, 3 * kNanosPerSecond);
  EXPECT_EQ(s.network.partitions[0].clients.members, (std::vector<uint32_t>{0}));
  EXPECT_TRUE(s.network.partitions[1].upstream);
  const ServiceSettings& svc = s.service;
  EXPECT_EQ(svc.recovery_window_ns, 30 * kNanosPerSecond);
  EXPECT_EQ(svc.reliable_buffer_messages, 1000u);
  EXPECT_EQ(svc.reliable_buffer_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(svc.keepalive_ns, 20 * kNanosPerSecond);
  EXPECT_EQ(svc.anonymous, AnonymousPolicy::kAllow);
  EXPECT_EQ(svc.inject_bug, (std::vector<std::string>{"skip-role-check"}));
  EXPECT_EQ(svc.access_key, "k");
  EXPECT_EQ(svc.max_message_bytes, 1024u * 1024);
  EXPECT_EQ(svc.mqtt_session_window_ns, 30 * kNanosPerSecond);
  EXPECT_EQ(svc.upstream_timeout_ns, 5 * kNanosPerSecond);
  EXPECT_EQ(svc.token_clock_skew_ns, 5 * kNanosPerMinute);
  const UpstreamSettings& u = s.upstream;
  ASSERT_EQ(u.handlers.size(), 1u);
  EXPECT_EQ(u.handlers[0].url_template, "http://app/api/{event}");
  EXPECT_EQ(u.handlers[0].user_event_pattern, "*");
  EXPECT_EQ(u.handlers[0].system_events.size(), 3u);
  EXPECT_EQ(u.validation, ValidationReply::kAllowOrigin);
  ASSERT_EQ(u.responses.size(), 7u);
  EXPECT_EQ(u.responses[0].action, UpstreamActionKind::kAccept);
  EXPECT_EQ(u.responses[0].status, 200);
  EXPECT_EQ(u.responses[0].user_id, "bob");
  EXPECT_EQ(u.responses[0].roles, std::vector<std::string>{}) << "roles: [] clears token roles";
  EXPECT_EQ(u.responses[0].match.clients->members, (std::vector<uint32_t>{0}));
  EXPECT_EQ(u.responses[1].action, UpstreamActionKind::kReject);
  EXPECT_EQ(u.responses[1].status, 401);
  EXPECT_EQ(u.responses[1].body, "nope");
  EXPECT_EQ(u.responses[2].action, UpstreamActionKind::kReply);
  EXPECT_EQ(u.responses[2].body, R"({"x":1})");
  EXPECT_EQ(u.responses[2].content_type, "application/json");
  EXPECT_EQ(u.responses[2].delay_ns, 10 * kNanosPerMilli);
  EXPECT_EQ(u.responses[2].times, 2u);
  EXPECT_EQ(u.responses[2].connection_state, "s1");
  EXPECT_EQ(u.responses[3].events, (std::vector<std::string>{"msg", "other"}));
  EXPECT_EQ(u.responses[3].content_type, "text/plain");
  EXPECT_EQ(u.responses[4].action, UpstreamActionKind::kFail);
  EXPECT_EQ(u.responses[5].action, UpstreamActionKind::kTimeout);
  EXPECT_EQ(u.responses[6].status, 500);
  Requirements needs = s.Needs();
  EXPECT_TRUE(needs.network_control);
  EXPECT_TRUE(needs.fault_injection);
  EXPECT_TRUE(needs.service_config);
  EXPECT_TRUE(needs.scripted_upstream);
}

TEST(ScenarioLoader, ExpectationsOfEveryKindParse) {
  Scenario s = MustLoad(
      "clients: {a: json, w: websocket, m: mqtt5, sub: {kind: reliable, count: 3}, api: rest}\n"
      "upstream: {handlers: [{url: 'http://app/{event}', system_events: [connected]}]}\n"
      "steps:\n"
      "  - join: {client: a, group: g, ack: 5}\n"
      "    as: j\n"
      "  - rest: {op: send_to_all, body: x}\n"
      "    as: push\n"
      "  - subscribe: {client: m, topic: t, qos: 1}\n"
      "    as: subm\n"
      "  - publish: {client: m, topic: t, payload: p, qos: 1}\n"
      "    as: pubm\n"
      "expect:\n"
      "  - receive: {client: a, type: message, from: group, group: g, data_type: text, data: '5',\n"
      "              from_user_id: null, sequence_id: false, after: j, within: 1s, count: 2}\n"
      "    case: JSON-MSG-001\n"
      "    as: got\n"
      "  - receive: {client: sub, in_order: [{data: a}, {data: b, sequence_id: 2}], total: {at_least: 6}}\n"
      "  - receive: {client: w, frame: text, text: hi, data_contains: h, until: push}\n"
      "  - receive: {client: m, topic: t, qos: 1, payload: p, content_type: text/plain, message_expiry: 5s,\n"
      "              user_properties: {a: b}, count: {at_least: 1, at_most: 2}}\n"
      "  - receive: {client: a, type: system, event: connected, user_id: alice, connection_id: a}\n"
      "  - never_receive: {client: 'sub[0..1]', from: server, after: push, until: end}\n"
      "  - ack: {step: j, success: true}\n"
      "  - ack: {client: a, ack_id: 5, error: Duplicate, message: 'Message with ack-id: 5 has been processed'}\n"
      "  - closed: {client: a, code: 1008, reason_contains: full, by: service, within: 30s}\n"
      "  - closed: {client: m, reason_code: 142}\n"
      "  - closed: {client: w, http_status: 401}\n"
      "  - connected: {client: sub, user_id: null, reconnection_token: true, subprotocol: json.reliable.webpubsub.azure.v1}\n"
      "  - http_status: {step: push, status: 202, body: {}, error_code: E}\n"
      "  - connack: {client: m, reason_code: 0, session_present: false, assigned_client_id: x}\n"
      "  - suback: {step: subm, reason_codes: [1]}\n"
      "  - puback: {step: pubm, reason_code: 16}\n"
      "  - upstream_event: {event: connected, client: a, count: 1, body: {}, headers: {ce-hub: h}}\n"
      "invariants:\n"
      "  - no_duplicates\n"
      "  - per_publisher_order: {client: sub, case: ORDER-001}\n"
      "  - no_delivery_outside_group\n"
      "  - sequence_ids_contiguous: {client: sub}\n"
      "thresholds:\n"
      "  - p99 < 20ms\n"
      "  - {check: error_rate < 0.1%, case: LOAD-001, client: sub, step: push}\n"
      "  - ack_rtt.p(99.9) <= 50ms\n");
  ASSERT_EQ(s.expectations.size(), 17u);
  const ReceiveExpect& r0 = s.expectations[0].As<ReceiveExpect>();
  EXPECT_EQ(s.expectations[0].case_id, "JSON-MSG-001");
  EXPECT_EQ(s.expectations[0].label, "got");
  EXPECT_EQ(r0.match.type, "message");
  EXPECT_EQ(r0.match.from, "group");
  EXPECT_EQ(r0.match.group, "g");
  EXPECT_EQ(r0.match.data_type, DataType::kText);
  EXPECT_EQ(r0.match.data, "5");
  EXPECT_TRUE(r0.match.from_user_id->is_null);
  EXPECT_FALSE(r0.match.sequence_id->present);
  EXPECT_EQ(r0.window.after_step, 0u);
  EXPECT_EQ(r0.window.within_ns, kNanosPerSecond);
  EXPECT_EQ(r0.count.exactly, 2u);
  const ReceiveExpect& r1 = s.expectations[1].As<ReceiveExpect>();
  ASSERT_EQ(r1.in_order.size(), 2u);
  EXPECT_EQ(r1.in_order[1].sequence_id->value, 2u);
  EXPECT_TRUE(r1.count.empty()) << "in_order carries its own meaning";
  EXPECT_EQ(r1.total.at_least, 6u);
  EXPECT_EQ(r1.clients.members.size(), 3u);
  const ReceiveExpect& r2 = s.expectations[2].As<ReceiveExpect>();
  EXPECT_EQ(r2.match.frame, MessageMatcher::Frame::kText);
  EXPECT_EQ(r2.match.text, "hi");
  EXPECT_EQ(r2.window.until_step, 1u);
  EXPECT_EQ(r2.count.at_least, 1u) << "receive defaults to at least once";
  const ReceiveExpect& r3 = s.expectations[3].As<ReceiveExpect>();
  EXPECT_EQ(r3.match.topic, "t");
  EXPECT_EQ(r3.match.qos, 1);
  EXPECT_EQ(r3.match.payload, "p");
  EXPECT_EQ(r3.match.message_expiry_s, 5u);
  EXPECT_EQ(r3.count.at_most, 2u);
  const ReceiveExpect& r4 = s.expectations[4].As<ReceiveExpect>();
  EXPECT_EQ(r4.match.user_id->value, "alice");
  EXPECT_EQ(r4.match.connection_id->members, (std::vector<uint32_t>{0}));
  const NeverReceiveExpect& n = s.expectations[5].As<NeverReceiveExpect>();
  EXPECT_EQ(n.clients.members.size(), 2u);
  EXPECT_FALSE(n.window.until_step.has_value());
  const AckExpect& a0 = s.expectations[6].As<AckExpect>();
  EXPECT_EQ(a0.step, 0u);
  const AckExpect& a1 = s.expectations[7].As<AckExpect>();
  EXPECT_EQ(a1.ack_id, 5u);
  EXPECT_FALSE(a1.success);
  EXPECT_EQ(a1.error, "Duplicate");
  EXPECT_EQ(a1.message, "Message with ack-id: 5 has been processed");
  const ClosedExpect& c0 = s.expectations[8].As<ClosedExpect>();
  EXPECT_EQ(c0.code, 1008);
  EXPECT_EQ(c0.by_service, true);
  EXPECT_EQ(s.expectations[9].As<ClosedExpect>().mqtt_reason_code, 142);
  EXPECT_EQ(s.expectations[10].As<ClosedExpect>().http_status, 401);
  const ConnectedExpect& ce = s.expectations[11].As<ConnectedExpect>();
  EXPECT_TRUE(ce.user_id->is_null);
  EXPECT_EQ(ce.reconnection_token, true);
  EXPECT_EQ(s.expectations[12].As<HttpStatusExpect>().step, 1u);
  EXPECT_EQ(s.expectations[13].As<ConnackExpect>().assigned_client_id, "x");
  EXPECT_EQ(s.expectations[14].As<SubackExpect>().step, 2u);
  EXPECT_EQ(s.expectations[15].As<PubackExpect>().reason_code, 16);
  const UpstreamEventExpect& u = s.expectations[16].As<UpstreamEventExpect>();
  EXPECT_EQ(u.event, "connected");
  EXPECT_EQ(u.count.exactly, 1u);
  ASSERT_EQ(s.invariants.size(), 4u);
  EXPECT_EQ(s.invariants[1].kind, InvariantKind::kPerPublisherOrder);
  EXPECT_EQ(s.invariants[1].case_id, "ORDER-001");
  EXPECT_EQ(s.invariants[1].clients->members.size(), 3u);
  ASSERT_EQ(s.thresholds.size(), 3u);
  EXPECT_EQ(s.thresholds[0].expression, "p99 < 20ms");
  EXPECT_DOUBLE_EQ(s.thresholds[0].parsed.limit, 20e6);
  EXPECT_EQ(s.thresholds[1].case_id, "LOAD-001");
  EXPECT_EQ(s.thresholds[1].step, 1u);
  EXPECT_EQ(s.thresholds[1].parsed.stat, reports::ThresholdStat::kErrorRate);
  EXPECT_EQ(s.thresholds[2].parsed.metric, reports::Metric::kAckRtt);
}

TEST(ScenarioLoader, LatencyUsesTheSimulatorsDistributionGrammar) {
  Scenario s = MustLoad(
      "clients: {a: json}\n"
      "network: {latency: 'lognormal median=5ms sigma=0.5', clients: {a: {latency: 'pareto scale=1ms shape=2.5 cap=1s'}}}\n"
      "steps: [{delay: {client: a, latency: exponential mean=2ms}}]\n");
  EXPECT_EQ(s.network.defaults.latency->kind(), sim::Distribution::Kind::kLognormal);
  EXPECT_EQ(*s.clients[0].network.latency, sim::Distribution::Pareto(1e6, 2.5).WithCap(1e9));
  EXPECT_EQ(s.steps[0].As<DelayStep>().link.latency->kind(), sim::Distribution::Kind::kExponential);
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "network: {latency: gaussian 5ms}\n"
                       "steps: [{connect: a}]\n"),
            "6:20: distribution 'gaussian 5ms': unknown kind 'gaussian' (expected constant, uniform, "
            "normal, lognormal, pareto or exponential)");
}

TEST(ScenarioLoader, InjectedBugsMustBeSwitchesOfTheReferenceService) {
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "service: {inject_bug: [skip_role_check]}\n"
                       "steps: [{connect: a}]\n"),
            "6:23: unknown bug 'skip_role_check' (did you mean 'skip-role-check'?)");
}

TEST(ScenarioLoader, MatcherKeysMustApplyToTheReceivingKind) {
  EXPECT_EQ(FirstError("clients: {w: websocket}\n"
                       "steps: [{connect: w}]\n"
                       "expect:\n"
                       "  - receive: {client: w, group: g}\n"),
            "8:26: matcher key 'group' does not apply to websocket clients");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps: [{join: {client: a, group: g}, as: j}]\n"
                       "expect:\n"
                       "  - ack: {step: j}\n"),
            "8:17: step 'j' sends no ackId (add 'ack: auto' to it)");
}

TEST(ScenarioLoader, TemplatesAreCheckedAtLoadTime) {
  EXPECT_EQ(FirstError("clients: {a: json, api: rest}\n"
                       "steps:\n"
                       "  - rest: {op: send_to_all, body: x, filter: \"connectionId eq '${b.connection_id}'\"}\n"),
            "7:46: undefined client 'b' (clients: a, api)");
  EXPECT_EQ(FirstError("clients: {a: json, api: rest}\n"
                       "steps:\n"
                       "  - rest: {op: send_to_all, body: x, filter: \"userId eq '${a.name}'\"}\n"),
            "7:46: unknown template ${a.name} (expected ${client.connection_id}, ${client.user} or a repeat index)");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps:\n"
                       "  - send_to_group: {client: a, group: g, data: 'n=${i}', data_type: text}\n"),
            "7:48: unknown template ${i} (expected ${client.connection_id}, ${client.user} or a repeat index)")
      << "${i} is only known inside repeat";
}

TEST(ScenarioLoader, UnknownNamesGetSuggestions) {
  EXPECT_EQ(FirstError("clients: {a: {kind: websockt}}\n"
                       "steps: [{connect: a}]\n"),
            "5:21: unknown client kind 'websockt' (did you mean 'websocket'?)");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps: [{conect: a}]\n"),
            "6:10: unknown step 'conect' (did you mean 'connect'?)");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps: [{connect: a}]\n"
                       "expect:\n"
                       "  - recieve: {client: a}\n"),
            "8:5: unknown expectation 'recieve' (did you mean 'receive'?)");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps: [{connect: a}]\n"
                       "expect:\n"
                       "  - receive: {client: a, wihtin: 1s}\n"),
            "8:26: unknown key 'wihtin' (did you mean 'within'?)");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps: [{connect: b}]\n"),
            "6:19: undefined client 'b' (clients: a)");
  EXPECT_EQ(FirstError("clients: {a: json}\n"
                       "steps: [{connect: a}]\n"
                       "zzz: 1\n"),
            "7:1: unknown key 'zzz' in the scenario (valid keys: name, source, description, tags, hub, seed, "
            "targets, run, network, service, upstream, clients, steps, expect, invariants, thresholds, "
            "eventually, swarm)");
}

TEST(ScenarioLoader, ReportsEveryProblemSortedByPosition) {
  std::string all = Errors(
      "clients:\n"
      "  a: {kind: json, cout: 2}\n"
      "  a: json\n"
      "steps:\n"
      "  - wait: abc\n"
      "  - join: {client: a}\n");
  EXPECT_EQ(all,
            "6:19: unknown key 'cout' (did you mean 'count'?)\n"
            "7:3: duplicate client name 'a' (first defined at 6:3)\n"
            "9:11: expected a duration like 5ms, got 'abc'\n"
            "10:11: missing required key 'group' in step 'join'\n");
}

TEST(ScenarioLoader, MissingRequiredTopLevelKeysAreReported) {
  LoadResult r = LoadScenarioText("name: x\n", "m.yaml");
  ASSERT_FALSE(r.ok());
  std::string all = FormatDiagnostics(r.diagnostics);
  EXPECT_NE(all.find("m.yaml:1:1: missing required key 'description' in the scenario"), std::string::npos) << all;
  EXPECT_NE(all.find("missing required key 'hub'"), std::string::npos);
  EXPECT_NE(all.find("missing required key 'clients'"), std::string::npos);
  EXPECT_NE(all.find("missing required key 'steps'"), std::string::npos);
}

TEST(ScenarioLoader, YamlSyntaxErrorsCarryTheParserPosition) {
  LoadResult r = LoadScenarioText("name: x\nclients: {a: json\nsteps: []\n", "y.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].pos.line, 3);
  EXPECT_NE(r.diagnostics[0].message.find("YAML syntax error"), std::string::npos);
  LoadResult hint = LoadScenarioText(kHeader + "clients: {s: {kind: json, count: 2}}\nsteps: [{kill: {client: s[1]}}]\n", "h.yaml");
  ASSERT_EQ(hint.diagnostics.size(), 1u);
  EXPECT_NE(hint.diagnostics[0].message.find("quote cohort members"), std::string::npos)
      << hint.diagnostics[0].message;
}

TEST(ScenarioLoader, LoadScenarioFileReturnsEveryDiagnosticInTheError) {
  auto r = LoadScenarioFile(std::string(WPSIM_SOURCE_DIR) + "/tests/data/does-not-exist.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "scenario");
  EXPECT_NE(r.error().message.find("cannot read scenario file"), std::string::npos);
}

TEST(ScenarioLoader, SuggestClosestOnlyOffersPlausibleTypos) {
  EXPECT_EQ(SuggestClosest("recieve", {"receive", "never_receive"}), "receive");
  EXPECT_EQ(SuggestClosest("kidn", {"kind", "count"}), "kind");
  EXPECT_EQ(SuggestClosest("zzz", {"kind", "count"}), "");
  EXPECT_EQ(SuggestClosest("x", {"as", "at"}), "");
}

TEST(YamlToJson, TypesPlainScalarsLikeTheYamlCoreSchema) {
  YAML::Node n = YAML::Load(
      "i: 5\nn: -3\nf: 2.5\ne: 1e3\nt: true\nz: null\ns: hello\nq: '5'\nb: |\n  text\nl: [1, x]\n"
      "big: 99999999999999999999\n");
  nlohmann::json j = YamlToJson(n);
  EXPECT_EQ(j["i"], 5);
  EXPECT_EQ(j["n"], -3);
  EXPECT_EQ(j["f"], 2.5);
  EXPECT_EQ(j["e"], 1000.0);
  EXPECT_EQ(j["t"], true);
  EXPECT_TRUE(j["z"].is_null());
  EXPECT_EQ(j["s"], "hello");
  EXPECT_EQ(j["q"], "5");
  EXPECT_EQ(j["b"], "text\n");
  EXPECT_EQ(j["l"], nlohmann::json::parse(R"([1,"x"])"));
  EXPECT_EQ(j["big"], "99999999999999999999");
}

}  // namespace
}  // namespace wpsim::conformance

namespace wpsim::conformance {
namespace {

TEST(ScenarioLoader, AProtocolMessageNameSuggestsTheStepThatSendsIt) {
  const std::string clients = "clients: {a: reliable}\nsteps:\n";
  EXPECT_EQ(FirstError(clients + "  - joinGroup: {client: a, group: g}\n"),
            "7:5: unknown step 'joinGroup' (did you mean 'join'?)");
  EXPECT_EQ(FirstError(clients + "  - leaveGroup: {client: a, group: g}\n"),
            "7:5: unknown step 'leaveGroup' (did you mean 'leave'?)");
  EXPECT_EQ(FirstError(clients + "  - sendEvent: {client: a, event: e, data: x}\n"),
            "7:5: unknown step 'sendEvent' (did you mean 'event'?)");
  EXPECT_EQ(FirstError(clients + "  - sequenceAck: a\n"),
            "7:5: unknown step 'sequenceAck' (did you mean 'sequence_ack'?)");
  EXPECT_EQ(FirstError(clients + "  - sendToGroup: {client: a, group: g, data: x}\n"),
            "7:5: unknown step 'sendToGroup' (did you mean 'send_to_group'?)");
  // A name that is neither a step, a protocol name nor a typo of one gets no suggestion.
  EXPECT_EQ(FirstError(clients + "  - teleport: a\n"), "7:5: unknown step 'teleport'");
}

}  // namespace
}  // namespace wpsim::conformance

namespace wpsim::conformance {
namespace {

TEST(ScenarioLoader, AUsersOwnScenarioNeedsNoSource) {
  LoadResult r = LoadScenarioText("name: mine\ndescription: d\nhub: h\nclients: {a: json}\nsteps: [{connect: a}]\n",
                                  "mine.yaml");
  ASSERT_TRUE(r.ok()) << FormatDiagnostics(r.diagnostics);
  EXPECT_TRUE(r.scenario->source.seed.empty());
  EXPECT_TRUE(r.scenario->source.section.empty());
  // A source that is given is still checked.
  LoadResult bad = LoadScenarioText("name: m\nsource: {seed: x}\ndescription: d\nhub: h\nclients: {}\nsteps: []\n",
                                    "m.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.diagnostics[0].ToString(), "m.yaml:2:9: missing required key 'section' in source");
}


TEST(ScenarioLoader, AnMqtt311ConnackIsCheckedAgainstItsReturnCodeNotA5ReasonCode) {
  Scenario s = MustLoad("clients: {old: mqtt311}\n"
                        "steps: [{connect: {client: old, expect_connack: 5}}]\n");
  ASSERT_EQ(s.expectations.size(), 1u);
  EXPECT_EQ(s.expectations[0].As<ConnackExpect>().reason_code, 5);
  EXPECT_EQ(FirstError("clients: {old: mqtt311}\n"
                       "steps: [{connect: {client: old, expect_connack: 135}}]\n"),
            "6:49: an mqtt311 CONNACK return code is 0..5 (1 protocol version, 2 identifier "
            "rejected, 3 server unavailable, 4 bad user name or password, 5 not authorized), got "
            "135 (a 5.0 reason code)");
  MustLoad("clients: {new: mqtt5}\n"
           "steps: [{connect: {client: new, expect_connack: 135}}]\n");
}

TEST(ScenarioLoader, ARestConnectionReferenceToARawWebSocketClientIsAnError) {
  EXPECT_EQ(FirstError("clients: {raw: websocket, api: rest}\n"
                       "steps:\n"
                       "  - connect: raw\n"
                       "  - rest: {op: close_connection, connection: raw}\n"),
            "8:46: 'connection': 'raw' is a raw websocket client, which never learns its "
            "connection id; use a json client, or a literal connection_id");
  EXPECT_EQ(FirstError("clients: {raw: websocket, api: rest}\n"
                       "steps:\n"
                       "  - rest: {op: send_to_all, body: x, excluded: raw}\n"),
            "7:48: 'excluded': 'raw' is a raw websocket client, which never learns its "
            "connection id; use a json client, or a literal connection_id");
}

TEST(ScenarioLoader, HttpStatusWithoutStatusExpectsTheOperationsSuccessStatus) {
  Scenario s = MustLoad("clients: {api: rest}\n"
                        "steps:\n"
                        "  - rest: {op: send_to_all, body: x}\n"
                        "    as: all\n"
                        "  - rest: {op: close_all_connections}\n"
                        "    as: close\n"
                        "expect:\n"
                        "  - http_status: {step: all}\n"
                        "  - http_status: {step: close}\n");
  ASSERT_EQ(s.expectations.size(), 2u);
  EXPECT_EQ(s.expectations[0].As<HttpStatusExpect>().statuses, std::vector<int>{202});
  EXPECT_EQ(s.expectations[1].As<HttpStatusExpect>().statuses, std::vector<int>{204});
}

}  // namespace
}  // namespace wpsim::conformance
