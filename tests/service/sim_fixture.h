// The fixture every service simulation test starts from: a SimNetwork with the hosts "service"
// and "client", the reference service on service:80 (started on first use, so a test may change
// options_ first), a connection string for it, token building and owned simulated clients.
// Each test file derives from ServiceSimTest and adds only what its own tests need.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/app_server.h"
#include "clients/mqtt_client.h"
#include "clients/observation.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "service/options.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_test_util.h"

namespace wpsim::service::testing {

inline const sim::Address kServiceAddress{"service", 80};

class ServiceSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_host_ = net_.AddHost("service").value();
    client_host_ = net_.AddHost("client").value();
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(kDefaultAccessKey);
  }

  // Starts the service with options_ (once). Client builders call it; fixtures that want the
  // service up before every test call it from SetUp. WPSIM_DEBUG=1 prints its access log.
  void StartService() {
    if (service_) return;
    service_ = std::make_unique<Service>(*service_host_, options_);
    if (getenv("WPSIM_DEBUG") != nullptr) {
      service_->log = [](std::string_view l) {
        fprintf(stderr, "svc: %.*s\n", static_cast<int>(l.size()), l.data());
      };
    }
    ASSERT_TRUE(service_->Listen(kServiceAddress).ok());
  }

  // The client host's Unix time in seconds (token iat/exp).
  int64_t Now() const { return client_host_->UnixNow() / sim::kSecond; }

  // A client access token for hub "hub", valid for `lifetime` seconds from now.
  std::string Token(std::optional<std::string> user, std::vector<std::string> roles = {},
                    std::vector<std::string> groups = {}, int64_t lifetime = 3600,
                    protocol::auth::ClientType type = protocol::auth::ClientType::kDefault) {
    protocol::auth::ClientTokenOptions o;
    o.user_id = std::move(user);
    if (!roles.empty()) o.roles = std::move(roles);
    if (!groups.empty()) o.groups = std::move(groups);
    o.issued_at = Now();
    o.expires_at = o.issued_at + lifetime;
    o.client_type = type;
    return protocol::auth::BuildClientToken(cs_, "hub", o);
  }

  // Options of a WebSocket client of hub "hub" with `token`.
  static clients::WsClientOptions WsOptions(clients::WsClientKind kind, std::string token) {
    clients::WsClientOptions o;
    o.kind = kind;
    o.service = kServiceAddress;
    o.hub = "hub";
    o.access_token = std::move(token);
    return o;
  }

  clients::WsClient& Client(std::string name, clients::WsClientOptions o) {
    StartService();
    ws_clients_.push_back(
        std::make_unique<clients::WsClient>(*client_host_, std::move(name), std::move(o)));
    return *ws_clients_.back();
  }
  clients::WsClient& Client(std::string name, clients::WsClientKind kind, std::string token) {
    return Client(std::move(name), WsOptions(kind, std::move(token)));
  }

  clients::MqttClient& AddMqtt(std::string name, clients::MqttClientOptions o) {
    StartService();
    o.service = kServiceAddress;
    mqtt_clients_.push_back(
        std::make_unique<clients::MqttClient>(*client_host_, std::move(name), std::move(o)));
    return *mqtt_clients_.back();
  }

  // The server SDK's REST client, with the service's connection string (made on first use).
  clients::RestClient& Rest() {
    StartService();
    if (!rest_) {
      clients::RestClientOptions o;
      o.service = kServiceAddress;
      o.connection_string = cs_;
      rest_ = std::make_unique<clients::RestClient>(*client_host_, "rest", o);
    }
    return *rest_;
  }

  // The scripted application server (event handler) on host "app", port 80 (made once).
  clients::AppServer& StartApp() {
    if (!app_) {
      app_host_ = net_.AddHost("app").value();
      clients::AppServerOptions o;
      o.access_keys = options_.access_keys;
      app_ = std::make_unique<clients::AppServer>(*app_host_, "app", o);
      EXPECT_TRUE(app_->Listen().ok());
    }
    return *app_;
  }
  // The event handler requests the app server received for `event`, in order.
  std::vector<const clients::AppServerRequest*> Posts(std::string_view event) const {
    return app_->RequestsFor(event);
  }

  // Lets `duration` of virtual time pass; fails the test when the network reports an error.
  void Run(sim::Nanos duration = sim::kSecond) { RunNetwork(net_, duration); }

  // The observations of `kind` (and `label`, when given) a simulated client recorded, in order.
  template <typename Client>
  static std::vector<const clients::Observation*> Of(const Client& client,
                                                     clients::Observation::Kind kind,
                                                     std::string_view label = {}) {
    std::vector<const clients::Observation*> out;
    for (const clients::Observation& o : client.observations()) {
      if (o.kind == kind && (label.empty() || o.label == label)) out.push_back(&o);
    }
    return out;
  }

  ServiceOptions options_;
  sim::SimNetwork net_;
  sim::SimRuntime* service_host_ = nullptr;
  sim::SimRuntime* client_host_ = nullptr;
  sim::SimRuntime* app_host_ = nullptr;
  std::unique_ptr<clients::AppServer> app_;  // outlives the service that calls it
  std::unique_ptr<Service> service_;
  protocol::auth::ConnectionString cs_;
  std::vector<std::unique_ptr<clients::WsClient>> ws_clients_;
  std::vector<std::unique_ptr<clients::MqttClient>> mqtt_clients_;
  std::unique_ptr<clients::RestClient> rest_;
};

}  // namespace wpsim::service::testing
