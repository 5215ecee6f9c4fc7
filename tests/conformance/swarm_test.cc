// Swarm faults (`wpsim explore --swarm`, DrawSwarmPlan/WithSwarmPlan in conformance/explore.h)
// and the liveness phase (the `eventually:` section): a seed's fault plan is a pure function of
// the seed and the scenario, drawn only from what the scenario's `swarm:` section allows; a
// failure that needs the faults is found, its plan reported and written into the minimal
// scenario, which then fails under `wpsim run` without --swarm; once the steps are done every
// fault heals, and the eventual expectations are judged `within` later with their own message.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conformance/explore.h"
#include "conformance/loader.h"
#include "conformance/runner.h"
#include "reports/model.h"

namespace wpsim::conformance {
namespace {

// pub streams ten messages to g at 100/s; sub (plain json: a reset closes it for good) and w
// (reliable) receive them. Passes on a fault-free network under every seed.
const std::string kStream = R"(name: swarm-stream
description: ten messages to a group, two subscribers
hub: swarm
targets: [sim]
run: {perturb: true}
network: {latency: 2ms}
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  sub: {kind: json, roles: [webpubsub.joinLeaveGroup]}
  w: {kind: reliable, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: [pub, sub, w]
  - join: {client: [sub, w], group: g, ack: auto, expect_ack: success}
  - repeat:
      count: 10
      rate: 100/s
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text}
expect:
  - receive: {client: [sub, w], from: group, count: 10}
invariants: [no_duplicates, per_publisher_order]
)";

Scenario Load(const std::string& text) {
  LoadResult r = LoadScenarioText(text, "swarm.yaml");
  EXPECT_TRUE(r.ok()) << FormatDiagnostics(r.diagnostics);
  return r.ok() ? *r.scenario : Scenario{};
}

std::string WithSection(const std::string& section) { return kStream + section; }

ExploreOptions SwarmRun(uint64_t start, uint64_t seeds) {
  ExploreOptions o;
  o.swarm = true;
  o.start_seed = start;
  o.seeds = seeds;
  o.shrink = false;
  o.stop_after = 0;
  return o;
}

TEST(SwarmPlan, SameSeedAndScenarioGiveTheSamePlanAndTheSameTraceHash) {
  const Scenario sc = Load(kStream);
  std::set<std::string> plans;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const std::string a = DrawSwarmPlan(sc, seed, 100'000'000).Describe();
    EXPECT_EQ(a, DrawSwarmPlan(sc, seed, 100'000'000).Describe()) << "seed " << seed;
    plans.insert(a);
  }
  EXPECT_GT(plans.size(), 10u) << "the plan does not depend on the seed";
  ExploreOptions o = SwarmRun(5, 20);
  Result<ExploreResult> first = ExploreSeeds(kStream, "swarm.yaml", o);
  Result<ExploreResult> second = ExploreSeeds(kStream, "swarm.yaml", o);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first.value().seeds_failed, second.value().seeds_failed);
  EXPECT_EQ(first.value().report.trace_hash, second.value().report.trace_hash);
  // A seed's run is the scenario with its plan written in, run with that seed.
  const std::string fixed = WithSection("swarm: {window: 100ms}\n");
  ExploreOptions one = SwarmRun(7, 1);
  one.census = true;
  Result<ExploreResult> via_explore = ExploreSeeds(fixed, "swarm.yaml", one);
  ASSERT_TRUE(via_explore.ok()) << via_explore.error().message;
  ASSERT_EQ(via_explore.value().report.scenarios.size(), 1u);
  Result<std::string> text = WithSwarmPlan(fixed, DrawSwarmPlan(Load(fixed), 7, 0));
  ASSERT_TRUE(text.ok());
  RunnerOptions ro;
  ro.seed = 7;
  ro.perturb = true;
  reports::ScenarioResult direct;
  RunScenario(Load(text.value()), ro, direct);
  EXPECT_EQ(direct.trace_hash, via_explore.value().report.scenarios[0].trace_hash);
}

TEST(SwarmPlan, DrawsOnlyTheKindsClientsAndRangesTheScenarioAllows) {
  const Scenario sc = Load(WithSection(
      "swarm: {faults: [partition, loss], clients: sub, max_faults: 3, window: 40ms, max_duration: 5ms, "
      "max_loss: 2%}\n"));
  size_t faults = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const SwarmPlan plan = DrawSwarmPlan(sc, seed, 1'000'000'000);
    EXPECT_LE(plan.faults.size(), 3u);
    for (const PlannedFault& f : plan.faults) {
      ++faults;
      EXPECT_TRUE(f.kind == SwarmFault::kPartition || f.kind == SwarmFault::kLoss) << plan.Describe();
      EXPECT_EQ(f.client, "sub");
      EXPECT_LT(f.at_ns, 40'000'000);
      EXPECT_GE(f.duration_ns, 1'000'000);
      EXPECT_LE(f.duration_ns, 5'000'000);
      if (f.kind == SwarmFault::kLoss) {
        const double pct = std::stod(f.detail);
        EXPECT_GE(pct, 0.5);
        EXPECT_LE(pct, 2.0);
      }
    }
  }
  EXPECT_GT(faults, 200u);
  // Without an upstream section there is no service link to delay, and the default set leaves
  // out reset and clock skew.
  const Scenario plain = Load(kStream);
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    for (const PlannedFault& f : DrawSwarmPlan(plain, seed, 50'000'000).faults) {
      EXPECT_NE(f.kind, SwarmFault::kServiceDelay);
      EXPECT_NE(f.kind, SwarmFault::kReset);
      EXPECT_NE(f.kind, SwarmFault::kClockSkew);
    }
  }
}

TEST(SwarmPlan, WrittenIntoTheStepsAsAnAsyncBlockThatLoads) {
  const Scenario sc = Load(WithSection("swarm: {faults: [latency, loss, partition, reset, slow_reader, clock_skew]}\n"));
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const SwarmPlan plan = DrawSwarmPlan(sc, seed, 80'000'000);
    Result<std::string> text = WithSwarmPlan(kStream, plan);
    ASSERT_TRUE(text.ok()) << text.error().message;
    LoadResult loaded = LoadScenarioText(text.value(), "swarm.yaml");
    ASSERT_TRUE(loaded.ok()) << plan.Describe() << "\n" << FormatDiagnostics(loaded.diagnostics) << text.value();
    if (plan.faults.empty()) {
      EXPECT_EQ(text.value(), kStream);
      continue;
    }
    EXPECT_NE(text.value().find("async: true"), std::string::npos);
    EXPECT_TRUE(loaded.scenario->steps.front().Is<ParallelStep>());
  }
}

TEST(SwarmShape, AnUnknownFaultKindIsReportedAtItsPositionWithASuggestion) {
  LoadResult r = LoadScenarioText(WithSection("swarm:\n  faults: [partitoin]\n"), "swarm.yaml");
  ASSERT_FALSE(r.ok());
  const std::string text = FormatDiagnostics(r.diagnostics);
  EXPECT_NE(text.find("swarm.yaml:23:12"), std::string::npos) << text;
  EXPECT_NE(text.find("partition"), std::string::npos) << text;
  LoadResult bad_key = LoadScenarioText(WithSection("swarm: {max_fault: 3}\n"), "swarm.yaml");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(FormatDiagnostics(bad_key.diagnostics).find("max_faults"), std::string::npos);
}

TEST(SwarmShape, DelayRestoreTakesNoLinkSettingsAndADelayNeedsOneOrTheOther) {
  const std::string base = kStream.substr(0, kStream.find("expect:"));
  LoadResult both = LoadScenarioText(base + "  - delay: {client: sub, restore: true, latency: 5ms}\n", "d.yaml");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(FormatDiagnostics(both.diagnostics).find("takes no latency"), std::string::npos);
  LoadResult none = LoadScenarioText(base + "  - delay: {client: sub}\n", "d.yaml");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(FormatDiagnostics(none.diagnostics).find("restore: true"), std::string::npos);
  EXPECT_TRUE(LoadScenarioText(base + "  - delay: {client: sub, restore: true}\n", "d.yaml").ok());
}

TEST(SwarmExplore, FindsAFailureThatNeedsAResetAndItsShrunkScenarioFailsWithoutSwarm) {
  const std::string text = WithSection("swarm: {faults: [reset], clients: sub, window: 100ms}\n");
  ExploreOptions o = SwarmRun(1, 40);
  o.stop_after = 1;
  o.shrink = true;
  o.shrink_budget = 200;
  o.check_seeds = 2;
  // Without faults no seed fails.
  ExploreOptions calm = o;
  calm.swarm = false;
  calm.shrink = false;
  Result<ExploreResult> without = ExploreSeeds(text, "swarm.yaml", calm);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without.value().seeds_failed, 0u);

  Result<ExploreResult> r = Explore(text, "swarm.yaml", o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().failures.size(), 1u);
  const FoundFailure& f = r.value().failures[0];
  ASSERT_TRUE(f.swarm_plan.has_value());
  EXPECT_NE(f.swarm_plan->Describe().find("reset sub"), std::string::npos) << f.swarm_plan->Describe();
  EXPECT_NE(r.value().report.scenarios[0].name.find("swarm: reset sub"), std::string::npos);
  ASSERT_TRUE(f.shrunk.has_value());
  ASSERT_TRUE(f.shrunk->reproduced);
  // The minimal scenario carries its fault: `wpsim run` replays it without --swarm.
  EXPECT_NE(f.shrunk->yaml.find("reset: sub"), std::string::npos) << f.shrunk->yaml;
  LoadResult min = LoadScenarioText(f.shrunk->yaml, "min.yaml");
  ASSERT_TRUE(min.ok()) << FormatDiagnostics(min.diagnostics);
  RunnerOptions ro;
  ro.seed = f.seeds.front();
  ro.perturb = true;
  reports::ScenarioResult replay;
  RunScenario(*min.scenario, ro, replay);
  EXPECT_EQ(FailureSignature(replay), f.signature);
  EXPECT_LT(f.shrunk->after.steps, f.shrunk->before.steps);
}

// --- the liveness phase ---------------------------------------------------------------------

// sub is partitioned (both ways) while three messages go out and the steps never heal it.
const std::string kCut = R"(name: liveness-cut
description: three messages while the subscriber is cut off
hub: swarm
targets: [sim]
network: {latency: 2ms}
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  sub: {kind: reliable, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: [pub, sub]
  - join: {client: sub, group: g, ack: auto, expect_ack: success}
  - partition: sub
  - repeat:
      count: 3
      steps:
        - send_to_group: {client: pub, group: g, data: "m${i}", data_type: text, ack: auto, expect_ack: success}
)";

reports::ScenarioResult RunText(const std::string& text) {
  reports::ScenarioResult r;
  LoadResult loaded = LoadScenarioText(text, "live.yaml");
  EXPECT_TRUE(loaded.ok()) << FormatDiagnostics(loaded.diagnostics);
  if (!loaded.ok()) return r;
  RunnerOptions ro;
  ro.seed = 1;
  RunScenario(*loaded.scenario, ro, r);
  return r;
}

TEST(Liveness, FaultsHealAfterTheStepsAndTheEventualExpectationsHoldWithinTheBound) {
  // As a plain expectation the partition is never healed: the messages never arrive.
  reports::ScenarioResult safety =
      RunText(kCut + "expect:\n  - receive: {client: sub, from: group, count: 3}\n");
  EXPECT_EQ(safety.status, reports::Outcome::kFail);
  // In the liveness phase the partition heals and the held messages arrive.
  reports::ScenarioResult live =
      RunText(kCut + "eventually:\n  within: 2s\n  expect:\n    - receive: {client: sub, from: group, count: 3}\n");
  EXPECT_EQ(live.status, reports::Outcome::kPass) << (live.failures.empty() ? "" : live.failures[0].message);
}

TEST(Liveness, AViolationIsReportedWithItsOwnMessageAndSignature) {
  // A plain json subscriber that is reset never comes back: nothing arrives after the heal.
  std::string text = kCut;
  text.replace(text.find("kind: reliable"), 14, "kind: json");
  text.replace(text.find("  - partition: sub\n"), 19, "  - reset: sub\n");
  reports::ScenarioResult r =
      RunText(text + "eventually:\n  within: 500ms\n  expect:\n    - receive: {client: sub, from: group, count: 3}\n");
  ASSERT_EQ(r.status, reports::Outcome::kFail);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_EQ(r.failures[0].message.rfind("eventually (within 500ms of the heal at ", 0), 0u) << r.failures[0].message;
  const std::string sig = FailureSignature(r);
  EXPECT_NE(sig.find("eventually (within #ms of the heal at"), std::string::npos) << sig;
  reports::ScenarioResult as_safety = RunText(text + "expect:\n  - receive: {client: sub, from: group, count: 3}\n");
  EXPECT_NE(FailureSignature(as_safety), sig);
}

TEST(Liveness, TheEventuallySectionIsValidated) {
  LoadResult empty = LoadScenarioText(kCut + "eventually: {within: 1s}\n", "live.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(FormatDiagnostics(empty.diagnostics).find("expect"), std::string::npos);
  LoadResult bad = LoadScenarioText(kCut + "eventually: {within: soon, expect: []}\n", "live.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(FormatDiagnostics(bad.diagnostics).find("live.yaml:"), std::string::npos);
}

// --- the built-in liveness checks (eventually: all_acked_delivered, recovered_caught_up) -----

// pub sends three acked messages to g; w (json) is in g throughout, sub (reliable) joins first
// and loses its transport in the middle (a reset: both ends see it), then recovers on its own.
const std::string kAcked = R"(name: liveness-acked
description: acked sends to a group with a member present throughout and a recovering one
hub: swarm
targets: [sim]
network: {latency: 2ms}
clients:
  pub: {kind: json, roles: [webpubsub.sendToGroup]}
  w: {kind: json, roles: [webpubsub.joinLeaveGroup]}
  sub: {kind: reliable, roles: [webpubsub.joinLeaveGroup]}
steps:
  - connect: [pub, w, sub]
  - join: {client: [w, sub], group: g, ack: auto, expect_ack: success}
  - send_to_group: {client: pub, group: g, data: m0, data_type: text, ack: auto, expect_ack: success}
  - reset: sub
  - send_to_group: {client: pub, group: g, data: m1, data_type: text, ack: auto, expect_ack: success}
  - send_to_group: {client: pub, group: g, data: m2, data_type: text, ack: auto, expect_ack: success}
)";

std::string Messages(const reports::ScenarioResult& r) {
  std::string out;
  for (const reports::Failure& f : r.failures) out += f.message + "\n";
  return out;
}

TEST(LivenessBuiltIn, AllAckedDeliveredAndRecoveredCaughtUpHoldOnTheCorrectService) {
  reports::ScenarioResult r = RunText(
      kAcked + "eventually:\n  within: 2s\n  all_acked_delivered: true\n  recovered_caught_up: true\n");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Messages(r);
}

TEST(LivenessBuiltIn, AllAckedDeliveredNamesTheMemberThatMissedAnAcknowledgedMessage) {
  // fanout-skip-last: every fan-out skips its last receiver (sub, the last to join).
  reports::ScenarioResult r = RunText(kAcked + "service: {inject_bug: [fanout-skip-last]}\n" +
                                      "eventually:\n  within: 2s\n  all_acked_delivered: true\n");
  ASSERT_EQ(r.status, reports::Outcome::kFail);
  const std::string m = Messages(r);
  EXPECT_NE(m.find("eventually (within 2s of the heal at "), std::string::npos) << m;
  EXPECT_NE(m.find("all_acked_delivered: sub did not receive \"m0\" (to group g by pub"), std::string::npos) << m;
  EXPECT_NE(m.find("acked at "), std::string::npos) << m;
  EXPECT_EQ(m.find("all_acked_delivered: w "), std::string::npos) << m;
}

TEST(LivenessBuiltIn, AMemberAStepTakesOutOfTheGroupIsNotOwedItsMessages) {
  // w leaves g after m0: it owes nothing, though it gets neither m1 nor m2.
  std::string text = kAcked;
  text.replace(text.find("  - reset: sub\n"), 15, "  - reset: sub\n  - leave: {client: w, group: g, ack: auto, expect_ack: success}\n");
  reports::ScenarioResult r = RunText(text + "eventually:\n  within: 2s\n  all_acked_delivered: true\n");
  EXPECT_EQ(r.status, reports::Outcome::kPass) << Messages(r);
}

TEST(LivenessBuiltIn, RecoveredCaughtUpFailsForAClientWhoseRecoveryIsLost) {
  // The replay-from-last-sent bug replays only what was never written to the old transport:
  // a message in flight at the reset is lost for good. mx reaches the service at 2 ms and is
  // written to sub's transport; the reset 3 ms in catches it on the wire.
  std::string text = kAcked;
  text.replace(text.find("  - reset: sub\n"), 15,
               "  - parallel:\n      steps:\n        - send_to_group: {client: pub, group: g, data: mx, data_type: text}\n"
               "        - reset: sub\n          at: 3ms\n");
  reports::ScenarioResult clean = RunText(text + "eventually:\n  within: 2s\n  recovered_caught_up: true\n");
  EXPECT_EQ(clean.status, reports::Outcome::kPass) << Messages(clean);
  reports::ScenarioResult r = RunText(text + "service: {inject_bug: [replay-from-last-sent]}\n" +
                                      "eventually:\n  within: 2s\n  recovered_caught_up: true\n");
  ASSERT_EQ(r.status, reports::Outcome::kFail);
  const std::string m = Messages(r);
  EXPECT_NE(m.find("recovered_caught_up: sub did not receive \"mx\""), std::string::npos) << m;
}

TEST(LivenessBuiltIn, RecoveredCaughtUpFailsForAClientThatNeverRecovered) {
  // A 1 ms recovery window: the service ends the connection before the client is back.
  reports::ScenarioResult r = RunText(kAcked + "service: {recovery_window: 1ms}\n" +
                                      "eventually:\n  within: 2s\n  recovered_caught_up: true\n");
  ASSERT_EQ(r.status, reports::Outcome::kFail);
  const std::string m = Messages(r);
  EXPECT_NE(m.find("recovered_caught_up: sub lost its transport at "), std::string::npos) << m;
  EXPECT_NE(m.find("and did not recover"), std::string::npos) << m;
}

TEST(LivenessBuiltIn, ABuiltInCheckNeedsNoExpectList) {
  EXPECT_TRUE(LoadScenarioText(kAcked + "eventually: {all_acked_delivered: true}\n", "live.yaml").ok());
  LoadResult none = LoadScenarioText(kAcked + "eventually: {all_acked_delivered: false}\n", "live.yaml");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(FormatDiagnostics(none.diagnostics).find("expect"), std::string::npos);
}

}  // namespace
}  // namespace wpsim::conformance
