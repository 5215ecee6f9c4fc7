// `wpsim serve`: the reference service on real sockets (UvRuntime), optionally over TLS.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "service/options.h"

namespace wpsim::app {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  std::string access_key;
  std::string tls_cert;
  std::string tls_key;
  std::string config;
  std::string log_level = "info";
  std::vector<std::string> inject_bugs;
  bool list_bugs = false;
  std::string public_endpoint;
  std::string upstream_ca;  // PEM file trusted for https:// event handlers
  // --tls: https/wss with the per-user development CA (app/dev_tls.h) when no files are given.
  bool tls = false;
  // --trace-ui: the live trace page at /trace (service/trace.h, docs/trace.md).
  bool trace_ui = false;
  // Connection limits (service::ConnectionLimits); unset: --config's value, else the default.
  std::optional<double> request_read_timeout_seconds;
  std::optional<double> http_idle_timeout_seconds;
  std::optional<int> ws_pings_unanswered_max;
  std::optional<size_t> max_connections;
  std::optional<size_t> max_connections_per_peer;
  std::optional<size_t> max_groups_per_connection;
  std::optional<size_t> max_pipelined_requests;
};

void RegisterServe(CLI::App& app, ServeFlags& flags);
void RegisterServeLimits(CLI::App& app, ServeFlags& flags);
// Flags given on the command line override --config's `limits:`.
void ApplyServeLimits(const ServeFlags& flags, service::ConnectionLimits& limits);
int RunServe(const ServeFlags& flags);

}  // namespace wpsim::app
