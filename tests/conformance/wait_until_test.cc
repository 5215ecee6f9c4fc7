// The flow family's wait_until step: it completes once every addressed member has received the
// given number of data messages after it was issued (acks and system messages do not count), and
// fails the scenario like any step when they do not come within its timeout.
#include <gtest/gtest.h>

#include <string>

#include "conformance/loader.h"
#include "reports/model.h"
#include "tests/conformance/run_inline.h"

namespace wpsim::conformance {
namespace {

using test_util::Failures;

// pub sends two messages 300 ms apart; the subscribers' links take 100 ms each way.
constexpr char kHead[] = R"(name: wait-until-test
source: {seed: "003", section: Connect PubSub WebSocket client to Azure Web PubSub}
description: wait_until on an observation count
hub: h
network: {latency: 100ms}
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  sub: {kind: json, count: 2, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - parallel:
      - send_to_group: {client: pub, group: g, data: one, data_type: text, at: 0ms}
      - send_to_group: {client: pub, group: g, data: two, data_type: text, at: 300ms}
      - WAIT_UNTIL
  - wait: 1ms
    as: after
expect:
  - receive: {client: sub, data: two, until: after, count: 1}
)";

std::string With(const std::string& wait_until) {
  std::string s = kHead;
  s.replace(s.find("WAIT_UNTIL"), 10, wait_until);
  return s;
}

TEST(WaitUntil, CompletesWhenEveryMemberReceivedTheCount) {
  // Without the wait, `after` comes before "two" reaches the subscribers (the parallel block
  // completes once both sends are issued) and the receive check fails.
  reports::ScenarioResult r = test_util::RunInline(With("wait_until: {client: sub, received: 2}"));
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
  reports::ScenarioResult without = test_util::RunInline(With("wait: 1ms"));
  EXPECT_EQ(without.status, reports::Outcome::kFail);
}

TEST(WaitUntil, TimesOutWhenFewerMessagesArrive) {
  reports::ScenarioResult r =
      test_util::RunInline(With("wait_until: {client: sub, received: 3, timeout: 2s}"));
  EXPECT_EQ(r.status, reports::Outcome::kFail);
  EXPECT_NE(Failures(r).find("wait_until"), std::string::npos) << Failures(r);
}

TEST(WaitUntil, TheBareReferenceWaitsForOneMessage) {
  LoadResult loaded = LoadScenarioText(With("wait_until: sub"), "w.yaml");
  ASSERT_TRUE(loaded.ok()) << FormatDiagnostics(loaded.diagnostics);
  const Step& s = loaded.scenario->steps[loaded.scenario->steps.size() - 2];
  ASSERT_TRUE(s.Is<WaitUntilStep>());
  EXPECT_EQ(s.As<WaitUntilStep>().received, 1u);
  EXPECT_EQ(s.As<WaitUntilStep>().clients.members.size(), 2u);
}

TEST(WaitUntil, RestClientsAndAZeroCountAreLoadErrors) {
  LoadResult zero = LoadScenarioText(With("wait_until: {client: sub, received: 0}"), "w.yaml");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(FormatDiagnostics(zero.diagnostics).find("received"), std::string::npos)
      << FormatDiagnostics(zero.diagnostics);
  std::string rest = With("wait_until: api");
  rest.replace(rest.find("steps:"), 0, "  api: rest\n");
  LoadResult r = LoadScenarioText(rest, "w.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(FormatDiagnostics(r.diagnostics).find("'api' is a rest client"), std::string::npos)
      << FormatDiagnostics(r.diagnostics);
}

}  // namespace
}  // namespace wpsim::conformance
