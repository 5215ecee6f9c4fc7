// SimPump: see sim_pump.h for the theory of operation.
#include "sim/uv/sim_pump.h"

#include <uv.h>

#include <algorithm>
#include <cmath>

namespace wpsim::sim {

struct SimPump::Handles {
  uv_idle_t idle;
  uv_timer_t timer;
  uv_check_t check;
  SimPump* owner = nullptr;  // nullptr once the pump is destroyed
  int open = 0;
};

namespace {

SimPump* OwnerOf(uv_handle_t* h) { return static_cast<SimPump::Handles*>(h->data)->owner; }

void OnHandleClosed(uv_handle_t* h) {
  auto* handles = static_cast<SimPump::Handles*>(h->data);
  if (--handles->open == 0) delete handles;
}

}  // namespace

SimPump::SimPump(uv_loop_s* loop, SimNetwork& network, SimPumpOptions options)
    : network_(network), options_(options), handles_(new Handles) {
  WPSIM_ASSERT(options_.speed >= 0 && options_.events_per_slice > 0);
  handles_->owner = this;
  WPSIM_ASSERT(uv_idle_init(loop, &handles_->idle) == 0);
  WPSIM_ASSERT(uv_timer_init(loop, &handles_->timer) == 0);
  WPSIM_ASSERT(uv_check_init(loop, &handles_->check) == 0);
  handles_->open = 3;
  handles_->idle.data = handles_->timer.data = handles_->check.data = handles_;
}

SimPump::~SimPump() {
  handles_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->idle), &OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), &OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->check), &OnHandleClosed);
}

void SimPump::Start() {
  if (running_) return;
  running_ = true;
  idle_reported_ = false;
  Anchor();
  uv_check_start(&handles_->check, [](uv_check_t* h) {
    SimPump* pump = OwnerOf(reinterpret_cast<uv_handle_t*>(h));
    if (pump != nullptr && !pump->spinning_) pump->Service();
  });
  // The check handle only watches; it must not keep the loop alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->check));
  SetSpinning(true);  // first service on the next turn, never inside Start()
}

void SimPump::Stop() {
  if (!running_) return;
  running_ = false;
  SetSpinning(false);
  uv_timer_stop(&handles_->timer);
  uv_check_stop(&handles_->check);
}

void SimPump::SetSpeed(double speed) {
  WPSIM_ASSERT(speed >= 0);
  options_.speed = speed;
  Anchor();
  if (running_) SetSpinning(true);
}

void SimPump::Anchor() {
  anchor_real_ns_ = uv_hrtime();
  anchor_virtual_ = network_.now();
}

Nanos SimPump::PacedTarget() const {
  const double real_elapsed = static_cast<double>(uv_hrtime() - anchor_real_ns_);
  return anchor_virtual_ + static_cast<Nanos>(real_elapsed * options_.speed);
}

void SimPump::SetSpinning(bool on) {
  if (on == spinning_) return;
  spinning_ = on;
  if (on) {
    uv_idle_start(&handles_->idle, [](uv_idle_t* h) {
      SimPump* pump = OwnerOf(reinterpret_cast<uv_handle_t*>(h));
      if (pump != nullptr) pump->Service();
    });
  } else {
    uv_idle_stop(&handles_->idle);
  }
}

void SimPump::ReportIdle() {
  if (idle_reported_) return;
  idle_reported_ = true;
  if (on_idle_) on_idle_();
}

void SimPump::Service() {
  if (!running_ || in_service_) return;
  in_service_ = true;
  const uint64_t before = network_.scheduler().events_run();
  if (options_.speed == 0) {
    uint32_t n = 0;
    while (n < options_.events_per_slice && network_.RunOne()) ++n;
    events_run_ += network_.scheduler().events_run() - before;
    if (n == options_.events_per_slice) {
      idle_reported_ = false;
      SetSpinning(true);  // maybe more: yield to real I/O, then continue
    } else {
      SetSpinning(false);
      in_service_ = false;
      ReportIdle();
      return;
    }
    in_service_ = false;
    return;
  }
  const Nanos target = PacedTarget();
  const Status st = network_.RunUntil(std::max(target, network_.now()), options_.events_per_slice);
  events_run_ += network_.scheduler().events_run() - before;
  if (!st.ok()) {
    // Event budget for this slice spent: continue after real I/O had its turn.
    idle_reported_ = false;
    SetSpinning(true);
    in_service_ = false;
    return;
  }
  SetSpinning(false);
  const std::optional<Nanos> next = network_.NextEventTime();
  if (!next.has_value()) {
    uv_timer_stop(&handles_->timer);
    in_service_ = false;
    ReportIdle();
    return;
  }
  idle_reported_ = false;
  const double real_wait = static_cast<double>(*next - network_.now()) / options_.speed;
  const auto ms = static_cast<uint64_t>(std::ceil(std::max(0.0, real_wait) / 1e6));
  uv_timer_start(
      &handles_->timer,
      [](uv_timer_t* h) {
        SimPump* pump = OwnerOf(reinterpret_cast<uv_handle_t*>(h));
        if (pump != nullptr) pump->Service();
      },
      ms, 0);
  in_service_ = false;
}

}  // namespace wpsim::sim
