#include "sim/scheduler.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace wpsim::sim {
namespace {

TEST(Scheduler, RunsEventsInTimeThenInsertionOrder) {
  Scheduler s;
  std::vector<std::string> log;
  s.ScheduleAt(20, [&] { log.push_back("t20"); });
  s.ScheduleAt(10, [&] { log.push_back("t10-a"); });
  s.ScheduleAt(10, [&] { log.push_back("t10-b"); });
  s.ScheduleAt(10, [&] { log.push_back("t10-c"); });
  s.ScheduleAt(5, [&] {
    log.push_back("t5");
    s.ScheduleAfter(5, [&] { log.push_back("t10-d"); });  // same time, inserted last
  });
  ASSERT_TRUE(s.RunUntilIdle().ok());
  EXPECT_EQ(log, (std::vector<std::string>{"t5", "t10-a", "t10-b", "t10-c", "t10-d", "t20"}));
  EXPECT_EQ(s.now(), 20);
  EXPECT_EQ(s.events_run(), 6u);
}

TEST(Scheduler, EventsInThePastRunNowAndTheClockNeverGoesBack) {
  Scheduler s;
  ASSERT_TRUE(s.RunUntil(100).ok());
  EXPECT_EQ(s.now(), 100);
  Nanos ran_at = -1;
  s.ScheduleAt(50, [&] { ran_at = s.now(); });
  ASSERT_TRUE(s.RunUntilIdle().ok());
  EXPECT_EQ(ran_at, 100);
}

TEST(Scheduler, CancelledEventsDoNotRunAndCancelReportsWhetherItCancelled) {
  Scheduler s;
  int ran = 0;
  const EventId a = s.ScheduleAt(10, [&] { ++ran; });
  const EventId b = s.ScheduleAt(10, [&] { ++ran; });
  EXPECT_NE(a, 0u);
  EXPECT_TRUE(s.IsPending(a));
  EXPECT_TRUE(s.Cancel(a));
  EXPECT_FALSE(s.Cancel(a));
  EXPECT_FALSE(s.IsPending(a));
  EXPECT_EQ(s.pending(), 1u);
  ASSERT_TRUE(s.RunUntilIdle().ok());
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(s.Cancel(b));  // already ran
  // A recycled slot does not answer to the old id.
  const EventId c = s.ScheduleAt(20, [&] { ++ran; });
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_FALSE(s.Cancel(b));
  EXPECT_TRUE(s.IsPending(c));
}

TEST(Scheduler, ManyCancellationsKeepTheHeapCompact) {
  Scheduler s;
  int ran = 0;
  for (int i = 0; i < 100'000; ++i) {
    const EventId id = s.ScheduleAt(1'000'000 + i, [&] { ++ran; });
    if (i % 100 != 0) s.Cancel(id);
  }
  EXPECT_EQ(s.pending(), 1000u);
  ASSERT_TRUE(s.RunUntilIdle().ok());
  EXPECT_EQ(ran, 1000);
}

TEST(Scheduler, RunUntilIdleReportsAnExhaustedBudget) {
  Scheduler s;
  std::function<void()> forever = [&] { s.ScheduleAfter(1, forever); };
  s.ScheduleAt(0, forever);
  Status st = s.RunUntilIdle(1000);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "event_budget_exhausted");
  EXPECT_EQ(s.events_run(), 1000u);
  Status until = s.RunUntil(1'000'000, 10);
  ASSERT_FALSE(until.ok());
  EXPECT_EQ(until.error().code, "event_budget_exhausted");
}

TEST(Scheduler, RunUntilStopsAtTheDeadlineAndAdvancesTheClock) {
  Scheduler s;
  std::vector<Nanos> times;
  for (Nanos t : {10, 20, 30, 40}) s.ScheduleAt(t, [&, t] { times.push_back(t); });
  ASSERT_TRUE(s.RunUntil(25).ok());
  EXPECT_EQ(times, (std::vector<Nanos>{10, 20}));
  EXPECT_EQ(s.now(), 25);
  ASSERT_TRUE(s.RunFor(15).ok());
  EXPECT_EQ(times, (std::vector<Nanos>{10, 20, 30, 40}));
  EXPECT_EQ(s.now(), 40);
  EXPECT_FALSE(s.Step());
  EXPECT_FALSE(s.NextEventTime().has_value());
}

TEST(Scheduler, TurnHookRunsBeforeEachEventAndBeforeReportingTheNextTime) {
  Scheduler s;
  struct Ctx {
    Scheduler* s;
    int calls = 0;
    bool injected = false;
  } ctx{&s};
  s.SetTurnHook(
      [](void* p) {
        auto* c = static_cast<Ctx*>(p);
        ++c->calls;
        if (!c->injected) {
          c->injected = true;
          c->s->ScheduleAt(7, [] {});
        }
      },
      &ctx);
  EXPECT_EQ(s.NextEventTime(), std::optional<Nanos>(7));
  ASSERT_TRUE(s.RunUntilIdle().ok());
  EXPECT_GE(ctx.calls, 3);
}

TEST(Scheduler, CallbacksLargerThanTheInlineBufferWork) {
  Scheduler s;
  struct Big {
    char pad[200];
    int* out;
    void operator()() const { *out = pad[199]; }
  };
  int out = 0;
  Big big{};
  big.pad[199] = 42;
  big.out = &out;
  s.ScheduleAt(1, big);
  auto owned = std::make_shared<int>(5);
  s.ScheduleAt(2, [owned] {});
  ASSERT_TRUE(s.RunUntilIdle().ok());
  EXPECT_EQ(out, 42);
  EXPECT_EQ(owned.use_count(), 1);  // the capture was destroyed after running
  s.ScheduleAt(3, [owned] {});
  EXPECT_EQ(owned.use_count(), 2);
  s.Clear();
  EXPECT_EQ(owned.use_count(), 1);
}

std::vector<int> RunTies(bool perturb, uint64_t seed) {
  Scheduler s(SchedulerOptions{perturb, seed});
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) s.ScheduleAt(100, [&order, i] { order.push_back(i); });
  EXPECT_TRUE(s.RunUntilIdle().ok());
  return order;
}

TEST(SchedulerPerturbation, ShufflesEqualTimeEventsDeterministicallyFromTheSeed) {
  const std::vector<int> fifo = {0, 1, 2, 3, 4, 5, 6, 7};
  std::set<std::vector<int>> seen;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    EXPECT_EQ(RunTies(false, seed), fifo);
    EXPECT_EQ(RunTies(true, seed), RunTies(true, seed));
    seen.insert(RunTies(true, seed));
  }
  EXPECT_GT(seen.size(), 15u);
}

TEST(SchedulerPerturbation, KeepsFirstInFirstOutOrderWithinALane) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Scheduler s(SchedulerOptions{true, seed});
    const Lane a = s.NewLane();
    const Lane b = s.NewLane();
    std::vector<int> order;
    for (int i = 0; i < 6; ++i) {
      s.ScheduleAt(100, [&order, i] { order.push_back(i); }, a);
      s.ScheduleAt(100, [&order, i] { order.push_back(10 + i); }, b);
      s.ScheduleAt(100, [&order, i] { order.push_back(20 + i); });
    }
    // An event on lane a scheduled at the same time from an earlier one still runs after it.
    s.ScheduleAt(50, [&] { s.ScheduleAt(100, [&order] { order.push_back(6); }, a); });
    ASSERT_TRUE(s.RunUntilIdle().ok());
    std::vector<int> in_a;
    std::vector<int> in_b;
    for (int v : order) {
      if (v < 10) in_a.push_back(v);
      if (v >= 10 && v < 20) in_b.push_back(v);
    }
    EXPECT_EQ(in_a, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(in_b, (std::vector<int>{10, 11, 12, 13, 14, 15}));
  }
}

TEST(SchedulerPerturbation, JitterIsZeroUnlessPerturbing) {
  Scheduler plain;
  EXPECT_EQ(plain.Jitter(1000), 0);
  Scheduler perturbed(SchedulerOptions{true, 3});
  Nanos max_seen = 0;
  for (int i = 0; i < 1000; ++i) {
    const Nanos j = perturbed.Jitter(1000);
    ASSERT_GE(j, 0);
    ASSERT_LE(j, 1000);
    max_seen = std::max(max_seen, j);
  }
  EXPECT_GT(max_seen, 900);
}

}  // namespace
}  // namespace wpsim::sim
