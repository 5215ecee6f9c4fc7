// The runner's observation stream (conformance/driver.h): evaluators see each observation once,
// keep only a bounded context, and windows that open at a later step are judged exactly.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conformance/driver.h"
#include "conformance/loader.h"
#include "run_inline.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
using test_util::Failures;
using test_util::RunInline;

Observation GroupMessage(const std::string& text) {
  Observation o;
  o.kind = Observation::Kind::kGroupMessage;
  o.group = "g";
  o.payload = protocol::webpubsub::Payload::Text(text);
  return o;
}

TEST(RecentMessages, KeepsTheLastFewAndCountsTheEarlierOnes) {
  RecentMessages recent(5);
  EXPECT_EQ(recent.Describe(5), "nothing");
  std::vector<Observation> all;
  for (int i = 1; i <= 7; ++i) all.push_back(GroupMessage("m" + std::to_string(i)));
  for (size_t i = 0; i < all.size(); ++i)
    recent.Add(ObservedEvent{all[i], static_cast<int64_t>(i), 1, i + 1});
  std::string want = "... 2 earlier; ";
  for (size_t i = 2; i < all.size(); ++i) want += (i > 2 ? "; " : "") + DescribeObservation(all[i]);
  EXPECT_EQ(recent.Describe(5), want);
  // Fewer than it holds: only the last `max`.
  EXPECT_EQ(recent.Describe(2),
            "... 5 earlier; " + DescribeObservation(all[5]) + "; " + DescribeObservation(all[6]));
}

TEST(RecentMessages, ShowsEverythingWhileBelowCapacity) {
  RecentMessages recent(8);
  Observation a = GroupMessage("a");
  Observation b = GroupMessage("b");
  recent.Add(ObservedEvent{a, 1, 1, 1});
  recent.Add(ObservedEvent{b, 2, 1, 2});
  EXPECT_EQ(recent.Describe(8), DescribeObservation(a) + "; " + DescribeObservation(b));
}

// A scenario with two steps (ids 0 and 1) for window tests; nothing runs.
class WindowFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadResult loaded = LoadScenarioText(R"(
name: window
source: {seed: "000", section: Summary}
description: two waits
hub: h
clients:
  a: {kind: json}
steps:
  - wait: 1s
  - wait: 1s
)",
                                         "window.yaml");
    ASSERT_TRUE(loaded.ok()) << FormatDiagnostics(loaded.diagnostics);
    scenario_ = std::move(*loaded.scenario);
    auto env = MakeSimEnvironment(scenario_, SimEnvironmentOptions{});
    ASSERT_TRUE(env.ok()) << env.error().message;
    env_ = std::move(env.value());
    cx_ = std::make_unique<RunContext>(scenario_, options_, result_, *env_);
  }

  // Feeds one message at `time` and returns the times let through (held ones included).
  std::vector<int64_t> Feed(WindowFilter& f, int64_t time) {
    std::vector<int64_t> out;
    f.Feed(ObservedEvent{message_, time, 1, ++serial_},
           [&](const ObservedEvent& e) { out.push_back(e.time_ns); });
    return out;
  }

  Scenario scenario_;
  RunnerOptions options_;
  reports::ScenarioResult result_;
  std::unique_ptr<Environment> env_;
  std::unique_ptr<RunContext> cx_;
  Observation message_ = GroupMessage("x");
  uint64_t serial_ = 0;
};

TEST_F(WindowFilterTest, HoldsAnInstantsObservationsUntilTheOpeningStepIsIssuedAtThatInstant) {
  TimeWindow w;
  w.after_step = 1;
  WindowFilter f(*cx_, w);
  EXPECT_TRUE(Feed(f, 5).empty());
  EXPECT_TRUE(Feed(f, 5).empty());
  cx_->step_issued[1] = 5;  // issued later in the same instant: both belong to the window
  EXPECT_EQ(Feed(f, 6), (std::vector<int64_t>{5, 5, 6}));
}

TEST_F(WindowFilterTest, DropsHeldObservationsWhenTheOpeningStepComesLater) {
  TimeWindow w;
  w.after_step = 1;
  WindowFilter f(*cx_, w);
  EXPECT_TRUE(Feed(f, 5).empty());
  EXPECT_TRUE(Feed(f, 6).empty());  // time moved on: the one at 5 is before the window
  cx_->step_issued[1] = 7;
  EXPECT_EQ(Feed(f, 7), (std::vector<int64_t>{7}));
}

TEST_F(WindowFilterTest, ClosesAtTheUntilStepAndAfterWithin) {
  TimeWindow until;
  until.until_step = 0;
  WindowFilter f(*cx_, until);
  EXPECT_EQ(Feed(f, 3), (std::vector<int64_t>{3}));
  cx_->step_issued[0] = 4;
  EXPECT_EQ(Feed(f, 4), (std::vector<int64_t>{4}));
  EXPECT_TRUE(Feed(f, 5).empty());

  TimeWindow within;
  within.after_step = 1;
  within.within_ns = 10;
  cx_->step_issued[1] = 100;
  WindowFilter g(*cx_, within);
  EXPECT_TRUE(Feed(g, 99).empty());
  EXPECT_EQ(Feed(g, 110), (std::vector<int64_t>{110}));
  EXPECT_TRUE(Feed(g, 111).empty());
}

TEST_F(WindowFilterTest, FlushReleasesNothingWhenTheOpeningStepNeverRan) {
  TimeWindow w;
  w.after_step = 1;
  WindowFilter f(*cx_, w);
  EXPECT_TRUE(Feed(f, 5).empty());
  std::vector<int64_t> out;
  f.Flush([&](const ObservedEvent& e) { out.push_back(e.time_ns); });
  EXPECT_TRUE(out.empty());
}

// A failing receive over many messages reports the count and only the last five messages.
TEST(ObservationStream, FailingReceiveReportsTheCountAndTheLastFiveMessages) {
  reports::ScenarioResult r = RunInline(R"(
name: many
source: {seed: "000", section: Summary}
description: twenty messages
hub: h
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup.g]}
  sub: {kind: json, groups: [g]}
steps:
  - connect: [pub, sub]
  - repeat:
      count: 20
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text, ack: auto}
expect:
  - receive: {client: sub, data_contains: "m", count: 21}
)");
  ASSERT_EQ(r.failures.size(), 1u) << Failures(r);
  EXPECT_NE(r.failures[0].message.find("sub received 20 matching message(s)"), std::string::npos)
      << Failures(r);
  // 21 messages in the window: system/connected and the 20 group messages; the last 5 shown.
  EXPECT_EQ(r.failures[0].actual.rfind("20 matching; recent: ... 16 earlier; ", 0), 0u)
      << r.failures[0].actual;
  EXPECT_NE(r.failures[0].actual.find("m19"), std::string::npos) << r.failures[0].actual;
  EXPECT_EQ(r.failures[0].actual.find("m14"), std::string::npos) << r.failures[0].actual;
}

// A receive failure of a member whose connection never opened says why (the refused upgrade),
// and one whose connection was closed says how; a member that stayed connected gets no note.
TEST(ObservationStream, FailingReceiveNamesAConnectionThatNeverOpenedOrEnded) {
  reports::ScenarioResult r = RunInline(R"(
name: never-opened
source: {seed: "000", section: Summary}
description: one subscriber's token is expired, one is closed by the service, one stays
hub: h
clients:
  expired: {kind: json, groups: [g], token: expired}
  closed: {kind: json, user: gone, groups: [g]}
  fine: {kind: json, groups: [g]}
  api: rest
steps:
  - connect: [expired, closed, fine]
  - rest: {op: close_user_connections, user: gone, expect_status: 204}
  - wait: 100ms
  - rest: {op: send_to_group, group: g, body: hi, content_type: text/plain, expect_status: 202}
expect:
  - receive: {client: [expired, closed, fine], data: bye, count: 1}
)");
  ASSERT_EQ(r.failures.size(), 3u) << Failures(r);
  for (const auto& f : r.failures) {
    if (f.message.find("expired received") != std::string::npos) {
      EXPECT_NE(f.actual.find("; its connection never opened: handshake_failed status=401"),
                std::string::npos)
          << f.actual;
    } else if (f.message.find("closed received") != std::string::npos) {
      EXPECT_NE(f.actual.find("; its connection ended: closed"), std::string::npos) << f.actual;
    } else {
      EXPECT_EQ(f.actual.find("its connection"), std::string::npos) << f.actual;
    }
  }
}

// An ack expectation judges the first ack answering the step's request, recorded as it came.
TEST(ObservationStream, AckExpectationSeesTheAnswerToItsOwnRequest) {
  reports::ScenarioResult r = RunInline(R"(
name: acks
source: {seed: "000", section: Summary}
description: a refused join
hub: h
clients:
  a: {kind: json}
steps:
  - connect: a
  - join: {client: a, group: g, ack: auto}
    as: join
expect:
  - ack: {step: join, success: true}
)");
  ASSERT_EQ(r.failures.size(), 1u) << Failures(r);
  EXPECT_NE(r.failures[0].message.find("a got the wrong ack"), std::string::npos) << Failures(r);
}

// The runner's clients stream observations without keeping them (record_observations off);
// tests' clients keep them.
template <typename Client, typename Options>
void ExpectStreamedAndKeptOnlyWhenRecording() {
  for (bool record : {true, false}) {
    sim::SimNetwork net;
    sim::SimRuntime* host = net.AddHost("client").value();
    Options o;
    o.service = sim::Address{"nowhere", 80};  // the dial fails: one observation
    o.record_observations = record;
    Client c(*host, "c", o);
    std::vector<Observation::Kind> seen;
    c.on_observation = [&](const Observation& ob) { seen.push_back(ob.kind); };
    c.Connect();
    ASSERT_TRUE(net.RunFor(sim::kSecond).ok());
    EXPECT_EQ(seen, std::vector<Observation::Kind>{Observation::Kind::kHandshakeFailed}) << record;
    EXPECT_EQ(c.observations().size(), record ? 1u : 0u);
  }
}

TEST(ClientRecording, WsClientStreamsEveryObservationAndKeepsThemOnlyWhenRecording) {
  ExpectStreamedAndKeptOnlyWhenRecording<clients::WsClient, clients::WsClientOptions>();
}

TEST(ClientRecording, MqttClientStreamsEveryObservationAndKeepsThemOnlyWhenRecording) {
  ExpectStreamedAndKeptOnlyWhenRecording<clients::MqttClient, clients::MqttClientOptions>();
}

}  // namespace
}  // namespace wpsim::conformance
