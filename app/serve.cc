#include "app/serve.h"

#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/cli.h"
#include "app/dev_tls.h"
#include "app/serve_config.h"
#include "app/trace_page.h"
#include "service/service.h"
#include "service/trace.h"
#include "sim/tls/tls.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::app {

void RegisterServe(CLI::App& app, ServeFlags& flags) {
  app.add_option("--listen", flags.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--access-key", flags.access_key,
                 "Access key clients and servers sign tokens with (default: the documented dev key)");
  app.add_option("--tls-cert", flags.tls_cert, "PEM certificate file: serve https/wss");
  app.add_option("--tls-key", flags.tls_key, "PEM private key file for --tls-cert");
  app.add_option("--config", flags.config, "YAML file with hub settings and event handlers");
  app.add_option("--log-level", flags.log_level, "error | info (access log lines)")
      ->check(CLI::IsMember({"error", "info"}))
      ->capture_default_str();
  app.add_option("--inject-bug", flags.inject_bugs,
                 "Deliberately break one rule (repeatable; see --list-bugs)");
  app.add_flag("--list-bugs", flags.list_bugs, "List the injectable bugs and exit");
  app.add_option("--public-endpoint", flags.public_endpoint,
                 "Endpoint clients use when it differs from --listen (reverse proxy)");
  app.add_option("--upstream-ca", flags.upstream_ca,
                 "PEM file of CAs trusted for https:// event handlers (default: the system store)")
      ->check(CLI::ExistingFile);
  // Development TLS without files (app/dev_tls.h).
  app.add_flag("--tls", flags.tls,
               "Serve https/wss with a local development CA made once per user (see the output "
               "for the line that makes Node and Python trust it)");
  app.add_flag("--trace-ui", flags.trace_ui,
               "Serve a live trace page at /trace (URL with its token printed at start): "
               "connections, groups, every message's contents, REST and event-handler calls, "
               "and why connections were refused (docs/trace.md)");
  RegisterServeLimits(app, flags);
}

// Connection limits (docs/reliability.md). Separate from the flags above so that each group of
// flags can grow on its own.
void RegisterServeLimits(CLI::App& app, ServeFlags& flags) {
  app.add_option("--request-read-timeout", flags.request_read_timeout_seconds,
                 "Seconds a request may take to arrive whole after its first byte: then 408 "
                 "(default 30; 0: none)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--http-idle-timeout", flags.http_idle_timeout_seconds,
                 "Seconds a connection that never upgraded may stay silent between requests "
                 "(default 120; 0: none)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--ws-pings-unanswered-max", flags.ws_pings_unanswered_max,
                 "Close a WebSocket (1001) after this many keepalive pings in a row got nothing "
                 "back (default 3, pings 20 s apart; 0: never)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--max-connections", flags.max_connections,
                 "Open connections in total; beyond: 503 (default 16000; 0: no limit)");
  app.add_option("--max-connections-per-peer", flags.max_connections_per_peer,
                 "Open connections from one IP address; beyond: 503 (default 4000; 0: no limit)");
  app.add_option("--max-groups-per-connection", flags.max_groups_per_connection,
                 "Groups one connection may be in (default 1000; 0: no limit)");
  app.add_option("--max-pipelined-requests", flags.max_pipelined_requests,
                 "Unanswered requests held per HTTP connection; beyond: 429 (default 32)")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
}

void ApplyServeLimits(const ServeFlags& flags, service::ConnectionLimits& limits) {
  auto seconds = [](double s) { return static_cast<sim::Nanos>(s * 1e9); };
  if (flags.request_read_timeout_seconds) {
    limits.request_read_timeout = seconds(*flags.request_read_timeout_seconds);
  }
  if (flags.http_idle_timeout_seconds) {
    limits.http_idle_timeout = seconds(*flags.http_idle_timeout_seconds);
  }
  if (flags.ws_pings_unanswered_max) {
    limits.websocket_pings_unanswered_max = *flags.ws_pings_unanswered_max;
  }
  if (flags.max_connections) limits.connections_max = *flags.max_connections;
  if (flags.max_connections_per_peer) limits.connections_per_peer_max = *flags.max_connections_per_peer;
  if (flags.max_groups_per_connection) {
    limits.groups_per_connection_max = *flags.max_groups_per_connection;
  }
  if (flags.max_pipelined_requests) limits.pipelined_requests_max = *flags.max_pipelined_requests;
}

namespace {

// The TLS server configuration from --tls-cert/--tls-key, or from the development CA for --tls
// (filling `trust_line`). Prints the error naming the flag or file and returns null on failure.
std::shared_ptr<const sim::TlsConfig> LoadTls(const ServeFlags& flags, std::string& trust_line) {
  sim::TlsServerOptions tls_options;
  if (!flags.tls_cert.empty() || !flags.tls_key.empty()) {
    if (flags.tls_cert.empty() || flags.tls_key.empty()) {
      std::cerr << "wpsim serve: --tls-cert and --tls-key go together (or use --tls alone for a "
                   "development certificate)\n";
      return nullptr;
    }
    tls_options.cert_file = flags.tls_cert;
    tls_options.key_file = flags.tls_key;
  } else {
    Result<std::string> directory = DevTlsDirectory();
    if (!directory.ok()) {
      std::cerr << "wpsim serve: --tls: " << directory.error().message << "\n";
      return nullptr;
    }
    sim::Rng rng(sim::NondeterministicSeed());  // a new CA key is secret: never from a fixed seed
    Result<DevTlsFiles> files = EnsureDevTls(*directory, rng);
    if (!files.ok()) {
      std::cerr << "wpsim serve: --tls: " << files.error().message << "\n";
      return nullptr;
    }
    std::printf("Development CA: %s (%s)\n", files->ca_cert.c_str(),
                files->created_ca ? "created now" : "made earlier");
    trust_line = DevTlsTrustLine(*files);
    tls_options.cert_file = files->server_cert;
    tls_options.key_file = files->server_key;
  }
  auto config = sim::TlsConfig::Server(tls_options);
  if (!config.ok()) {
    std::cerr << "wpsim serve: TLS: " << config.error().message << "\n";
    return nullptr;
  }
  return config.value();
}

}  // namespace

int RunServe(const ServeFlags& flags) {
  if (flags.list_bugs) {
    for (const auto& [bug, description] : service::AllBugs()) {
      std::printf("%-28s %.*s\n", std::string(service::BugName(bug)).c_str(),
                  static_cast<int>(description.size()), description.data());
    }
    return kExitOk;
  }
  Result<sim::Address> address = sim::Address::Parse(flags.listen);
  if (!address.ok()) {
    std::cerr << "wpsim serve: --listen: " << address.error().message << "\n";
    return kExitUsage;
  }
  service::ServiceOptions options;
  if (!flags.config.empty()) {
    Status loaded = LoadServeConfig(flags.config, options);
    if (!loaded.ok()) {
      std::cerr << "wpsim serve: --config: " << loaded.error().message << "\n";
      return kExitUsage;
    }
  }
  ApplyServeLimits(flags, options.limits);
  if (!flags.access_key.empty()) options.access_keys = {flags.access_key};
  options.public_endpoint = flags.public_endpoint;
  if (!flags.upstream_ca.empty()) options.upstream.tls_ca_file = flags.upstream_ca;
  // WebHook-Request-Origin (§12.2): the host clients use, unless the config names one.
  if (options.upstream.request_origin.empty() && options.public_endpoint.empty()) {
    options.upstream.request_origin = address->host;
  }
  for (const std::string& name : flags.inject_bugs) {
    std::optional<service::Bug> bug = service::ParseBug(name);
    if (!bug) {
      std::cerr << "wpsim serve: unknown bug '" << name << "' (see --list-bugs)\n";
      return kExitUsage;
    }
    options.bugs.insert(*bug);
  }
  const bool tls = flags.tls || !flags.tls_cert.empty() || !flags.tls_key.empty();
  std::shared_ptr<const sim::TlsConfig> tls_config;
  std::string trust_line;  // --tls without files: how clients come to trust the development CA
  if (tls) {
    tls_config = LoadTls(flags, trust_line);
    if (tls_config == nullptr) return kExitUsage;
  }
  options.tls = tls;

  sim::UvRuntimeOptions runtime_options;
  runtime_options.seed = sim::NondeterministicSeed();  // connection ids, TLS randomness
  if (flags.log_level == "info") {
    std::fprintf(stderr, "wpsim: random seed %llu\n",
                 static_cast<unsigned long long>(runtime_options.seed));
  }
  sim::UvRuntime runtime(runtime_options);
  service::Service service(runtime, options);
  if (flags.log_level == "info") {
    service.log = [](std::string_view line) {
      std::fprintf(stderr, "wpsim: %.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
  if (tls) {
    service.wrap_accepted = [&runtime, tls_config](std::unique_ptr<sim::Stream> s) {
      sim::Rng rng = sim::TlsRngFor(runtime, *s);
      return std::unique_ptr<sim::Stream>(
          std::make_unique<sim::TlsStream>(runtime, std::move(s), tls_config, rng));
    };
  }
  // --trace-ui: the page and its feed on the service's own port, behind a random token.
  std::unique_ptr<service::TraceFeed> trace;
  if (flags.trace_ui) {
    sim::Rng token_rng(sim::NondeterministicSeed());  // a secret: never from a fixed seed
    service::TraceFeedOptions trace_options;
    char token[33];
    std::snprintf(token, sizeof token, "%016llx%016llx",
                  static_cast<unsigned long long>(token_rng.Next()),
                  static_cast<unsigned long long>(token_rng.Next()));
    trace_options.token = token;
    trace_options.page_html = std::string(kTracePageHtml);
    trace = std::make_unique<service::TraceFeed>(service, std::move(trace_options));
    service.set_tracer(trace.get());
  }
  Status listening = service.Listen(*address);
  if (!listening.ok()) {
    std::cerr << "wpsim serve: cannot listen on " << flags.listen << ": "
              << listening.error().message << "\n";
    return kExitUsage;
  }
  const sim::Address bound = *service.listen_address();
  std::string host = bound.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  // The trust line comes first: readers that wait for the connection string have it then.
  if (!trust_line.empty()) std::printf("Trust it (Node, Python): %s\n", trust_line.c_str());
  // Before the connection string, like the trust line.
  if (trace) {
    std::printf("Trace page: %s://%s:%u/trace?token=%s\n", tls ? "https" : "http", host.c_str(),
                bound.port, trace->token().c_str());
  }
  std::printf("Connection string: Endpoint=%s://%s;Port=%u;AccessKey=%s;Version=1.0;\n",
              tls ? "https" : "http", host.c_str(), bound.port, options.access_keys.front().c_str());
  std::fflush(stdout);
  (void)runtime.OnTerminationSignal([&runtime](int) { runtime.Stop(); });
  runtime.Run();
  service.set_tracer(nullptr);
  std::fprintf(stderr, "wpsim: stopped\n");
  return kExitOk;
}

}  // namespace wpsim::app
