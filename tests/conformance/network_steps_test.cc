// Network steps on the sim target reach every link they name: `delay` with `client: upstream`
// slows the service <-> application server link (it used to be accepted and ignored), and a
// client's delay starts from the client's own link settings.
#include <gtest/gtest.h>

#include <string>

#include "conformance/loader.h"
#include "conformance/runner.h"
#include "reports/model.h"
#include "tests/conformance/run_inline.h"

namespace wpsim::conformance {
namespace {

using test_util::Failures;

reports::ScenarioResult RunYaml(const std::string& yaml) { return test_util::RunInline(yaml, "network.yaml"); }

std::string UpstreamScenario(const std::string& delay_step) {
  return R"(name: upstream-delay
source: {seed: "004", section: Next steps}
description: a user event's ack waits for the application server's reply
hub: h
network: {latency: 1ms}
upstream:
  handlers:
    - {url: "http://app/api/{event}", user_events: "*"}
  responses:
    - {on: echo, reply: {body: ok, content_type: text/plain}}
clients:
  alice: {kind: json, user: alice}
steps:
  - connect: alice
)" + delay_step + R"(  - event: {client: alice, event: echo, data: x, data_type: text, ack: auto, expect_ack: success}
    as: ev
expect:
  - never_receive: {client: alice, type: ack, after: ev, within: 900ms}
)";
}

TEST(DelayStep, SlowsTheUpstreamLinkWhenItNamesUpstream) {
  // 500 ms each way between the service and the application server: the ack takes > 1 s.
  reports::ScenarioResult slow = RunYaml(UpstreamScenario("  - delay: {client: upstream, latency: 500ms}\n"));
  EXPECT_EQ(slow.status, reports::Outcome::kPass) << Failures(slow);
  // Without the delay the ack is back within a few milliseconds, which the expectation forbids.
  reports::ScenarioResult fast = RunYaml(UpstreamScenario(""));
  EXPECT_EQ(fast.status, reports::Outcome::kFail);
}

TEST(DelayStep, AClientDelayKeepsTheClientsOtherLinkSettings) {
  // The client's own link has a small bandwidth; the delay changes only the latency, so a
  // 4 KiB message still takes its bandwidth time (8 kbps: about 4 s).
  reports::ScenarioResult r = RunYaml(R"(name: client-delay
source: {seed: "003", section: Connect PubSub WebSocket client to Azure Web PubSub}
description: delay keeps bandwidth
hub: h
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup], network: {bandwidth: 8kbps}}
  sub: {kind: json, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - delay: {client: pub, latency: 1ms}
  - send_to_group: {client: pub, group: g, payload_size: 4KiB, data_type: text}
    as: big
  - wait: 8s
expect:
  - never_receive: {client: sub, type: message, after: big, within: 2s}
  - receive: {client: sub, type: message, after: big, count: 1}
)");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

}  // namespace
}  // namespace wpsim::conformance
