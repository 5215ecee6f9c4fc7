#include "app/bench.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

#include "app/cli.h"
#include "bench/load/driver.h"
#include "bench/load/workers.h"
#include "conformance/load.h"
#include "conformance/real_environment.h"
#include "conformance/runner.h"
#include "conformance/units.h"
#include "protocol/auth/connection_string.h"
#include "reports/load_report.h"
#include "reports/reports.h"
#include "sim/seam.h"

namespace wpsim::app {
namespace {

using conformance::ClientKind;
using conformance::LoadPath;
using conformance::LoadSpec;

std::string FormatNs(int64_t ns) {
  char buf[32];
  if (ns < 1'000'000) {
    snprintf(buf, sizeof buf, "%.1fus", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000'000) {
    snprintf(buf, sizeof buf, "%.2fms", static_cast<double>(ns) / 1e6);
  } else {
    snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

std::string FormatCount(double v) {
  char buf[32];
  if (v >= 1e6) {
    snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
  } else if (v >= 1e4) {
    snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
  } else {
    snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

std::optional<ClientKind> ParseKind(const std::string& s) {
  for (ClientKind k : {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable, ClientKind::kMqtt311,
                       ClientKind::kMqtt5}) {
    if (conformance::ClientKindName(k) == s) return k;
  }
  return std::nullopt;
}

std::optional<LoadPath> ParsePath(const std::string& s) {
  for (LoadPath p : {LoadPath::kBroadcast, LoadPath::kGroup, LoadPath::kClientGroup}) {
    if (conformance::LoadPathName(p) == s) return p;
  }
  return std::nullopt;
}

int UsageError(const std::string& message) {
  std::cerr << "wpsim bench: " << message << "\n";
  return kExitUsage;
}

// What one load (measured or baseline) gave.
struct Measured {
  uint64_t delivered = 0;
  uint64_t operations = 0;  // REST calls when the load made any (only they count errors)
  std::string operations_name = "operations";
  uint64_t errors = 0;
  int64_t window_ns = 0;  // first intended send to the end of the last delivery interval
  double per_second = 0;  // deliveries per second of the run's clock over the window
  reports::Histogram latency;
  int64_t wall_ns = 0;
};

Measured Summarise(const reports::ScenarioResult& r) {
  Measured m;
  m.delivered = r.Counter(reports::kCounterDelivered);
  // The same requests as error_rate counts (reports/threshold.h).
  reports::ThresholdInput counted;
  reports::SetErrorRateInput(r.counters, counted);
  m.operations = counted.operations.value_or(0);
  m.operations_name = counted.operations_name;
  if (!counted.operations_detail.empty()) m.operations_name += " (" + counted.operations_detail + ")";
  m.errors = r.Counter(reports::kCounterErrors);
  m.latency = r.MergedLatency(reports::Metric::kPublishToReceive);
  auto it = r.throughput.find(std::string(reports::kCounterDelivered));
  if (it != r.throughput.end()) {
    const reports::ThroughputSeries& s = it->second;
    size_t last = 0;
    for (size_t i = 0; i < s.counts.size(); ++i) {
      if (s.counts[i]) last = i + 1;
    }
    m.window_ns = static_cast<int64_t>(last) * s.interval_ns;
  }
  if (m.window_ns <= 0) m.window_ns = r.duration_ns;
  if (m.window_ns > 0) m.per_second = static_cast<double>(m.delivered) * 1e9 / static_cast<double>(m.window_ns);
  m.wall_ns = r.wall_duration_ns;
  return m;
}

void PrintLine(const char* label, const std::string& value) {
  std::string l = label;
  while (l.size() < 22) l += *label ? '.' : ' ';
  std::cout << "  " << l << (*label ? ": " : "  ") << value << "\n";
}

void PrintMeasured(const Measured& m, uint64_t expected, bool sim) {
  const char* clock = sim ? "virtual" : "wall";
  char buf[256];
  snprintf(buf, sizeof buf, "%llu of %llu expected  %s/s (%s clock, over %s)",
           static_cast<unsigned long long>(m.delivered), static_cast<unsigned long long>(expected),
           FormatCount(m.per_second).c_str(), clock, FormatNs(m.window_ns).c_str());
  PrintLine("deliveries", buf);
  if (m.latency.empty()) {
    PrintLine("publish->receive", "no samples");
  } else {
    snprintf(buf, sizeof buf, "p50=%s p90=%s p99=%s p99.9=%s max=%s",
             FormatNs(m.latency.ValueAtPercentile(50)).c_str(), FormatNs(m.latency.ValueAtPercentile(90)).c_str(),
             FormatNs(m.latency.ValueAtPercentile(99)).c_str(), FormatNs(m.latency.ValueAtPercentile(99.9)).c_str(),
             FormatNs(m.latency.max()).c_str());
    PrintLine("publish->receive", buf);
    PrintLine("", std::string(clock) + " clock, from each send's intended time (coordinated omission corrected)");
  }
  snprintf(buf, sizeof buf, "%llu of %llu %s failed (%.3f%%)", static_cast<unsigned long long>(m.errors),
           static_cast<unsigned long long>(m.operations), m.operations_name.c_str(),
           m.operations ? 100.0 * static_cast<double>(m.errors) / static_cast<double>(m.operations) : 0.0);
  PrintLine("errors", buf);
  if (sim) {
    const double wall_s = static_cast<double>(m.wall_ns) / 1e9;
    snprintf(buf, sizeof buf, "simulated %s deliveries in %.2f s wall = %s deliveries/s wall",
             FormatCount(static_cast<double>(m.delivered)).c_str(), wall_s,
             FormatCount(wall_s > 0 ? static_cast<double>(m.delivered) / wall_s : 0).c_str());
    PrintLine("simulator speed", buf);
  }
}

std::string Ratio(double measured, double baseline) {
  if (baseline <= 0) return "n/a";
  char buf[32];
  snprintf(buf, sizeof buf, "%.2fx", measured / baseline);
  return buf;
}


// `wpsim serve` as a child process on 127.0.0.1 for `--target local --workers N` without a
// connection string: the service gets a process (and a core) of its own, the load engine others.
class ServeChild {
 public:
  ServeChild() = default;
  ServeChild(const ServeChild&) = delete;
  ServeChild& operator=(const ServeChild&) = delete;
  ~ServeChild() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // The child's connection string, once it printed it (within 10 s).
  Result<std::string> Start(const std::string& listen) {
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) return MakeError("bench", "cannot find the wpsim executable (/proc/self/exe)");
    exe[n] = 0;
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return MakeError("bench", std::string("pipe: ") + strerror(errno));
    std::cout.flush();
    pid_ = fork();
    if (pid_ < 0) return MakeError("bench", std::string("fork: ") + strerror(errno));
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(out[1], 2);  // its "stopped" line too; a start failure shows as no connection string
      execl(exe, exe, "serve", "--listen", listen.c_str(), "--log-level", "error", "--max-connections", "0",
            "--max-connections-per-peer", "0", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    std::string text;
    for (int waited_ms = 0; waited_ms < 10'000;) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) != 1) {
        waited_ms += 100;
        continue;
      }
      char buf[4096];
      const ssize_t got = read(out_, buf, sizeof buf);
      if (got <= 0) break;
      text.append(buf, static_cast<size_t>(got));
      const size_t at = text.find("Connection string: ");
      if (at != std::string::npos) {
        const size_t eol = text.find('\n', at);
        if (eol != std::string::npos) return text.substr(at + 19, eol - at - 19);
      }
    }
    return MakeError("bench", "wpsim serve (child process) printed no connection string");
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;  // kept open: the child's stdout
};

// --workers N / --shard i/n: the load in the wpsim-load engine, N forked processes on this
// machine or one shard of n on several; counts add and histograms merge (MergeLoadReports).
int RunBenchSpread(const BenchFlags& flags, const std::string& connection_string, const LoadSpec& spec,
                   const conformance::LoadPlan& plan, const std::vector<reports::Threshold>& thresholds) {
  Result<protocol::auth::ConnectionString> cs = protocol::auth::ParseConnectionString(connection_string);
  if (!cs.ok()) return UsageError("connection string: " + cs.error().message);
  if (cs->scheme != "http") {
    return UsageError("--workers and --shard drive http:// endpoints only (the load engine has no TLS)");
  }
  if (!flags.reports.junit.empty() || !flags.reports.html.empty() || !flags.reports.md.empty()) {
    return UsageError("--workers and --shard write a load report: --json only (merge shards with wpsim report merge)");
  }
  load::Options o;
  load::SubKind sub;
  switch (spec.kind) {
    case ClientKind::kWebSocket: sub = load::SubKind::kWebSocket; break;
    case ClientKind::kJson: sub = load::SubKind::kJson; break;
    case ClientKind::kMqtt311: sub = load::SubKind::kMqtt311; break;
    case ClientKind::kMqtt5: sub = load::SubKind::kMqtt5; break;
    default: return UsageError("--workers and --shard load websocket, json, mqtt311 or mqtt5 subscribers");
  }
  load::PubKind pub;
  if (spec.path == LoadPath::kGroup) {
    pub = load::PubKind::kRest;
  } else if (spec.path == LoadPath::kClientGroup) {
    pub = conformance::IsMqtt(spec.kind) ? load::PubKind::kMqtt : load::PubKind::kJson;
  } else {
    return UsageError("--workers and --shard send to a group: --path group (REST) or client-group");
  }
  if (spec.qos != 0) return UsageError("--workers and --shard publish at QoS 0");
  if (spec.size < load::kMarkerSize) return UsageError("--workers and --shard need --size of at least 25 (the marker)");
  Result<conformance::Rate> rate = conformance::ParseRate(flags.rate);
  if (!rate.ok()) return UsageError("--rate: " + rate.error().message);
  o.target = "ws://" + cs->host + ":" + std::to_string(cs->port.value_or(80));
  o.access_key = cs->access_key;
  o.sub = std::string(conformance::ClientKindName(spec.kind));
  o.pub = pub == load::PubKind::kRest ? "rest" : pub == load::PubKind::kMqtt ? "mqtt" : "json";
  o.group = "bench";
  o.subscribers = spec.subscribers;
  if (spec.publishers > 64) return UsageError("--workers and --shard take at most 64 publishers");
  o.publishers = spec.publishers;
  if (plan.messages > 100'000'000) return UsageError("--workers and --shard send at most 100000000 messages");
  o.messages = static_cast<uint32_t>(plan.messages);
  o.size = spec.size;
  o.rate = rate->PerSecond();
  o.timeout_s = static_cast<double>(plan.messages) / o.rate + 120;
  o.json_out = flags.reports.json;
  load::Target target;
  std::string error;
  if (!load::ParseTarget(o.target, &target, &error)) return UsageError(error);

  reports::LoadReport r;
  if (!flags.shard.empty()) {
    unsigned i = 0, n = 0;
    char tail = 0;
    if (sscanf(flags.shard.c_str(), "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n) {
      return UsageError("--shard wants I/N with 0 <= I < N, got '" + flags.shard + "'");
    }
    if (flags.workers > 1) return UsageError("--shard and --workers do not combine (one sharded bench per machine)");
    if (n > 1 && flags.start_at <= 0) return UsageError("--shard needs --start-at (the instant every shard starts publishing)");
    if (spec.subscribers < n) return UsageError("every shard needs at least one subscriber");
    // The shards of one load share the hub: its suffix comes from the start instant.
    o.hub = "bench_s" + std::to_string(static_cast<int64_t>(flags.start_at));
    o.start_at_unix = flags.start_at;
    o = load::ShardOptions(o, i, n);
    if (std::string e = load::CheckOptions(o, target, sub, pub); !e.empty()) return UsageError(e);
    load::Driver driver(o, target, sub, pub);
    r = driver.Run();
  } else if (flags.workers <= 1) {
    if (flags.start_at > 0) return UsageError("--start-at is for --shard; --workers start together by themselves");
    o.hub = "bench" + conformance::RandomHubSuffix();
    if (std::string e = load::CheckOptions(o, target, sub, pub); !e.empty()) return UsageError(e);
    load::Driver driver(o, target, sub, pub);
    r = driver.Run();
  } else {
    if (flags.start_at > 0) return UsageError("--start-at is for --shard; --workers start together by themselves");
    if (spec.subscribers < flags.workers) return UsageError("every worker needs at least one subscriber");
    o.hub = "bench" + conformance::RandomHubSuffix();
    if (std::string e = load::CheckOptions(o, target, sub, pub); !e.empty()) return UsageError(e);
    std::cout.flush();
    Result<reports::LoadReport> merged = load::RunWorkers(o, target, sub, pub, flags.workers, stdout);
    if (!merged.ok()) {
      std::cerr << "wpsim bench: " << merged.error().message << "\n";
      return kExitConformanceFailure;
    }
    r = std::move(merged).value();
  }
  std::cout << reports::LoadSummaryLine(r) << "\n";
  if (!o.json_out.empty()) {
    if (Status st = reports::WriteTextFile(o.json_out, reports::LoadReportToJson(r).dump(2) + "\n"); !st.ok()) {
      std::cerr << "wpsim bench: writing " << o.json_out << " failed: " << st.error().message << "\n";
      return kExitUsage;
    }
    std::cout << "report: " << o.json_out << "\n";
  }
  // Thresholds on this process's figures (a shard's own; merge shards for the whole load's).
  reports::ThresholdInput input;
  input.latency = &r.latency;
  input.operations = r.sent;
  input.operations_name = "messages sent";
  input.errors = r.errors;
  input.events = r.delivered;
  input.duration_ns = r.last_delivery_unix_ns - r.load_start_unix_ns;
  bool broken = false;
  for (const reports::Threshold& t : thresholds) {
    const reports::ThresholdResult tr = reports::EvaluateThreshold(t, input);
    std::cout << "    " << (tr.passed ? "PASS " : "FAIL ") << tr.expression << "  observed " << tr.observed
              << (tr.message.empty() ? "" : "  " + tr.message) << "\n";
    broken = broken || !tr.passed;
  }
  if (!r.ok()) return kExitConformanceFailure;
  return broken ? kExitThreshold : kExitOk;
}

}  // namespace

void RegisterBench(CLI::App& sub, BenchFlags& f) {
  sub.add_option("--target", f.target,
                 "sim (virtual time, deterministic) | local (in-process service on 127.0.0.1, or a running one "
                 "with --connection-string) | remote (the endpoint of --connection-string)")
      ->capture_default_str();
  sub.add_option("--kind", f.kind, "Subscriber kind: websocket | json | reliable | mqtt311 | mqtt5")->capture_default_str();
  sub.add_option("--path", f.path,
                 "broadcast (REST sendToAll) | group (REST sendToGroup) | client-group (clients send to the group)")
      ->capture_default_str();
  sub.add_option("--subscribers,-c,--connections", f.subscribers, "Subscriber connections")->capture_default_str();
  sub.add_option("--publishers", f.publishers, "Publishers (REST calls or client connections)")->capture_default_str();
  sub.add_option("--rate,-R", f.rate, "Total messages per period, open loop: 1000/s, 50/ms, 10/5s")->capture_default_str();
  sub.add_option("--messages,-n", f.messages, "Messages to send in total (default 1000 unless --duration)");
  sub.add_option("--duration,-d", f.duration, "Length of the open-loop load, e.g. 10s (instead of --messages)");
  sub.add_option("--size", f.size, "Payload size, e.g. 64, 1KiB")->capture_default_str();
  sub.add_option("--qos", f.qos, "MQTT kinds: subscribe and publish QoS (0 or 1)")->capture_default_str();
  sub.add_option("--latency", f.latency, "Sim: link latency distribution, e.g. 1ms, uniform 1ms 3ms")->capture_default_str();
  sub.add_option("--bandwidth", f.bandwidth, "Sim: link bandwidth, e.g. 10Gbps, 1Mbps")->capture_default_str();
  sub.add_option("--seed", f.seed, "Seed of the simulation")->capture_default_str();
  sub.add_option("--baseline", f.baseline,
                 "Kind of the baseline load run first in the same process (server broadcast; MQTT: group), or none")
      ->capture_default_str();
  sub.add_option("--threshold", f.thresholds, "Pass/fail objective, e.g. 'p99 < 50ms', 'error_rate < 0.1%', 'throughput > 100000/s' (repeatable)");
  sub.add_option("--listen", f.listen, "local: HOST:PORT of the in-process service (default 127.0.0.1:0)");
  sub.add_option("--connection-string", f.connection_string,
                 "local/remote: the service to load (remote default: $WebPubSubConnectionString); hubs get a per-run suffix");
  sub.add_option("--ca", f.ca_file, "Extra CA certificates (PEM) for https/wss endpoints");
  AddReportFileOptions(sub, f.reports);
  sub.add_flag("--print-scenario", f.print_scenario, "Print the generated scenario YAML and exit");
  sub.add_option("--workers", f.workers,
                 "local / remote: the load in N processes of the wpsim-load engine, figures merged (--path group or "
                 "client-group; http:// only; local without --connection-string starts wpsim serve as a child)")
      ->check(CLI::Range(1u, 256u));
  sub.add_option("--shard", f.shard, "I/N: shard I of a load spread over N machines (needs --start-at; merge with wpsim report merge)");
  sub.add_option("--start-at", f.start_at, "Shards: wall-clock instant (seconds since 1970) at which every shard starts publishing");
}

int RunBench(const BenchFlags& flags, const std::vector<std::string>& argv) {
  conformance::RunnerOptions options;
  if (flags.target == "sim") {
    options.target = conformance::Target::kSim;
  } else if (flags.target == "local") {
    options.target = conformance::Target::kLocal;
  } else if (flags.target == "remote") {
    options.target = conformance::Target::kRemote;
  } else {
    return UsageError("--target must be sim, local or remote, got '" + flags.target + "'");
  }
  const bool sim = options.target == conformance::Target::kSim;
  // Only `remote` falls back to the environment: `local` without the flag keeps meaning the
  // in-process service even where WebPubSubConnectionString is set for the SDKs.
  std::string connection_string = flags.connection_string;
  if (connection_string.empty() && options.target == conformance::Target::kRemote) {
    if (const char* env = std::getenv("WebPubSubConnectionString")) connection_string = env;
  }
  if (sim && (!flags.connection_string.empty() || !flags.ca_file.empty())) {
    return UsageError("--connection-string and --ca need --target local or remote");
  }
  if (options.target == conformance::Target::kRemote && connection_string.empty()) {
    return UsageError("--target remote needs --connection-string or WebPubSubConnectionString");
  }
  if (!connection_string.empty()) {
    Result<protocol::auth::ConnectionString> cs = protocol::auth::ParseConnectionString(connection_string);
    if (!cs.ok()) return UsageError("connection string: " + cs.error().message);
    if (!flags.listen.empty()) return UsageError("--listen is for the in-process service, not with a connection string");
    options.connection_string = connection_string;
    // A running service is shared: the bench's hub gets a per-run suffix (as `wpsim run` does).
    options.hub_suffix = conformance::RandomHubSuffix();
  }
  if (!flags.ca_file.empty()) {
    if (access(flags.ca_file.c_str(), R_OK) != 0) return UsageError("--ca: cannot read " + flags.ca_file);
    options.ca_file = flags.ca_file;
  } else if (!connection_string.empty()) {
    // As `wpsim run`: trust what the line `wpsim serve --tls` prints makes OpenSSL tools trust.
    if (const char* env = std::getenv("SSL_CERT_FILE"); env != nullptr && env[0] != '\0') {
      if (access(env, R_OK) != 0) return UsageError(std::string("SSL_CERT_FILE: cannot read ") + env);
      options.ca_file = env;
    }
  }
  options.seed = flags.seed;
  options.reproduce_prefix = {"wpsim", "bench"};
  if (!flags.listen.empty()) {
    if (sim) return UsageError("--listen needs --target local");
    Result<sim::Address> listen = sim::Address::Parse(flags.listen);
    if (!listen.ok()) return UsageError("--listen: " + listen.error().message);
    options.listen = flags.listen;
  }

  LoadSpec spec;
  std::optional<ClientKind> kind = ParseKind(flags.kind);
  if (!kind) return UsageError("unknown --kind '" + flags.kind + "' (websocket, json, reliable, mqtt311, mqtt5)");
  spec.kind = *kind;
  std::optional<LoadPath> path = ParsePath(flags.path);
  if (!path) return UsageError("unknown --path '" + flags.path + "' (broadcast, group, client-group)");
  spec.path = *path;
  spec.subscribers = flags.subscribers;
  spec.publishers = flags.publishers;
  spec.rate = flags.rate;
  if (!flags.messages.empty() && !flags.duration.empty()) return UsageError("give --messages or --duration, not both");
  if (!flags.duration.empty()) {
    Result<int64_t> d = conformance::ParseDuration(flags.duration);
    if (!d.ok()) return UsageError("--duration: " + d.error().message);
    spec.duration_ns = d.value();
  } else if (!flags.messages.empty()) {
    char* end = nullptr;
    const unsigned long long n = strtoull(flags.messages.c_str(), &end, 10);
    if (flags.messages[0] == '-' || end == flags.messages.c_str() || *end != 0) {
      return UsageError("--messages wants a positive integer, got '" + flags.messages + "'");
    }
    spec.messages = n;
  } else {
    spec.messages = 1000;
  }
  Result<uint64_t> size = conformance::ParseByteSize(flags.size);
  if (!size.ok()) return UsageError("--size: " + size.error().message);
  if (size.value() > conformance::kLoadMaxPayloadBytes) return UsageError("--size must be at most 1MiB");
  spec.size = static_cast<uint32_t>(size.value());
  spec.qos = flags.qos;
  spec.sim = sim;
  spec.latency = flags.latency;
  spec.bandwidth = flags.bandwidth;
  if (!sim && (flags.latency != "1ms" || flags.bandwidth != "10Gbps")) {
    return UsageError("--latency and --bandwidth shape the simulated network: they need --target sim");
  }

  std::vector<reports::Threshold> thresholds;
  for (const std::string& t : flags.thresholds) {
    Result<reports::Threshold> parsed = reports::ParseThreshold(t);
    if (!parsed.ok()) return UsageError("--threshold '" + t + "': " + parsed.error().message);
    thresholds.push_back(parsed.value());
  }

  Result<conformance::LoadPlan> plan = conformance::PlanLoad(spec);
  if (!plan.ok()) return UsageError(plan.error().message);
  if (flags.workers > 0 || !flags.shard.empty()) {
    if (sim) return UsageError("--workers and --shard need --target local or remote");
    std::optional<ServeChild> serve;
    if (connection_string.empty()) {
      // local without a connection string: `wpsim serve` in a child process.
      if (!flags.shard.empty()) return UsageError("--shard loads a running service: give --connection-string");
      serve.emplace();
      Result<std::string> cs = serve->Start(flags.listen.empty() ? "127.0.0.1:0" : flags.listen);
      if (!cs.ok()) {
        std::cerr << "wpsim bench: " << cs.error().message << "\n";
        return kExitConformanceFailure;
      }
      connection_string = cs.value();
    }
    if (flags.baseline != "websocket" && flags.baseline != "none") {
      return UsageError("--workers and --shard run no baseline (leave --baseline out)");
    }
    if (flags.print_scenario) return UsageError("--workers and --shard run no scenario to print");
    return RunBenchSpread(flags, connection_string, spec, plan.value(), thresholds);
  }
  if (flags.start_at > 0) return UsageError("--start-at needs --shard");
  if (flags.print_scenario) {
    Result<std::string> yaml = conformance::LoadScenarioYaml(spec);
    if (!yaml.ok()) return UsageError(yaml.error().message);
    std::cout << yaml.value();
    return kExitOk;
  }
  Result<conformance::Scenario> measured_sc = conformance::BuildLoadScenario(spec);
  if (!measured_sc.ok()) return UsageError(measured_sc.error().message);

  std::optional<LoadSpec> baseline_spec;
  if (flags.baseline != "none") {
    std::optional<ClientKind> bk = ParseKind(flags.baseline);
    if (!bk) return UsageError("unknown --baseline '" + flags.baseline + "' (a kind, or none)");
    LoadSpec b = spec;
    b.kind = *bk;
    b.path = conformance::IsMqtt(*bk) ? LoadPath::kClientGroup : LoadPath::kBroadcast;
    b.qos = 0;
    b.name = "bench-baseline-" + flags.baseline + "-" + std::string(conformance::LoadPathName(b.path));
    baseline_spec = b;
  }
  std::optional<conformance::Scenario> baseline_sc;
  if (baseline_spec) {
    Result<conformance::Scenario> b = conformance::BuildLoadScenario(*baseline_spec);
    if (!b.ok()) return UsageError("baseline: " + b.error().message);
    baseline_sc = std::move(b.value());
  }

  // The reproduce line leaves out the report files, so it is the same for every rerun.
  std::vector<std::string> repro_argv;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    bool report_flag = false;
    // The connection string holds the access key: the reproduce line reads it from
    // WebPubSubConnectionString instead (the user sets it to rerun).
    for (const char* f : {"--junit", "--json", "--html", "--md", "--connection-string"}) {
      if (a == f) {
        report_flag = true;
        ++i;  // and its value
      } else if (a.rfind(std::string(f) + "=", 0) == 0) {
        report_flag = true;
      }
    }
    if (!report_flag) repro_argv.push_back(a);
  }
  const std::string reproduce = reports::ShellQuote(repro_argv);
  reports::RunReport report;
  report.target = sim ? reports::Target::kSim
                      : options.target == conformance::Target::kRemote ? reports::Target::kRemote
                                                                      : reports::Target::kLocal;
  report.clock = sim ? reports::ClockKind::kVirtual : reports::ClockKind::kReal;
  report.seed = flags.seed;
  const int64_t wall0 = WallNanos();
  auto run_one = [&](const conformance::Scenario& sc) -> size_t {
    reports::ScenarioResult& r = report.AddScenario("bench", sc.name);
    const int64_t w0 = WallNanos();
    conformance::RunScenario(sc, options, r);
    r.wall_duration_ns = WallNanos() - w0;
    r.reproduce = reproduce;  // the runner marks open-loop latencies as corrected itself
    return report.scenarios.size() - 1;
  };

  std::cout << "wpsim bench  target " << flags.target << " (" << (sim ? "virtual" : "real") << " clock), seed "
            << flags.seed << "\n";
  std::cout << "  load: " << spec.subscribers << " " << flags.kind << " subscribers, " << spec.publishers
            << " publisher(s), path " << flags.path << ", " << plan->messages << " messages of " << spec.size
            << " B at " << spec.rate << " open loop";
  if (sim) std::cout << ", network latency " << spec.latency << " bandwidth " << spec.bandwidth;
  std::cout << "\n";

  std::optional<size_t> baseline_index;
  if (baseline_sc) {
    std::cout << "\nbaseline " << baseline_sc->name << "\n";
    baseline_index = run_one(*baseline_sc);
    const Measured b = Summarise(report.scenarios[*baseline_index]);
    PrintMeasured(b, plan->expected_deliveries, sim);
  }
  std::cout << "\nmeasured " << measured_sc->name << "\n";
  const size_t measured_index = run_one(*measured_sc);
  const reports::ScenarioResult& mr = report.scenarios[measured_index];
  const Measured m = Summarise(mr);
  PrintMeasured(m, plan->expected_deliveries, sim);
  if (baseline_index) {
    const Measured b = Summarise(report.scenarios[*baseline_index]);
    std::cout << "\n  vs baseline: throughput " << Ratio(m.per_second, b.per_second);
    if (!m.latency.empty() && !b.latency.empty()) {
      std::cout << ", p50 " << Ratio(static_cast<double>(m.latency.ValueAtPercentile(50)),
                                    static_cast<double>(b.latency.ValueAtPercentile(50)))
                << ", p99 " << Ratio(static_cast<double>(m.latency.ValueAtPercentile(99)),
                                    static_cast<double>(b.latency.ValueAtPercentile(99)));
    }
    std::cout << " (measured / baseline)\n";
  }

  // Thresholds are run-wide objectives evaluated on the measured load only: throughput over
  // the load window (first intended send to the last delivery interval), not the whole run.
  reports::ThresholdInput input;
  input.latency = &m.latency;
  input.operations = m.operations;
  input.operations_name = m.operations_name;
  input.errors = m.errors;
  input.events = m.delivered;
  input.duration_ns = m.window_ns;
  for (const reports::Threshold& t : thresholds) {
    reports::ThresholdResult tr;
    if (t.metric_or_default() == reports::Metric::kPublishToReceive) {
      tr = reports::EvaluateThreshold(t, input);
    } else {
      tr = reports::EvaluateThreshold(t, mr);
    }
    report.thresholds.push_back(tr);
  }
  if (!report.thresholds.empty()) {
    std::cout << "\n  thresholds\n";
    for (const reports::ThresholdResult& t : report.thresholds) {
      std::cout << "    " << (t.passed ? "PASS " : "FAIL ") << t.expression << "  observed " << t.observed
                << (t.message.empty() ? "" : "  " + t.message) << "\n";
    }
  }
  for (const reports::ScenarioResult& r : report.scenarios) {
    if (r.status == reports::Outcome::kPass) continue;
    std::cout << "\n  " << r.name << ": " << reports::ToString(r.status)
              << (r.skip_reason.empty() ? "" : " (" + r.skip_reason + ")") << "\n";
    size_t shown = 0;
    for (const reports::Failure& f : r.failures) {
      if (++shown > 5) break;
      std::cout << "    " << f.message << (f.expected.empty() ? "" : "; expected " + f.expected)
                << (f.actual.empty() ? "" : "; actual " + f.actual) << "\n";
    }
  }

  report.trace_hash = report.CombinedTraceHash();
  StampRun(report, argv, WallNanos() - wall0);
  std::cout << "\nseed " << flags.seed
            << (sim ? ", trace hash " + reports::FormatTraceHash(report.trace_hash) : std::string())
            << ", " << FormatNs(report.run.duration_ns) << " wall\n";
  if (!WriteRequestedReports(report, flags.reports, "bench")) return kExitUsage;
  return ExitCodeOf(report.ComputeVerdict());
}

}  // namespace wpsim::app
