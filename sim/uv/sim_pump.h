// SimPump: runs a SimNetwork's simulated events from a libuv loop, so a simulation and real I/O
// (a live report page, a UvRuntime connection to a real endpoint) share one thread.
//
// Theory of operation. Two modes:
//  * As fast as possible (speed == 0): an idle handle runs up to events_per_slice events per
//    loop turn, then lets the loop poll real I/O without blocking, until the simulation has no
//    events left. Virtual time jumps from event to event.
//  * Paced (speed > 0): virtual time follows the wall clock, `speed` virtual seconds per real
//    second, from an anchor taken at Start()/SetSpeed(). Each service runs every event due by
//    the paced virtual time (Scheduler::RunUntil, which also advances the clock to it), then arms
//    a timer for the real moment the next event falls due. If a slice's event budget runs out
//    (the CPU cannot keep up), the rest runs on the next turns; virtual time then lags.
// A check handle re-examines the simulation after every loop turn, so events scheduled from
// outside the pump (a real-I/O callback poking the simulation) are picked up without Kick().
// When the simulation runs dry the idle callback runs once (until events appear again); the
// pump's handles then no longer keep the loop alive, so uv_run / UvRuntime::Run can return.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "sim/sim_network.h"

struct uv_loop_s;

namespace wpsim::sim {

inline constexpr uint32_t kSimPumpEventsPerSlice = 4096;

struct SimPumpOptions {
  double speed = 0;  // 0: as fast as possible; otherwise virtual seconds per real second
  uint32_t events_per_slice = kSimPumpEventsPerSlice;  // events per loop turn before yielding
};

class SimPump {
 public:
  // `loop` (e.g. UvRuntime::loop()) and `network` must outlive the pump.
  SimPump(uv_loop_s* loop, SimNetwork& network, SimPumpOptions options = {});
  ~SimPump();
  SimPump(const SimPump&) = delete;
  SimPump& operator=(const SimPump&) = delete;

  void Start();
  // Stops running events; the network keeps its state and can be resumed with Start().
  void Stop();
  bool running() const { return running_; }
  // Changes the pacing (0 = as fast as possible); re-anchors virtual time to now.
  void SetSpeed(double speed);
  // Runs (on the loop) each time the simulation runs out of events while the pump is running.
  void SetIdleCallback(std::function<void()> fn) { on_idle_ = std::move(fn); }
  // Simulated events run by this pump.
  uint64_t events_run() const { return events_run_; }

  struct Handles;

 private:
  void Service();
  void Anchor();
  Nanos PacedTarget() const;
  void SetSpinning(bool on);
  void ReportIdle();

  SimNetwork& network_;
  SimPumpOptions options_;
  Handles* handles_;  // freed by the handles' close callbacks
  bool running_ = false;
  bool spinning_ = false;
  bool idle_reported_ = false;
  bool in_service_ = false;
  uint64_t events_run_ = 0;
  uint64_t anchor_real_ns_ = 0;
  Nanos anchor_virtual_ = 0;
  std::function<void()> on_idle_;
};

}  // namespace wpsim::sim
