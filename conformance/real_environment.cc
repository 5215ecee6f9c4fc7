// RealEnvironment: the `local` and `remote` targets (conformance/targets.h).
//
// Theory of operation. One sim::UvRuntime (real sockets, real time) serves every member: the
// runner's clients are all callbacks on its single loop, like the service's connections when
// the service runs in-process on the same runtime. The run clock is the runtime's monotonic
// clock minus its value at construction. RunUntil hands the loop to UvRuntime::RunUntil, which
// sleeps in poll (waking on I/O and at most every few milliseconds to re-check the predicate)
// until done() holds or the deadline passes; nothing spins.
//
// Where the service is:
//  * `local` without a connection string: a service::Service with the scenario's options
//    listens on 127.0.0.1 (port 0 or --listen) on its own thread with its own UvRuntime
//    (ServiceThread), so the service and the runner's clients each have a loop and a core, as
//    they would against `wpsim serve` (before, one loop carried both and the in-process target
//    measured their sum); the connection string is built from the bound port and the service's
//    primary key. One fresh service per scenario, like the sim target. Nothing but the sockets
//    connects the two threads: the runner never touches the service object.
//  * a connection string (`local` or `remote`): the runner dials its endpoint. Host names
//    resolve through UvRuntime::Dial (uv_getaddrinfo). An https endpoint is dialled through
//    TLS (sim::DialTls) with SNI and certificate name = the endpoint's host, trusting the system
//    CA store plus --ca.
//
// The scripted application server (clients::AppServer, programmed by the upstream family like
// in sim) listens on the same runtime before the service starts, so the in-process service's
// handler URLs can name its bound port. Its request times are on the run clock (time_origin).
#include "conformance/real_environment.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <limits>
#include <memory>
#include <thread>
#include <sstream>
#include <utility>

#include "conformance/targets.h"
#include "conformance/units.h"
#include "protocol/http/message.h"
#include "service/service.h"
#include "sim/tls/tls.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::conformance {
namespace {

namespace auth = protocol::auth;

// After the clients and the service are gone, the loop runs this long so that graceful closes
// and TLS handshakes still in flight end before the runtime is destroyed.
constexpr sim::Nanos kRealTeardownNanos = 20 * sim::kMillisecond;

std::string StripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("ca_file", "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The in-process service on a thread and loop of its own. Start() returns once the service
// listens (or failed to); the destructor stops the loop (noticed within the runtime's
// RunUntil poll interval), destroys the service on its own thread, lets graceful closes finish
// and joins.
class ServiceThread {
 public:
  ServiceThread() = default;
  ServiceThread(const ServiceThread&) = delete;
  ServiceThread& operator=(const ServiceThread&) = delete;
  ~ServiceThread() {
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
  }

  Result<sim::Address> Start(service::ServiceOptions options, sim::Address listen, uint64_t seed) {
    struct Started {
      Status status = Status::Ok();
      sim::Address address;
    };
    auto ready = std::make_shared<std::promise<Started>>();
    std::future<Started> started = ready->get_future();
    thread_ = std::thread([this, ready, options = std::move(options), listen, seed]() mutable {
      sim::UvRuntimeOptions ro;
      ro.seed = seed;
      sim::UvRuntime runtime(ro);
      auto service = std::make_unique<service::Service>(runtime, options);
      Status s = service->Listen(listen);
      if (!s.ok()) {
        ready->set_value(Started{s, {}});
        return;
      }
      ready->set_value(Started{Status::Ok(), *service->listen_address()});
      runtime.RunUntil([this] { return stop_.load(std::memory_order_acquire); },
                       std::numeric_limits<sim::Nanos>::max() / 4);
      service.reset();
      runtime.RunFor(kRealTeardownNanos);
    });
    Started r = started.get();
    if (!r.status.ok()) return r.status.error();
    return r.address;
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class RealEnvironment final : public Environment {
 public:
  explicit RealEnvironment(const RealEnvironmentOptions& options) {
    sim::UvRuntimeOptions ro;
    // TLS keys towards a service outside the process must not be predictable; the in-process
    // service's and clients' random streams follow the run seed.
    ro.seed = options.connection_string.empty() ? options.seed : sim::NondeterministicSeed();
    runtime_ = std::make_unique<sim::UvRuntime>(ro);
    start_ = runtime_->Now();
  }

  ~RealEnvironment() override {
    // The runner's clients are gone (they are destroyed before the environment). The service's
    // thread ends first: its last graceful closes reach clients that are already gone.
    service_.reset();
    app_.reset();
    runtime_->RunFor(kRealTeardownNanos);
  }

  // Hosts the scenario's application server on `options.upstream_listen` (`fallback` when
  // empty). `allowed_origin`: what validation: allow_origin answers.
  Status StartAppServer(const RealEnvironmentOptions& options, const std::string& fallback,
                        std::vector<std::string> keys, const std::string& allowed_origin) {
    const std::string at = options.upstream_listen.empty() ? fallback : options.upstream_listen;
    Result<sim::Address> listen = sim::Address::Parse(at);
    if (!listen.ok()) {
      return MakeError("upstream_listen", "--upstream-listen: " + listen.error().message);
    }
    clients::AppServerOptions a;
    a.listen = *listen;
    a.access_keys = std::move(keys);
    a.time_origin = start_;
    switch (options.upstream->validation) {
      case ValidationReply::kAllowAny: break;
      case ValidationReply::kAllowOrigin: a.validation.allowed_origin = allowed_origin; break;
      case ValidationReply::kDeny:
        a.validation.status = 401;
        a.validation.allowed_origin.clear();
        break;
    }
    app_ = std::make_unique<clients::AppServer>(*runtime_, "app", a);
    if (Status s = app_->Listen(); !s.ok()) {
      return MakeError("upstream_listen", "cannot host the application server on " + at + ": " +
                                              s.error().message);
    }
    return Status::Ok();
  }

  Status StartInProcess(const RealEnvironmentOptions& options) {
    Result<sim::Address> listen = sim::Address::Parse(options.listen);
    if (!listen.ok()) return MakeError("listen", "--listen: " + listen.error().message);
    service::ServiceOptions so = options.service;
    if (options.upstream) {
      // The service names itself "service" in WebHook-Request-Origin, as in sim.
      so.upstream.request_origin = "service";
      Status s = StartAppServer(options, "127.0.0.1:0", so.access_keys, "service");
      if (!s.ok()) return s;
      const sim::Address a = *app_->listen_address();
      const std::string origin =
          "http://" + (a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host) + ":" +
          std::to_string(a.port);
      for (auto& [hub, settings] : so.hubs) {
        for (service::EventHandlerSettings& h : settings.event_handlers) {
          h.url_template = PointAtAppServer(h.url_template, origin);
        }
      }
    }
    service_ = std::make_unique<ServiceThread>();
    Result<sim::Address> bound = service_->Start(std::move(so), *listen, options.seed);
    if (!bound.ok()) {
      return MakeError("listen", "cannot listen on " + options.listen + ": " + bound.error().message);
    }
    address_ = *bound;
    cs_.scheme = "http";
    cs_.host = address_.host.find(':') != std::string::npos ? "[" + address_.host + "]"
                                                             : address_.host;
    cs_.port = address_.port;
    cs_.access_key = options.service.access_keys.front();
    cs_.version = "1.0";
    return Status::Ok();
  }

  Status UseEndpoint(const RealEnvironmentOptions& options) {
    Result<auth::ConnectionString> cs = auth::ParseConnectionString(options.connection_string);
    if (!cs.ok()) return MakeError("connection_string", "connection string: " + cs.error().message);
    cs_ = cs.value();
    if (!cs_.path.empty()) {
      return MakeError("connection_string",
                       "endpoints with a path (" + cs_.Endpoint() + ") are not supported");
    }
    const bool https = cs_.scheme == "https";
    address_.host = StripBrackets(cs_.host);
    address_.port = cs_.port.value_or(https ? 443 : 80);
    if (options.upstream) {
      if (options.upstream_listen.empty()) {
        return MakeError("upstream_listen",
                         "the scenario's application server needs --upstream-listen HOST:PORT "
                         "with an external service");
      }
      Status s = StartAppServer(options, "", {cs_.access_key}, address_.host);
      if (!s.ok()) return s;
    }
    if (!https) return Status::Ok();
    Result<std::string> ca = TrustedCaPem(options.ca_file);
    if (!ca.ok()) return ca.error();
    if (ca.value().empty()) {
      return MakeError("ca_file", std::string("no trusted CA certificates: ") + sim::kSystemCaFile +
                                      " is missing and no --ca was given");
    }
    sim::TlsClientOptions to;
    to.server_name = address_.host;
    to.ca_pem = std::move(ca.value());
    Result<std::shared_ptr<const sim::TlsConfig>> config = sim::TlsConfig::Client(to);
    if (!config.ok()) return MakeError("tls", "TLS: " + config.error().message);
    tls_ = config.value();
    return Status::Ok();
  }

  int64_t Now() override { return runtime_->Now() - start_; }
  sim::Runtime& ClientRuntime(uint32_t member) override {
    (void)member;
    return *runtime_;
  }
  sim::Address ServiceAddress() const override { return address_; }
  const auth::ConnectionString& connection_string() const override { return cs_; }
  bool tls() const override { return tls_ != nullptr; }
  clients::AppServer* app_server() override { return app_.get(); }

  std::function<void(const sim::Address&, sim::DialFn)> Dialer(uint32_t member) override {
    (void)member;
    if (!tls_) return {};
    sim::Runtime* rt = runtime_.get();
    std::shared_ptr<const sim::TlsConfig> config = tls_;
    return [rt, config](const sim::Address& a, sim::DialFn done) {
      sim::DialTls(*rt, a, config, std::move(done));
    };
  }

  Status RunUntil(int64_t deadline, const std::function<bool()>& done) override {
    if (done()) return Status::Ok();
    const int64_t left = deadline - Now();
    if (left <= 0) return Status::Ok();
    runtime_->RunUntil(done, left);
    return Status::Ok();
  }

 private:
  std::unique_ptr<sim::UvRuntime> runtime_;
  int64_t start_ = 0;
  // Declared after the runtime: destroyed before it.
  std::unique_ptr<clients::AppServer> app_;
  std::unique_ptr<ServiceThread> service_;
  std::shared_ptr<const sim::TlsConfig> tls_;
  sim::Address address_;
  auth::ConnectionString cs_;
};

// Declared waits of step `id` issued at offset 0 of its block: how long it takes at least.
int64_t StepWaitNs(const Scenario& sc, uint32_t id) {
  const Step& s = sc.steps[id];
  int64_t own = 0;
  if (const auto* wait = s.args.If<WaitStep>()) {
    own = wait->duration_ns;
  } else if (s.Is<ParallelStep>()) {
    for (uint32_t c : s.children) own = std::max(own, StepWaitNs(sc, c));
  } else if (const auto* r = s.args.If<RepeatStep>()) {
    int64_t body = 0;
    for (uint32_t c : s.children)
      body = std::max(body, sc.steps[c].at_ns.value_or(0)) + StepWaitNs(sc, c);
    if (r->duration_ns) {
      own = *r->duration_ns;
    } else if (r->count) {
      own = body * static_cast<int64_t>(*r->count);
      if (r->rate && *r->count > 0) own = std::max(own, r->rate->IntendedOffsetNs(*r->count - 1));
    }
  }
  return own;
}

}  // namespace

int64_t DeclaredRealWaitNs(const Scenario& scenario) {
  int64_t t = 0;
  for (uint32_t id : scenario.root_steps) {
    const Step& s = scenario.steps[id];
    if (s.at_ns) t = std::max(t, *s.at_ns);
    t += StepWaitNs(scenario, id);
  }
  return t + scenario.run.settle_ns;
}

std::vector<std::string> RealTargetSkipReasons(const Scenario& scenario, bool external_service,
                                               int64_t max_real_wait_ns, bool upstream_listen) {
  std::vector<std::string> out;
  const Requirements r = scenario.Needs();
  bool per_client_network = false;
  for (const Client& c : scenario.clients) per_client_network |= !c.network.empty();
  if (r.network_control || per_client_network) {
    out.push_back("needs control of the network (partitions, latency, resets), which only sim has");
  }
  if (r.clock_control) out.push_back("needs control of clocks (set_clock_skew), which only sim has");
  if (r.fault_injection) {
    out.push_back("injects bugs into the reference service (service.inject_bug), which only sim does");
  }
  if (external_service && (r.service_config || scenario.service.access_key)) {
    out.push_back("configures the service (service settings), which a running service cannot take; "
                  "use --target local without a connection string");
  }
  if (r.scripted_upstream && external_service && !upstream_listen) {
    out.push_back("needs the scripted application server (upstream): give --upstream-listen HOST:PORT "
                  "and point the hub's event handler there (--print-upstream-config writes the "
                  "service configuration)");
  }
  if (max_real_wait_ns > 0) {
    const int64_t wait = DeclaredRealWaitNs(scenario);
    if (wait > max_real_wait_ns) {
      out.push_back("waits " + FormatDuration(wait) + " of real time, more than --max-real-wait " +
                    FormatDuration(max_real_wait_ns));
    }
  }
  return out;
}

Result<std::string> TrustedCaPem(const std::string& extra_ca_file) {
  std::string pem;
  {
    std::ifstream system(sim::kSystemCaFile, std::ios::binary);
    if (system) {
      std::ostringstream s;
      s << system.rdbuf();
      pem = s.str();
    }
  }
  if (!extra_ca_file.empty()) {
    Result<std::string> extra = ReadFile(extra_ca_file);
    if (!extra.ok()) return MakeError("ca_file", "--ca: " + extra.error().message);
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
    pem += extra.value();
  }
  return pem;
}

std::string UpstreamHubName(const Scenario& scenario) {
  std::string_view name = scenario.name;
  if (name.size() > scenario.hub.size() + 1 && name.substr(0, scenario.hub.size()) == scenario.hub &&
      name[scenario.hub.size()] == '-') {
    name.remove_prefix(scenario.hub.size() + 1);
  }
  std::string out = scenario.hub + "_";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.size() > 128) out.resize(128);
  return out;
}

std::string PointAtAppServer(const std::string& url_template, const std::string& origin) {
  for (std::string_view prefix : {"http://app:80", "http://app"}) {
    if (url_template.size() < prefix.size() ||
        !protocol::http::EqualsIgnoreCase(std::string_view(url_template).substr(0, prefix.size()),
                                          prefix)) {
      continue;
    }
    const std::string rest = url_template.substr(prefix.size());
    if (!rest.empty() && rest[0] != '/' && rest[0] != '?') continue;  // "http://apple/..."
    return origin + rest;
  }
  return url_template;
}

namespace {
// A YAML double-quoted scalar.
std::string YamlQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string UpstreamServeConfig(const std::vector<const Scenario*>& scenarios,
                                const std::string& listen) {
  std::string out =
      "# wpsim serve --config: the event handlers of the selected scenarios, pointed at the\n"
      "# application server of `wpsim run --upstream-listen " + listen + "`.\n"
      "# One hub per scenario (a pattern: the hub with any --hub-suffix); written by\n"
      "# `wpsim run --print-upstream-config`.\n"
      "hubs:\n";
  size_t n = 0;
  for (const Scenario* sc : scenarios) {
    if (!sc->upstream.present) continue;
    ++n;
    const std::string hub = UpstreamHubName(*sc);
    // "<hub>*": the hub with any run's hub suffix (wpsim run --target local adds one).
    out += "  \"" + hub + "*\":  # " + sc->name + "\n    eventHandlers:\n";
    for (const UpstreamHandler& h : sc->upstream.handlers) {
      out += "      - urlTemplate: " + YamlQuote(PointAtAppServer(h.url_template, "http://" + listen + "/" + hub)) + "\n";
      if (!h.user_event_pattern.empty()) {
        out += "        userEventPattern: " + YamlQuote(h.user_event_pattern) + "\n";
      }
      if (!h.system_events.empty()) {
        out += "        systemEvents: [";
        for (size_t i = 0; i < h.system_events.size(); ++i) {
          out += (i ? ", " : "") + YamlQuote(h.system_events[i]);
        }
        out += "]\n";
      }
    }
  }
  if (n == 0) out += "  {}\n";
  return out;
}

std::string RandomHubSuffix() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = sim::NondeterministicSeed();
  std::string out = "_r";
  for (int i = 0; i < 8; ++i, bits >>= 4) out += kHex[bits & 0xf];
  return out;
}

Result<std::unique_ptr<Environment>> MakeRealEnvironment(const RealEnvironmentOptions& options) {
  if (options.target == Target::kSim) return MakeError("target", "sim is not a real target");
  if (options.target == Target::kRemote && options.connection_string.empty()) {
    return MakeError("target", "--target remote needs a connection string");
  }
  auto env = std::make_unique<RealEnvironment>(options);
  Status s = options.connection_string.empty() ? env->StartInProcess(options)
                                               : env->UseEndpoint(options);
  if (!s.ok()) return s.error();
  return std::unique_ptr<Environment>(std::move(env));
}

}  // namespace wpsim::conformance
