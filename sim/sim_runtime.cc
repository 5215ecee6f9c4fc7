#include "sim/sim_runtime.h"

#include <limits>
#include <utility>

namespace wpsim::sim {

SimRuntime::SimRuntime(SimNetwork* network, uint32_t index, std::string name,
                       HostOptions options, Lane lane)
    : network_(network),
      index_(index),
      name_(std::move(name)),
      skew_(options.clock_skew),
      lane_(lane) {}

Nanos SimRuntime::Now() const { return network_->now() + skew_; }

Nanos SimRuntime::UnixNow() const { return network_->options_.unix_epoch + Now(); }

TimerId SimRuntime::SetTimer(Nanos deadline, std::function<void()> fn) {
  WPSIM_ASSERT(static_cast<bool>(fn));
  Nanos at = 0;
  if (__builtin_sub_overflow(deadline, skew_, &at)) {
    at = deadline > 0 ? std::numeric_limits<Nanos>::max() : std::numeric_limits<Nanos>::min();
  }
  return network_->scheduler_.ScheduleAt(at, std::move(fn), lane_);
}

void SimRuntime::CancelTimer(TimerId id) { network_->scheduler_.Cancel(id); }

void SimRuntime::Post(std::function<void()> fn) {
  WPSIM_ASSERT(static_cast<bool>(fn));
  network_->scheduler_.ScheduleAt(network_->now(), std::move(fn), lane_);
}

Rng SimRuntime::ForkRng(std::string_view name) {
  std::string full = name_;
  full += '/';
  full += name;
  return Rng::Derive(network_->options_.seed, full);
}

Result<std::unique_ptr<Listener>> SimRuntime::Listen(const Address& address,
                                                     AcceptFn on_accept) {
  return network_->Listen(index_, address, std::move(on_accept));
}

void SimRuntime::Dial(const Address& address, DialFn on_done) {
  network_->Dial(index_, address, std::move(on_done));
}

Trace* SimRuntime::trace() { return network_->options_.trace; }

}  // namespace wpsim::sim
