// SimRuntime: one simulated host's view of the seam (sim/seam.h), created by
// SimNetwork::AddHost. Time is the network's virtual clock plus this host's clock skew; timers
// and posts run on the network's scheduler in this host's lane (so equal deadlines keep their
// set order even in perturbation mode); ForkRng(name) is Rng::Derive(seed, "<host>/<name>");
// Listen/Dial use simulated host names ("service:443").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sim/scheduler.h"
#include "sim/seam.h"
#include "sim/sim_network.h"

namespace wpsim::sim {

class SimRuntime final : public Runtime {
 public:
  SimRuntime(SimNetwork* network, uint32_t index, std::string name, HostOptions options,
             Lane lane);

  Nanos Now() const override;
  Nanos UnixNow() const override;
  TimerId SetTimer(Nanos deadline, std::function<void()> fn) override;
  void CancelTimer(TimerId id) override;
  void Post(std::function<void()> fn) override;
  Rng ForkRng(std::string_view name) override;
  // `address.host` must be this host's name or empty; port 0 picks a free port (from 32768).
  Result<std::unique_ptr<Listener>> Listen(const Address& address, AcceptFn on_accept) override;
  // Completes from a scheduler event: a stream, or an Error with code "host_unreachable",
  // "connection_refused" or "timeout".
  void Dial(const Address& address, DialFn on_done) override;
  std::string_view HostName() const override { return name_; }
  Trace* trace() override;

  SimNetwork& network() { return *network_; }
  uint32_t index() const { return index_; }
  Nanos clock_skew() const { return skew_; }
  // Changes Now() at once (it may jump backwards); timers already set keep their network time.
  void set_clock_skew(Nanos skew) { skew_ = skew; }

 private:
  friend class SimNetwork;
  SimNetwork* network_;
  uint32_t index_;
  std::string name_;
  Nanos skew_;
  Lane lane_;
  uint16_t next_ephemeral_port_ = 49152;
  uint16_t next_listen_port_ = 32768;
};

}  // namespace wpsim::sim
