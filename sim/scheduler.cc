#include "sim/scheduler.h"

#include <string>
#include <utility>

namespace wpsim::sim {
namespace {

uint64_t MixLaneTime(uint64_t seed, uint64_t lane, uint64_t time) {
  uint64_t state = seed ^ (lane * 0x9e3779b97f4a7c15ULL) ^ (time * 0xc2b2ae3d27d4eb4fULL);
  return SplitMix64(state);
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : options_(options), tiebreak_rng_(Rng::Derive(options.seed, "scheduler/tiebreak")) {}

Scheduler::~Scheduler() { Clear(); }

EventId Scheduler::ScheduleAt(Nanos time, Callback fn, Lane lane) {
  WPSIM_ASSERT(static_cast<bool>(fn));
  if (time < now_) time = now_;
  const uint32_t slot = AllocSlot();
  Slot& s = slots_[slot];
  s.fn = std::move(fn);
  s.live = true;
  uint64_t key = ++sequence_ & ((uint64_t{1} << kSequenceBits) - 1);
  if (options_.perturb) {
    const uint64_t draw = lane == kAnyLane
                              ? tiebreak_rng_.Next()
                              : MixLaneTime(options_.seed, lane, static_cast<uint64_t>(time));
    key |= (draw >> kSequenceBits) << kSequenceBits;
  }
  PushHeap(Entry{time, key, slot, s.generation});
  ++live_;
  return (static_cast<uint64_t>(s.generation) << 32) | slot;
}

bool Scheduler::Cancel(EventId id) {
  if (!IsPending(id)) return false;
  FreeSlot(static_cast<uint32_t>(id));
  --live_;
  ++stale_;
  if (stale_ > 1024 && stale_ > live_) Compact();
  return true;
}

bool Scheduler::IsPending(EventId id) const {
  const auto slot = static_cast<uint32_t>(id);
  const auto generation = static_cast<uint32_t>(id >> 32);
  return slot < slots_.size() && slots_[slot].live && slots_[slot].generation == generation;
}

Nanos Scheduler::Jitter(Nanos max) {
  if (!options_.perturb || max <= 0) return 0;
  return static_cast<Nanos>(tiebreak_rng_.Below(static_cast<uint64_t>(max) + 1));
}

const Scheduler::Entry* Scheduler::Top() {
  while (!heap_.empty()) {
    const Entry& e = heap_.front();
    const Slot& s = slots_[e.slot];
    if (s.live && s.generation == e.generation) return &e;
    PopHeap();
    --stale_;
  }
  return nullptr;
}

bool Scheduler::Step() {
  RunHook();
  const Entry* top = Top();
  if (top == nullptr) return false;
  const Entry e = *top;
  PopHeap();
  now_ = e.time;
  Callback fn = std::move(slots_[e.slot].fn);
  FreeSlot(e.slot);
  --live_;
  ++events_run_;
  fn();
  return true;
}

std::optional<Nanos> Scheduler::NextEventTime() {
  RunHook();
  const Entry* top = Top();
  if (top == nullptr) return std::nullopt;
  return top->time;
}

Status Scheduler::RunUntilIdle(uint64_t max_events) {
  for (uint64_t n = 0; n < max_events; ++n) {
    if (!Step()) return Status::Ok();
  }
  if (!NextEventTime().has_value()) return Status::Ok();
  return MakeError("event_budget_exhausted",
                   "ran " + std::to_string(max_events) +
                       " events without the simulation going idle (virtual time " +
                       std::to_string(now_) + " ns, " + std::to_string(live_) +
                       " events pending)");
}

Status Scheduler::RunUntil(Nanos deadline, uint64_t max_events) {
  for (uint64_t n = 0;; ++n) {
    const std::optional<Nanos> next = NextEventTime();
    if (!next.has_value() || *next > deadline) break;
    if (n == max_events) {
      return MakeError("event_budget_exhausted",
                       "ran " + std::to_string(max_events) + " events before virtual time " +
                           std::to_string(deadline) + " ns (stopped at " +
                           std::to_string(now_) + " ns)");
    }
    Step();
  }
  if (deadline > now_) now_ = deadline;
  return Status::Ok();
}

void Scheduler::Clear() {
  // Destroying a callback can schedule more work (a stream destroyed in a capture resets
  // itself); loop until nothing is left.
  while (live_ > 0) {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].live) {
        Callback fn = std::move(slots_[i].fn);
        FreeSlot(i);
        --live_;
        fn.Reset();
      }
    }
  }
  heap_.clear();
  stale_ = 0;
}

void Scheduler::PushHeap(const Entry& e) {
  WPSIM_ASSERT(heap_.size() < kPendingEventsMax);
  heap_.push_back(e);
  size_t i = heap_.size() - 1;
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!Before(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

void Scheduler::PopHeap() {
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return;
  size_t i = 0;
  for (;;) {
    const size_t first = kArity * i + 1;
    if (first >= n) break;
    // The smallest of up to kArity children (adjacent in memory: one or two cache lines).
    size_t best = first;
    const size_t end = first + kArity < n ? first + kArity : n;
    for (size_t c = first + 1; c < end; ++c) {
      if (Before(heap_[c], heap_[best])) best = c;
    }
    if (!Before(heap_[best], last)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = last;
}

void Scheduler::Compact() {
  std::vector<Entry> live;
  live.reserve(live_);
  for (const Entry& e : heap_) {
    const Slot& s = slots_[e.slot];
    if (s.live && s.generation == e.generation) live.push_back(e);
  }
  heap_.clear();
  for (const Entry& e : live) PushHeap(e);
  stale_ = 0;
}

uint32_t Scheduler::AllocSlot() {
  if (free_head_ != kNoSlot) {
    const uint32_t index = free_head_;
    free_head_ = slots_[index].next_free;
    return index;
  }
  WPSIM_ASSERT(slots_.size() < kPendingEventsMax);
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void Scheduler::FreeSlot(uint32_t index) {
  Slot& s = slots_[index];
  s.live = false;
  s.fn.Reset();
  if (++s.generation == 0) s.generation = 1;
  s.next_free = free_head_;
  free_head_ = index;
}

}  // namespace wpsim::sim
