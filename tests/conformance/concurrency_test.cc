// Concurrency in the scenario language: `parallel` children and `async` blocks run on strands
// of their own, interleaved in virtual time (each child's waits, `at` offsets and open-loop
// rate advance independently). Before, a parallel ran its children one after the other in
// document order and an async repeat ran to its end before the next step was issued.
#include <gtest/gtest.h>

#include <string>

#include "reports/model.h"
#include "tests/conformance/run_inline.h"

namespace wpsim::conformance {
namespace {

using test_util::Failures;

constexpr char kHead[] = R"(name: concurrency-test
description: strands
hub: h
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  sub: {kind: json, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
)";

reports::ScenarioResult RunBody(const std::string& body) {
  return test_util::RunInline(std::string(kHead) + body, "concurrency.yaml");
}

// 20 sends at 50/s (every 20 ms from the block's start) and a kill of the subscriber 170 ms
// into the block: the kill lands after the 9th send (0..160 ms), so the subscriber gets 9.
constexpr char kRepeat[] = R"(
        - repeat:
            count: 20
            rate: 50/s
            steps:
              - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text}
)";
constexpr char kKill[] = R"(
        - kill: sub
          at: 170ms
)";
constexpr char kNine[] = R"(expect:
  - receive: {client: sub, data_contains: m, count: 9}
)";

TEST(ParallelStrands, AnOpenLoopRepeatAndATimedKillInterleave) {
  reports::ScenarioResult r =
      RunBody(std::string("  - parallel:\n      steps:") + kRepeat + kKill + kNine);
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(ParallelStrands, TheOrderChildrenAreWrittenInDoesNotSerializeThem) {
  reports::ScenarioResult r =
      RunBody(std::string("  - parallel:\n      steps:") + kKill + kRepeat + kNine);
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(ParallelStrands, EachChildsClosedLoopWaitsAdvanceIndependently) {
  // a sends at 100, 200, 300 ms; b at 150, 300 ms: received a0 b0 a1 (then a2, b1 at 300 ms).
  reports::ScenarioResult r = RunBody(R"(  - parallel:
      steps:
        - repeat:
            count: 3
            steps:
              - wait: 100ms
              - send_to_group: {client: pub, group: g, data: "a${i}", data_type: text}
        - repeat:
            count: 2
            steps:
              - wait: 150ms
              - send_to_group: {client: pub, group: g, data: "b${i}", data_type: text}
  - wait: 100ms
expect:
  - receive:
      client: sub
      in_order: [{data: a0}, {data: b0}, {data: a1}]
  - receive: {client: sub, data_contains: a, count: 3}
  - receive: {client: sub, data_contains: b, count: 2}
)");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
  // The block takes 300 ms (the longer child), not 300 + 300 ms one after the other.
  EXPECT_LT(r.duration_ns, 1'000'000'000) << r.duration_ns;
}

TEST(ParallelStrands, TheBlockCompletesWhenItsLastChildDoes) {
  reports::ScenarioResult r = RunBody(R"(  - parallel:
      steps:
        - wait: 300ms
        - wait: 100ms
  - send_to_group: {client: pub, group: g, data: after, data_type: text}
    as: next
expect:
  - receive: {client: sub, data: after}
)");
  ASSERT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
  // connect + join (~10 ms), the block (300 ms), the send, then run.settle (500 ms default).
  EXPECT_GT(r.duration_ns, 800'000'000) << r.duration_ns;
  EXPECT_LT(r.duration_ns, 900'000'000) << r.duration_ns;
}

TEST(AsyncBlocks, AnAsyncRepeatCompletesOnIssueAndRunsBesideTheNextSteps) {
  reports::ScenarioResult r = RunBody(std::string(R"(  - repeat:
      count: 20
      rate: 50/s
      async: true
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text}
  - wait: 170ms
  - kill: sub
)") + kNine);
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(AsyncBlocks, ABarrierWaitsForAnAsyncBlockToFinish) {
  reports::ScenarioResult r = RunBody(R"(  - repeat:
      count: 20
      rate: 50/s
      async: true
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text}
  - barrier
  - kill: sub
expect:
  - receive: {client: sub, data_contains: m, count: 20}
)");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(AsyncBlocks, AStepTimeoutInsideAnAsyncBlockStillFailsTheRun) {
  reports::ScenarioResult r = RunBody(R"(  - repeat:
      count: 1
      async: true
      steps:
        - join: {client: sub, group: never, ack: 7, expect_ack: success}
          timeout: 50ms
  - partition: sub
  - wait: 10ms
)");
  EXPECT_EQ(r.status, reports::Outcome::kFail);
  EXPECT_NE(Failures(r).find("did not complete in time"), std::string::npos) << Failures(r);
}

}  // namespace
}  // namespace wpsim::conformance
