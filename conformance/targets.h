// Targets: where a scenario's clients and service run. An Environment hands the runner one
// runtime per client member, the service's address and connection string, and a way to let
// time pass until a condition holds.
//  * SimEnvironment: the reference service and every member on their own SimNetwork hosts,
//    virtual time, seeded and traced (DESIGN.md §4, §6). Network faults available.
//  * RealEnvironment: one UvRuntime on real sockets, real time. `local` starts the reference
//    service in-process on 127.0.0.1 (or uses a connection string of an already running
//    `wpsim serve`), `remote` dials the connection string's endpoint (wss:// through TLS).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "clients/app_server.h"
#include "conformance/scenario.h"
#include "protocol/auth/connection_string.h"
#include "service/options.h"
#include "sim/seam.h"
#include "sim/sim_network.h"
#include "sim/trace.h"

namespace wpsim::conformance {

class Environment {
 public:
  virtual ~Environment() = default;
  // The run clock: nanoseconds since the environment started.
  virtual int64_t Now() = 0;
  virtual sim::Runtime& ClientRuntime(uint32_t member) = 0;
  virtual sim::Address ServiceAddress() const = 0;
  virtual const protocol::auth::ConnectionString& connection_string() const = 0;
  // How clients open their transport to the service: empty means ClientRuntime(m).Dial (sim and
  // plain local targets); real TLS targets return a dialer that wraps the stream in TLS
  // (sim::DialTls). Every simulated client (WebSocket, REST, MQTT) takes it as options.dial.
  virtual std::function<void(const sim::Address&, sim::DialFn)> Dialer(uint32_t member) {
    (void)member;
    return {};
  }
  virtual bool tls() const { return false; }
  // Lets time pass until done() holds or the run clock reaches `deadline`. Errors: the event
  // budget ran out (sim) or the loop failed.
  virtual Status RunUntil(int64_t deadline, const std::function<bool()>& done) = 0;
  // No message in flight (sim); real targets cannot know and say true.
  virtual bool Quiescent() { return true; }
  virtual sim::SimNetwork* network() { return nullptr; }
  // The host name of a member in the simulated network ("" on real targets).
  virtual std::string HostOf(uint32_t member) const {
    (void)member;
    return {};
  }
  virtual uint64_t TraceHash() const { return 0; }
  virtual bool is_virtual_time() const { return false; }
  // The scripted application server of a scenario with an `upstream:` section (the runner
  // programs its replies and reads the requests it recorded): on the simulated host `app`, or
  // on a real port (RealEnvironmentOptions::upstream). nullptr when the scenario has none.
  virtual clients::AppServer* app_server() { return nullptr; }
};

struct SimEnvironmentOptions {
  uint64_t seed = 1;
  bool perturb = false;
  service::ServiceOptions service;
  uint64_t event_budget = 50'000'000;
};

// Builds the simulated world for `scenario`: hosts, links (network section), the service.
Result<std::unique_ptr<Environment>> MakeSimEnvironment(const Scenario& scenario,
                                                        const SimEnvironmentOptions& options);

struct RealEnvironmentOptions {
  Target target = Target::kLocal;
  std::string connection_string;  // empty (local only): start the service in-process
  std::string ca_file;            // extra trusted CA certificates (PEM) for https endpoints
  // Random streams of the clients and the in-process service (the network is real). With a
  // connection string the runtime is seeded from the OS instead (TLS keys on a real network).
  uint64_t seed = 1;
  // In-process service only: its options (ServiceOptionsFor the scenario) and where it listens.
  service::ServiceOptions service;
  std::string listen = "127.0.0.1:0";
  // The scenario's `upstream:` section, or nullptr: the scripted application server then
  // listens on `upstream_listen` (in-process service: 127.0.0.1:0 when empty; an external
  // service needs it, its hub's handler pointing there). The in-process service's handler URLs
  // naming `app` are pointed at it (PointAtAppServer).
  const UpstreamSettings* upstream = nullptr;
  std::string upstream_listen;
};

// conformance/real_environment.cc. Errors: "target", "listen", "connection_string", "ca_file",
// "tls", "upstream_listen".
Result<std::unique_ptr<Environment>> MakeRealEnvironment(const RealEnvironmentOptions& options);

// The ServiceOptions a scenario's `service:` section asks for.
service::ServiceOptions ServiceOptionsFor(const Scenario& scenario);

// `base` with the settings `s` states applied (sim links: clients, upstream, delay steps).
sim::LinkConfig ToLinkConfig(const LinkSettings& s, sim::LinkConfig base);

}  // namespace wpsim::conformance
