// Scheduler: the discrete-event queue behind SimRuntime.
//
// Theory of operation. Each pending event is a small POD entry in a 4-ary heap (time, order key,
// slot, generation) plus its callback in a slab slot (recycled through a free list), so
// scheduling and running an event allocates nothing once the slab has grown. Events run in
// (virtual time, order key) order. Without perturbation the order key is the insertion sequence,
// so equal-time events run first-in first-out. In perturbation mode the key's high bits are a
// tie-breaker drawn from the seed, which shuffles equal-time events:
//  * events on kAnyLane each get an independent draw;
//  * events on one lane (a simulated host: its timers and posts) at one time share the same
//    draw (a hash of seed, lane and time), so they keep first-in first-out order among
//    themselves while their block lands at a random place among other lanes' events.
// Cancelling an event frees its slot at once; the stale heap entry is skipped when it surfaces
// (and the heap is compacted when stale entries outnumber live ones).
//
// Rules: the clock never goes backwards (an event scheduled in the past runs at now()); a
// callback may schedule and cancel freely; every run loop has an event budget and reports, as a
// Status error "event_budget_exhausted", when the budget ran out before the goal was reached.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "sim/callback.h"
#include "sim/rng.h"
#include "sim/seam.h"

namespace wpsim::sim {

using EventId = uint64_t;  // 0 is never a valid id
using Lane = uint32_t;
inline constexpr Lane kAnyLane = 0;

struct SchedulerOptions {
  bool perturb = false;  // shuffle equal-time events (see above), deterministically from seed
  uint64_t seed = 0;
};

class Scheduler {
 public:
  // Default budget of the Run* loops: generous, but a livelocked simulation still stops.
  static constexpr uint64_t kDefaultEventBudget = 1'000'000'000;
  // Named maximum of simultaneously pending events (slots are 32-bit indices).
  static constexpr uint32_t kPendingEventsMax = 1u << 30;

  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Nanos now() const { return now_; }
  bool perturbed() const { return options_.perturb; }

  // Schedules fn at `time` (clamped to now()). Never runs fn synchronously.
  EventId ScheduleAt(Nanos time, Callback fn, Lane lane = kAnyLane);
  EventId ScheduleAfter(Nanos delay, Callback fn, Lane lane = kAnyLane) {
    Nanos at = now_;
    if (delay > 0 && __builtin_add_overflow(now_, delay, &at)) at = INT64_MAX;
    return ScheduleAt(at, std::move(fn), lane);
  }
  // Returns whether a pending event was cancelled (false for run, cancelled or unknown ids).
  bool Cancel(EventId id);
  bool IsPending(EventId id) const;
  // A fresh lane id (1, 2, ...), e.g. one per simulated host.
  Lane NewLane() { return ++lanes_; }
  // Uniform in [0, max] from the perturbation stream; 0 when not perturbing or max <= 0.
  Nanos Jitter(Nanos max);

  // Runs the next event, advancing the clock to its time. False when nothing is pending.
  bool Step();
  // Time of the next pending event (runs the turn hook first, see SetTurnHook).
  std::optional<Nanos> NextEventTime();
  // Runs until nothing is pending.
  Status RunUntilIdle(uint64_t max_events = kDefaultEventBudget);
  // Runs every event with time <= deadline, then advances the clock to `deadline`.
  Status RunUntil(Nanos deadline, uint64_t max_events = kDefaultEventBudget);
  Status RunFor(Nanos duration, uint64_t max_events = kDefaultEventBudget) {
    Nanos deadline = now_;
    if (duration > 0 && __builtin_add_overflow(now_, duration, &deadline)) deadline = INT64_MAX;
    return RunUntil(deadline, max_events);
  }
  // Destroys every pending callback without running it (callbacks' destructors may schedule
  // more; those are destroyed too).
  void Clear();

  // Called before each event is taken from the queue and by NextEventTime(), at the current
  // time: the simulated network flushes the writes of the turn that just ended here, so that
  // writes coalesce per turn without an event of their own.
  void SetTurnHook(void (*hook)(void* context), void* context) {
    hook_ = hook;
    hook_context_ = context;
  }

  size_t pending() const { return live_; }
  uint64_t events_run() const { return events_run_; }

 private:
  struct Entry {
    Nanos time;
    uint64_t key;  // tie-breaker (perturbation) << 40 | insertion sequence (40 bits)
    uint32_t slot;
    uint32_t generation;
  };
  struct Slot {
    Callback fn;
    uint32_t generation = 1;
    uint32_t next_free = kNoSlot;
    bool live = false;
  };
  static constexpr uint32_t kNoSlot = 0xffffffffu;
  static constexpr int kSequenceBits = 40;
  static constexpr size_t kArity = 4;  // a 4-ary heap: half the depth of a binary one

  static bool Before(const Entry& a, const Entry& b) {
    return a.time < b.time || (a.time == b.time && a.key < b.key);
  }
  void RunHook() {
    if (hook_ != nullptr) hook_(hook_context_);
  }
  // Drops stale entries from the top; returns the live top or nullptr.
  const Entry* Top();
  void PushHeap(const Entry& e);
  void PopHeap();
  void Compact();
  uint32_t AllocSlot();
  void FreeSlot(uint32_t index);

  SchedulerOptions options_;
  Nanos now_ = 0;
  uint64_t sequence_ = 0;
  uint64_t events_run_ = 0;
  size_t live_ = 0;
  size_t stale_ = 0;
  Lane lanes_ = 0;
  Rng tiebreak_rng_;
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  uint32_t free_head_ = kNoSlot;
  void (*hook_)(void*) = nullptr;
  void* hook_context_ = nullptr;
};

}  // namespace wpsim::sim
