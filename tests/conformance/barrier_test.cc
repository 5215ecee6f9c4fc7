// `barrier` with quiesce (the default) on the sim target: it completes only when no byte is in
// flight anywhere in the simulated network and nothing else is due at that instant — and bytes
// a reset discarded do not count as in flight (they used to keep the barrier waiting until its
// step timeout). Also: the sequence diagram of a failing never_receive highlights the arrow of
// the offending delivery, and open-loop blocks record throughput over time.
#include <gtest/gtest.h>

#include <string>

#include "conformance/loader.h"
#include "conformance/runner.h"
#include "reports/model.h"
#include "tests/conformance/run_inline.h"

namespace wpsim::conformance {
namespace {

constexpr char kHead[] = R"(name: barrier-test
source: {seed: "003", section: Connect PubSub WebSocket client to Azure Web PubSub}
description: barrier quiescence
hub: h
network: {latency: 100ms}
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  sub: {kind: json, roles: [webpubsub.joinLeaveGroup]}
)";

using test_util::Failures;

reports::ScenarioResult RunBody(const std::string& body) {
  return test_util::RunInline(std::string(kHead) + body, "barrier.yaml");
}

constexpr char kSendThenBarrier[] = R"(steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - send_to_group: {client: pub, group: g, data: hi, data_type: text}
  - BARRIER
  - wait: 1ms
    as: after
expect:
  - receive: {client: sub, data: hi, until: after, count: 1}
)";

std::string WithBarrier(const std::string& barrier) {
  std::string s = kSendThenBarrier;
  s.replace(s.find("BARRIER"), 7, barrier);
  return s;
}

TEST(BarrierQuiesce, WaitsUntilTheMessageOnTheWireIsDelivered) {
  reports::ScenarioResult r = RunBody(WithBarrier("barrier"));
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(BarrierQuiesce, WithoutQuiesceOnlyPendingOperationsAreAwaited) {
  // The fire-and-forget send is complete at once, so the barrier does not wait for the
  // 100 ms + 100 ms path to the subscriber and the message arrives after `after`.
  reports::ScenarioResult r = RunBody(WithBarrier("barrier: {quiesce: false}"));
  EXPECT_EQ(r.status, reports::Outcome::kFail);
}

TEST(BarrierQuiesce, BytesDiscardedByAResetAreNotInFlight) {
  reports::ScenarioResult r = RunBody(R"(run: {step_timeout: 5s}
steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - send_to_group: {client: pub, group: g, data: hi, data_type: text}
  - wait: 50ms     # the message is on the 100 ms link from pub to the service
  - reset: pub
  - barrier: {quiesce: true}
    as: settled
  - wait: 1ms
expect:
  - never_receive: {client: sub, data: hi}
)");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
  // connect, join and the waits take ~650 ms; a barrier stuck until its 5 s timeout would not.
  EXPECT_LT(r.duration_ns, 3'000'000'000) << r.duration_ns;
}

TEST(SequenceDiagram, TheDeliveryThatBrokeANeverReceiveIsHighlighted) {
  reports::ScenarioResult r = RunBody(R"(steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - send_to_group: {client: pub, group: g, data: hi, data_type: text}
  - barrier
expect:
  - never_receive: {client: sub, data: hi}
)");
  ASSERT_EQ(r.status, reports::Outcome::kFail);
  size_t highlighted = 0;
  for (const reports::Arrow& a : r.sequence.arrows) {
    if (!a.highlighted) continue;
    ++highlighted;
    EXPECT_EQ(a.to, "sub");
    EXPECT_NE(a.label.find("hi"), std::string::npos) << a.label;
  }
  EXPECT_EQ(highlighted, 1u);
}

TEST(Throughput, AnOpenLoopBlockRecordsSentAndDeliveredPerInterval) {
  reports::ScenarioResult r = RunBody(R"(steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - repeat:
      count: 100
      rate: 100/s
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text}
expect:
  - receive: {client: sub, data_contains: m, count: 100}
)");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
  ASSERT_EQ(r.throughput.count("messages_sent"), 1u);
  ASSERT_EQ(r.throughput.count("messages_delivered"), 1u);
  const reports::ThroughputSeries& sent = r.throughput.at("messages_sent");
  const reports::ThroughputSeries& got = r.throughput.at("messages_delivered");
  EXPECT_EQ(sent.Total(), 100u);
  EXPECT_EQ(got.Total(), 100u);
  EXPECT_EQ(sent.interval_ns, 20'000'000);  // 1 s planned / 50, a 1-2-5 step
  // 100/s in 20 ms intervals: two sends per interval.
  for (uint64_t c : sent.counts) EXPECT_EQ(c, 2u);
}

}  // namespace
}  // namespace wpsim::conformance
