// The simulated reliable client drops what @azure/web-pubsub-client 1.1.0 drops: every data
// message whose sequenceId is at or below the largest it has seen (SequenceId.tryUpdate), a
// recovery's replays included. The drop is its own observation (kReplayDropped), which only
// `type: replay` matches, so a scenario can still assert the replays; the delivery invariants
// see the application's stream and agree with each other.
#include <gtest/gtest.h>

#include <string>

#include "reports/model.h"
#include "tests/conformance/run_inline.h"

namespace wpsim::conformance {
namespace {

using test_util::Failures;

// Five messages reach sub (seq 1..5) and are not acked yet (auto acks every second); its
// transport is reset and the client recovers on its own (after its 1 s retry interval): the
// service replays 1..5, the client drops them, then m5 arrives as seq 6.
constexpr char kReplayed[] = R"(name: replay-test
description: replays after a recovery
hub: h
targets: [sim]
clients:
  sub: {kind: reliable, roles: [webpubsub.joinLeaveGroup]}
  api: rest
steps:
  - connect: sub
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - repeat:
      count: 5
      steps:
        - rest: {op: send_to_group, group: g, body: "m${i}", content_type: text/plain}
  - barrier
  - reset: sub
  - wait: 1500ms   # the client retries recovery after its 1 s interval
  - rest: {op: send_to_group, group: g, body: m5, content_type: text/plain}
expect:
EXPECT
invariants: [no_duplicates, per_publisher_order, sequence_ids_contiguous]
)";

reports::ScenarioResult RunWith(const std::string& expect) {
  std::string s = kReplayed;
  s.replace(s.find("EXPECT"), 6, expect);
  return test_util::RunInline(s, "replay.yaml");
}

TEST(ReliableReplays, AreDroppedLikeTheSdkSoEachMessageIsDeliveredOnce) {
  reports::ScenarioResult r = RunWith(R"(  - receive: {client: sub, from: group, count: 6}
  - receive: {client: sub, data: m5, sequence_id: 6, count: 1})");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(ReliableReplays, AreObservableWithTypeReplay) {
  reports::ScenarioResult r = RunWith(R"(  - receive: {client: sub, type: replay, count: 5}
  - receive: {client: sub, type: replay, data: m0, sequence_id: 1, count: 1}
  - never_receive: {client: sub, type: replay, data: m5})");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

TEST(ReliableReplays, DoNotMatchOrdinaryMessageExpectations) {
  reports::ScenarioResult r = RunWith(R"(  - receive: {client: sub, data: m0, count: 2})");
  EXPECT_EQ(r.status, reports::Outcome::kFail);
  EXPECT_NE(Failures(r).find("received 1 matching"), std::string::npos) << Failures(r);
}

// The issue's reproduction: 20 sends, then a kill and an explicit `recover` step (a new client
// object). It used to count the 20 replays as new messages (40 received) and the invariants
// disagreed (per_publisher_order failed, no_duplicates passed); the new client continues from
// the old one's sequenceId, so both see 20 and agree.
TEST(ReliableReplays, TheRecoverStepContinuesTheSequenceIdSoTheInvariantsAgree) {
  reports::ScenarioResult r = test_util::RunInline(R"(name: recover-step-replays
description: replays after a recover step
hub: h
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  sub: {kind: reliable, roles: [webpubsub.joinLeaveGroup], sequence_ack: manual}
steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - repeat:
      count: 20
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text}
  - wait: 100ms
  - kill: sub
  - recover: sub
  - wait: 100ms
expect:
  - receive: {client: sub, data_contains: m, count: 20}
  - receive: {client: sub, type: replay, count: 20}
invariants: [per_publisher_order, no_duplicates, sequence_ids_contiguous]
)",
                                                    "recover.yaml");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Failures(r);
}

}  // namespace
}  // namespace wpsim::conformance
