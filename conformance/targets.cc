#include "conformance/targets.h"

#include <map>
#include <utility>

#include "service/names.h"
#include "service/service.h"
#include "sim/sim_runtime.h"

namespace wpsim::conformance {
sim::LinkConfig ToLinkConfig(const LinkSettings& s, sim::LinkConfig base) {
  if (s.latency) base.latency = *s.latency;
  if (s.bandwidth_bps) base.bandwidth_bytes_per_s = *s.bandwidth_bps / 8;
  if (s.loss) base.loss = *s.loss;
  if (s.receive_window_bytes) {
    base.receive_window_bytes = static_cast<uint32_t>(*s.receive_window_bytes);
  }
  return base;
}

namespace {

class SimEnvironment final : public Environment {
 public:
  SimEnvironment(const Scenario& scenario, const SimEnvironmentOptions& options)
      : trace_(0), budget_(options.event_budget) {
    sim::NetworkOptions n;
    n.seed = options.seed;
    n.perturb = options.perturb;
    n.trace = &trace_;
    if (scenario.network.stream_timeout_ns) n.stall_timeout = *scenario.network.stream_timeout_ns;
    n.default_link = ToLinkConfig(scenario.network.defaults, n.default_link);
    network_ = std::make_unique<sim::SimNetwork>(n);
    service_host_ = network_->AddHost("service").value();
    for (const Member& m : scenario.members) {
      std::string name = "c." + m.name;
      hosts_.push_back(network_->AddHost(name).value());
      names_.push_back(name);
      const Client& c = scenario.clients[m.client];
      if (!c.network.empty()) {
        (void)network_->SetLink(name, "service", ToLinkConfig(c.network, n.default_link));
      }
    }
    if (scenario.upstream.present) {
      // The application server: its own host "app" (handler URLs name it), reached over the
      // network.upstream link.
      sim::SimRuntime* app_host = network_->AddHost("app").value();
      if (!scenario.network.upstream.empty()) {
        (void)network_->SetLink("service", "app",
                                ToLinkConfig(scenario.network.upstream, n.default_link));
      }
      clients::AppServerOptions a;
      a.access_keys = options.service.access_keys;
      switch (scenario.upstream.validation) {
        case ValidationReply::kAllowAny: break;
        case ValidationReply::kAllowOrigin: a.validation.allowed_origin = "service"; break;
        case ValidationReply::kDeny:
          a.validation.status = 401;
          a.validation.allowed_origin.clear();
          break;
      }
      app_ = std::make_unique<clients::AppServer>(*app_host, "app", a);
      listen_status_ = app_->Listen();
    }
    service_ = std::make_unique<service::Service>(*service_host_, options.service);
    if (listen_status_.ok()) listen_status_ = service_->Listen(sim::Address{"service", 80});
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = options.service.access_keys.front();
  }

  ~SimEnvironment() override {
    // Clients (owned by the runner) are gone; the service goes before the network.
    service_.reset();
    app_.reset();
  }

  Status status() const { return listen_status_; }
  int64_t Now() override { return network_->now(); }
  sim::Runtime& ClientRuntime(uint32_t member) override { return *hosts_[member]; }
  sim::Address ServiceAddress() const override { return sim::Address{"service", 80}; }
  const protocol::auth::ConnectionString& connection_string() const override { return cs_; }
  sim::SimNetwork* network() override { return network_.get(); }
  std::string HostOf(uint32_t member) const override { return names_[member]; }
  uint64_t TraceHash() const override { return trace_.hash(); }
  bool is_virtual_time() const override { return true; }
  clients::AppServer* app_server() override { return app_.get(); }

  Status RunUntil(int64_t deadline, const std::function<bool()>& done) override {
    while (!done()) {
      std::optional<sim::Nanos> next = network_->NextEventTime();
      if (!next || *next > deadline) {
        if (network_->now() < deadline) {
          Status s = network_->RunUntil(deadline);
          if (!s.ok()) return s;
        }
        return Status::Ok();
      }
      if (events_++ >= budget_) {
        return MakeError("event_budget_exhausted",
                         "the scenario used more than " + std::to_string(budget_) +
                             " simulator events");
      }
      network_->RunOne();
    }
    return Status::Ok();
  }

  // Nothing in flight (bytes not yet consumed by their receivers, dials under way) and nothing
  // else due at this instant (a deferred flush may be about to write).
  bool Quiescent() override {
    if (network_->BytesInFlight() != 0) return false;
    const std::optional<sim::Nanos> next = network_->NextEventTime();
    return !next || *next > network_->now();
  }

 private:
  sim::Trace trace_;
  uint64_t budget_;
  uint64_t events_ = 0;
  std::unique_ptr<sim::SimNetwork> network_;
  sim::SimRuntime* service_host_ = nullptr;
  std::vector<sim::SimRuntime*> hosts_;
  std::vector<std::string> names_;
  std::unique_ptr<service::Service> service_;
  std::unique_ptr<clients::AppServer> app_;
  Status listen_status_ = Status::Ok();
  protocol::auth::ConnectionString cs_;
};

}  // namespace

service::ServiceOptions ServiceOptionsFor(const Scenario& scenario) {
  service::ServiceOptions o;
  // A scenario's clients all live on one simulated host (or one loopback address): the
  // service's per-peer and total connection caps (wpsim serve's defence) do not apply.
  o.limits.connections_max = 0;
  o.limits.connections_per_peer_max = 0;
  const ServiceSettings& s = scenario.service;
  if (s.recovery_window_ns) o.recovery_window = *s.recovery_window_ns;
  if (s.reliable_buffer_messages) o.reliable_limits.messages_max = *s.reliable_buffer_messages;
  if (s.reliable_buffer_bytes) o.reliable_limits.bytes_max = *s.reliable_buffer_bytes;
  if (s.keepalive_ns) o.websocket_keepalive = *s.keepalive_ns;
  if (s.access_key) o.access_keys = {*s.access_key};
  if (s.max_message_bytes) o.message_bytes_max = *s.max_message_bytes;
  if (s.token_clock_skew_ns) o.token_clock_skew_seconds = *s.token_clock_skew_ns / sim::kSecond;
  const std::string hub = service::HubKey(scenario.hub);
  if (s.anonymous) o.hubs[hub].allow_anonymous = *s.anonymous == AnonymousPolicy::kAllow;
  if (s.upstream_timeout_ns) o.upstream.request_timeout = *s.upstream_timeout_ns;
  if (scenario.upstream.present) {
    for (const UpstreamHandler& h : scenario.upstream.handlers) {
      o.hubs[hub].event_handlers.push_back(
          service::EventHandlerSettings{h.url_template, h.user_event_pattern, h.system_events});
    }
  }
  for (const std::string& name : s.inject_bug) {
    if (std::optional<service::Bug> bug = service::ParseBug(name)) o.bugs.insert(*bug);
  }
  return o;
}

Result<std::unique_ptr<Environment>> MakeSimEnvironment(const Scenario& scenario,
                                                        const SimEnvironmentOptions& options) {
  auto env = std::make_unique<SimEnvironment>(scenario, options);
  if (!env->status().ok()) return env->status().error();
  return std::unique_ptr<Environment>(std::move(env));
}

}  // namespace wpsim::conformance
