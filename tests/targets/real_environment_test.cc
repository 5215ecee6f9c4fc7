// RealEnvironment (the `local` and `remote` targets) and the rules for what real targets skip.
// The local tests start the reference service in-process on 127.0.0.1:0 and drive real JSON
// WebSocket clients through the environment, in real time; every wait is bounded.
#include <gtest/gtest.h>
#include <uv.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "clients/ws_client.h"
#include "conformance/loader.h"
#include "conformance/real_environment.h"
#include "conformance/runner.h"
#include "conformance/targets.h"
#include "protocol/auth/tokens.h"
#include "sim/tls/tls.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace auth = protocol::auth;
namespace wps = protocol::webpubsub;

constexpr int64_t kWait = 10 * sim::kSecond;

std::unique_ptr<Environment> LocalEnvironment(service::ServiceOptions service = {}) {
  RealEnvironmentOptions o;
  o.target = Target::kLocal;
  o.service = std::move(service);
  auto made = MakeRealEnvironment(o);
  EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
  return made.ok() ? std::move(made.value()) : nullptr;
}

std::unique_ptr<clients::WsClient> JsonClient(Environment& env, uint32_t member, std::string user) {
  clients::WsClientOptions o;
  o.kind = clients::WsClientKind::kJson;
  o.service = env.ServiceAddress();
  o.dial = env.Dialer(member);
  o.hub = "chat";
  auth::ClientTokenOptions t;
  t.user_id = user;
  t.roles = std::vector<std::string>{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"};
  t.issued_at = env.ClientRuntime(member).UnixNow() / sim::kSecond;
  t.expires_at = t.issued_at + 3600;
  o.access_token = auth::BuildClientToken(env.connection_string(), o.hub, t);
  return std::make_unique<clients::WsClient>(env.ClientRuntime(member), std::move(user), o);
}

bool Has(const clients::WsClient& c, Observation::Kind kind) {
  for (const Observation& o : c.observations()) {
    if (o.kind == kind) return true;
  }
  return false;
}

bool AckedOk(const clients::WsClient& c, uint64_t ack_id) {
  for (const Observation& o : c.observations()) {
    if (o.kind == Observation::Kind::kAck && o.ack_id == ack_id) return o.success;
  }
  return false;
}

Scenario Load(const std::string& yaml) {
  LoadResult r = LoadScenarioText(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << FormatDiagnostics(r.diagnostics);
  return r.ok() ? *r.scenario : Scenario{};
}

constexpr char kHeader[] = R"(name: t
source: {seed: "001", section: Publish messages using service SDK}
description: test
hub: h
clients:
  a: {kind: json, roles: [webpubsub.joinLeaveGroup]}
)";

TEST(RealEnvironmentLocal, JsonClientsJoinSendAndReceiveThroughTheInProcessService) {
  std::unique_ptr<Environment> env = LocalEnvironment();
  ASSERT_NE(env, nullptr);
  EXPECT_FALSE(env->is_virtual_time());
  EXPECT_EQ(env->network(), nullptr);
  EXPECT_EQ(env->connection_string().host, "127.0.0.1");
  ASSERT_TRUE(env->connection_string().port.has_value());
  EXPECT_EQ(*env->connection_string().port, env->ServiceAddress().port);
  EXPECT_NE(env->ServiceAddress().port, 0);
  // Every member shares one runtime.
  EXPECT_EQ(&env->ClientRuntime(0), &env->ClientRuntime(1));

  auto alice = JsonClient(*env, 0, "alice");
  auto bob = JsonClient(*env, 1, "bob");
  alice->Connect();
  bob->Connect();
  ASSERT_TRUE(env->RunUntil(env->Now() + kWait, [&] {
                   return Has(*alice, Observation::Kind::kConnected) &&
                          Has(*bob, Observation::Kind::kConnected);
                 }).ok());
  ASSERT_TRUE(Has(*alice, Observation::Kind::kConnected));
  ASSERT_TRUE(Has(*bob, Observation::Kind::kConnected));

  ASSERT_TRUE(bob->JoinGroup("g", 1).ok());
  ASSERT_TRUE(env->RunUntil(env->Now() + kWait, [&] { return AckedOk(*bob, 1); }).ok());
  ASSERT_TRUE(AckedOk(*bob, 1));

  ASSERT_TRUE(alice->SendToGroup("g", wps::Payload::Text("hello over TCP"), 1, false).ok());
  auto received = [&] {
    for (const Observation& o : bob->observations()) {
      if (o.kind == Observation::Kind::kGroupMessage && o.group == "g" &&
          o.payload.data.view() == "hello over TCP" && o.from_user_id == "alice") {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(env->RunUntil(env->Now() + kWait, received).ok());
  EXPECT_TRUE(received());
  EXPECT_TRUE(AckedOk(*alice, 1));
  alice.reset();
  bob.reset();
}

TEST(RealEnvironmentLocal, RunUntilReturnsAtTheDeadlineInRealTime) {
  std::unique_ptr<Environment> env = LocalEnvironment();
  ASSERT_NE(env, nullptr);
  const int64_t t0 = env->Now();
  ASSERT_TRUE(env->RunUntil(t0 + 50 * sim::kMillisecond, [] { return false; }).ok());
  const int64_t waited = env->Now() - t0;
  EXPECT_GE(waited, 50 * sim::kMillisecond);
  EXPECT_LT(waited, 2 * sim::kSecond);
  // A predicate that holds returns at once.
  const int64_t t1 = env->Now();
  ASSERT_TRUE(env->RunUntil(t1 + 10 * sim::kSecond, [] { return true; }).ok());
  EXPECT_LT(env->Now() - t1, sim::kSecond);
}

TEST(RealEnvironmentLocal, InProcessServiceTakesTheScenariosAccessKey) {
  service::ServiceOptions s;
  s.access_keys = {"a-scenario-specific-access-key-0123456789ABCDEF"};
  std::unique_ptr<Environment> env = LocalEnvironment(s);
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->connection_string().access_key, s.access_keys.front());
  // Tokens signed with that key are accepted.
  auto c = JsonClient(*env, 0, "carol");
  c->Connect();
  ASSERT_TRUE(env->RunUntil(env->Now() + kWait, [&] {
                   return Has(*c, Observation::Kind::kConnected) ||
                          Has(*c, Observation::Kind::kHandshakeFailed);
                 }).ok());
  EXPECT_TRUE(Has(*c, Observation::Kind::kConnected));
}

TEST(RealEnvironmentLocal, ABusyListenAddressIsAnError) {
  std::unique_ptr<Environment> first = LocalEnvironment();
  ASSERT_NE(first, nullptr);
  RealEnvironmentOptions o;
  o.listen = "127.0.0.1:" + std::to_string(first->ServiceAddress().port);
  auto second = MakeRealEnvironment(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "listen");
}

TEST(RealEnvironmentRemote, HttpsEndpointsDialThroughTlsTrustingTheExtraCa) {
  sim::Rng rng(3);
  auto cert = sim::GenerateSelfSignedCert("localhost", {"localhost"}, rng);
  ASSERT_TRUE(cert.ok());
  const std::string path = ::testing::TempDir() + "real_env_ca.pem";
  std::ofstream(path) << cert.value().cert_pem;
  RealEnvironmentOptions o;
  o.target = Target::kRemote;
  o.connection_string = "Endpoint=https://localhost;Port=8443;AccessKey=k;Version=1.0";
  o.ca_file = path;
  auto made = MakeRealEnvironment(o);
  ASSERT_TRUE(made.ok()) << made.error().message;
  Environment& env = *made.value();
  EXPECT_TRUE(env.tls());
  EXPECT_TRUE(static_cast<bool>(env.Dialer(0)));
  EXPECT_EQ(env.ServiceAddress(), (sim::Address{"localhost", 8443}));
  std::remove(path.c_str());
}

TEST(RealEnvironmentRemote, PlainHttpEndpointsUseTheDefaultPortAndNoTls) {
  RealEnvironmentOptions o;
  o.target = Target::kRemote;
  o.connection_string = "Endpoint=http://example.invalid;AccessKey=k;Version=1.0";
  auto made = MakeRealEnvironment(o);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_FALSE(made.value()->tls());
  EXPECT_FALSE(static_cast<bool>(made.value()->Dialer(0)));
  EXPECT_EQ(made.value()->ServiceAddress(), (sim::Address{"example.invalid", 80}));
}

TEST(RealEnvironmentRemote, RefusesMissingConnectionStringsAndUnreadableCaFiles) {
  RealEnvironmentOptions o;
  o.target = Target::kRemote;
  auto none = MakeRealEnvironment(o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "target");
  o.connection_string = "Endpoint=https://localhost;AccessKey=k";
  o.ca_file = "/nonexistent/ca.pem";
  auto bad_ca = MakeRealEnvironment(o);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_EQ(bad_ca.error().code, "ca_file");
  o.connection_string = "AccessKey=k";
  auto bad_cs = MakeRealEnvironment(o);
  ASSERT_FALSE(bad_cs.ok());
  EXPECT_EQ(bad_cs.error().code, "connection_string");
}

TEST(RealTargetSkips, NetworkControlAndClockSkewAreSimOnly) {
  Scenario net = Load(std::string(kHeader) + "steps:\n  - connect: a\n  - partition: {client: a}\n  - heal: a\n");
  EXPECT_FALSE(RealTargetSkipReasons(net, false, 0).empty());
  EXPECT_TRUE(SkipReasons(net, Target::kSim).empty());
  Scenario skew = Load(std::string(kHeader) + "steps:\n  - set_clock_skew: +10m\n");
  ASSERT_FALSE(RealTargetSkipReasons(skew, true, 0).empty());
  EXPECT_NE(RealTargetSkipReasons(skew, true, 0)[0].find("clock"), std::string::npos);
  Scenario plain = Load(std::string(kHeader) + "steps:\n  - connect: a\n");
  EXPECT_TRUE(RealTargetSkipReasons(plain, true, 0).empty());
}

TEST(RealTargetSkips, ServiceSettingsRunInProcessButNotOnAnExternalService) {
  Scenario s = Load(std::string(kHeader) + "service: {recovery_window: 5s}\nsteps:\n  - connect: a\n");
  EXPECT_TRUE(RealTargetSkipReasons(s, false, 0).empty());
  ASSERT_EQ(RealTargetSkipReasons(s, true, 0).size(), 1u);
  RunnerOptions local;
  local.target = Target::kLocal;
  EXPECT_TRUE(SkipReasons(s, local).empty());
  RunnerOptions remote;
  remote.target = Target::kRemote;
  remote.connection_string = "Endpoint=https://x;AccessKey=k";
  EXPECT_FALSE(SkipReasons(s, remote).empty());
  Scenario key = Load(std::string(kHeader) +
                      "service: {access_key: ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH}\nsteps:\n  - connect: a\n");
  EXPECT_TRUE(RealTargetSkipReasons(key, false, 0).empty());
  EXPECT_FALSE(RealTargetSkipReasons(key, true, 0).empty());
}

constexpr char kUpstreamScenario[] = R"(name: upstream-gatekeeper
source: {seed: "004", section: Next steps}
description: test
hub: up
upstream:
  handlers:
    - {url: "http://app/api/{event}", user_events: "*", system_events: [connect, connected]}
  responses:
    - {on: connect, match: {user: mallory}, reject: {status: 401, body: not you}}
    - {on: connect, match: {user: bob}, accept: {user: robert}}
    - {on: echo, reply: {body: echoed, content_type: text/plain}}
clients:
  mallory: {kind: json, user: mallory}
  bob: {kind: json, user: bob}
steps:
  - connect: {client: mallory, expect_status: 401}
  - connect: bob
  - event: {client: bob, event: echo, data: hi, data_type: text, ack: auto, expect_ack: success}
    as: echo
expect:
  - connected: {client: bob, user_id: robert}
  - receive: {client: bob, after: echo, from: server, data: echoed, count: 1}
  - upstream_event: {event: echo, client: bob, count: 1, body_text: hi}
  - upstream_event: {event: connected, client: bob, count: 1}
  - upstream_event: {event: connected, client: mallory, count: 0}
)";

TEST(RealTargetUpstream, EventHandlerScenariosRunAgainstTheInProcessService) {
  Scenario s = Load(kUpstreamScenario);
  RunnerOptions local;
  local.target = Target::kLocal;
  EXPECT_TRUE(SkipReasons(s, local).empty());
  reports::ScenarioResult r;
  RunScenario(s, local, r);
  std::string failures;
  for (const reports::Failure& f : r.failures) failures += f.message + " / " + f.actual + "\n";
  EXPECT_EQ(r.status, reports::Outcome::kPass) << r.skip_reason << failures;
}

// A REST call that gets no answer (nothing listens at the endpoint: status 0) is a failed
// request for error_rate, not one left out ("0 of 2 REST calls failed" before).
TEST(RealTargetErrorRate, RestCallsWithoutAnAnswerCountAsFailed) {
  // A port that was free a moment ago: connecting to it is refused.
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  uv_tcp_t probe;
  uv_tcp_init(&loop, &probe);
  sockaddr_in any{};
  uv_ip4_addr("127.0.0.1", 0, &any);
  ASSERT_EQ(uv_tcp_bind(&probe, reinterpret_cast<const sockaddr*>(&any), 0), 0);
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&probe, reinterpret_cast<sockaddr*>(&bound), &len);
  const int port = ntohs(bound.sin_port);
  uv_close(reinterpret_cast<uv_handle_t*>(&probe), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  Scenario s = Load(R"(name: rest-unanswered
source: {seed: "001", section: Publish messages}
description: Two REST calls to an endpoint where nothing listens.
hub: errorrate
clients:
  api: rest
steps:
  - rest: {op: send_to_all, body: one, content_type: text/plain}
  - rest: {op: send_to_all, body: two, content_type: text/plain}
thresholds:
  - error_rate < 1%
)");
  RunnerOptions remote;
  remote.target = Target::kRemote;
  remote.connection_string =
      "Endpoint=http://127.0.0.1;Port=" + std::to_string(port) + ";AccessKey=k;Version=1.0;";
  reports::ScenarioResult r;
  RunScenario(s, remote, r);
  EXPECT_EQ(r.Counter(reports::kCounterRestCalls), 2u);
  EXPECT_EQ(r.Counter(reports::kCounterErrors), 2u);
  ASSERT_EQ(r.thresholds.size(), 1u);
  EXPECT_FALSE(r.thresholds[0].passed);
  EXPECT_EQ(r.thresholds[0].observed, "100% (2 of 2 REST calls failed)");
}

TEST(RealTargetUpstream, AnExternalServiceNeedsUpstreamListenAndThenUsesTheScenariosOwnHub) {
  Scenario s = Load(kUpstreamScenario);
  RunnerOptions remote;
  remote.target = Target::kRemote;
  remote.connection_string = "Endpoint=https://example.invalid;AccessKey=k";
  std::vector<std::string> why = SkipReasons(s, remote);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("--upstream-listen"), std::string::npos) << why[0];
  remote.upstream_listen = "127.0.0.1:9000";
  EXPECT_TRUE(SkipReasons(s, remote).empty());
  EXPECT_EQ(UpstreamHubName(s), "up_upstream_gatekeeper");
  s.name = "up-gatekeeper";  // the hub's name in front is dropped
  EXPECT_EQ(UpstreamHubName(s), "up_gatekeeper");
}

TEST(RealTargetUpstream, HandlerUrlsNamingTheSimulatedAppServerArePointedAtTheRealOne) {
  EXPECT_EQ(PointAtAppServer("http://app/api/{event}", "http://127.0.0.1:9000"),
            "http://127.0.0.1:9000/api/{event}");
  EXPECT_EQ(PointAtAppServer("http://app:80/{hub}/{event}", "http://127.0.0.1:9000"),
            "http://127.0.0.1:9000/{hub}/{event}");
  EXPECT_EQ(PointAtAppServer("HTTP://APP?e={event}", "http://[::1]:1"), "http://[::1]:1?e={event}");
  EXPECT_EQ(PointAtAppServer("http://apple/x", "http://h:1"), "http://apple/x");
  EXPECT_EQ(PointAtAppServer("https://app/x", "http://h:1"), "https://app/x");
}

TEST(RealTargetUpstream, ServeConfigGivesEachScenarioItsOwnHubWithItsHandlers) {
  Scenario s = Load(kUpstreamScenario);
  Scenario plain = Load(std::string(kHeader) + "steps:\n  - connect: a\n");
  const std::string config = UpstreamServeConfig({&s, &plain}, "127.0.0.1:9000");
  EXPECT_NE(config.find("hubs:\n  \"up_upstream_gatekeeper*\":  # upstream-gatekeeper\n    eventHandlers:\n"
                        "      - urlTemplate: \"http://127.0.0.1:9000/up_upstream_gatekeeper/api/{event}\"\n"
                        "        userEventPattern: \"*\"\n"
                        "        systemEvents: [\"connect\", \"connected\"]\n"),
            std::string::npos)
      << config;
  EXPECT_EQ(config.find("h_"), std::string::npos) << "a scenario without upstream got a hub";
}

TEST(RealTargetSkips, LongDeclaredWaitsAreSkippedOnlyAboveTheLimit) {
  Scenario s = Load(std::string(kHeader) + "run: {settle: 1s}\nsteps:\n  - connect: a\n  - wait: 20s\n  - wait: 15s\n");
  EXPECT_EQ(DeclaredRealWaitNs(s), 36 * sim::kSecond);
  EXPECT_TRUE(RealTargetSkipReasons(s, false, 40 * sim::kSecond).empty());
  EXPECT_TRUE(RealTargetSkipReasons(s, false, 0).empty());
  std::vector<std::string> r = RealTargetSkipReasons(s, false, 30 * sim::kSecond);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].find("--max-real-wait"), std::string::npos);
}

TEST(RealTargetReproduce, CommandKeepsHubSuffixAndCaButNeverTheAccessKey) {
  // A scenario real targets skip: RunScenario records the reproduce command without dialing.
  Scenario s = Load(std::string(kHeader) + "steps:\n  - connect: a\n  - partition: {client: a}\n");
  s.file = "scenarios/x.yaml";
  RunnerOptions remote;
  remote.target = Target::kRemote;
  remote.connection_string = "Endpoint=https://example.invalid;AccessKey=c2VjcmV0LWtleQ==;Version=1.0;";
  remote.hub_suffix = "_r1234";
  remote.ca_file = "cert.pem";
  reports::ScenarioResult r;
  RunScenario(s, remote, r);
  EXPECT_EQ(r.status, reports::Outcome::kSkip);
  EXPECT_EQ(r.reproduce.find("c2VjcmV0LWtleQ"), std::string::npos) << r.reproduce;
  EXPECT_NE(r.reproduce.find("--target remote"), std::string::npos) << r.reproduce;
  EXPECT_NE(r.reproduce.find("--hub-suffix _r1234"), std::string::npos) << r.reproduce;
  EXPECT_NE(r.reproduce.find("--ca cert.pem"), std::string::npos) << r.reproduce;
  EXPECT_NE(r.reproduce.find("--connection-string \"$WebPubSubConnectionString\""), std::string::npos)
      << r.reproduce;

  RunnerOptions local;  // the in-process service: no connection string, no suffix
  local.target = Target::kLocal;
  reports::ScenarioResult l;
  RunScenario(s, local, l);
  EXPECT_NE(l.reproduce.find("--target local --hub-suffix none"), std::string::npos) << l.reproduce;
  EXPECT_EQ(l.reproduce.find("--connection-string"), std::string::npos) << l.reproduce;
}

}  // namespace
}  // namespace wpsim::conformance
