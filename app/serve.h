// `wpsim serve`: the reference service on real sockets (UvRuntime), optionally over TLS.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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
};

void RegisterServe(CLI::App& app, ServeFlags& flags);
int RunServe(const ServeFlags& flags);

}  // namespace wpsim::app
