// RestClient: a simulated server SDK calling the REST data-plane API (PROTOCOL.md §11) the way
// @azure/web-pubsub does: a bearer JWT per request whose audience is the full request URL
// (query included), `api-version=2024-12-01`, JSON / text / binary bodies with their
// Content-Type. One keep-alive HTTP/1.1 connection, requests sent one at a time in order
// (re-dialled if the service closes it).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/observation.h"
#include "protocol/auth/connection_string.h"
#include "protocol/http/client_connection.h"
#include "sim/seam.h"

namespace wpsim::clients {

struct RestClientOptions {
  sim::Address service;                        // where to dial
  protocol::auth::ConnectionString connection_string;  // endpoint (Host, audience) and key
  std::string api_version = "2024-12-01";
  int64_t token_lifetime_seconds = 3600;
  // Sign tokens with this key instead of the connection string's (negative tests).
  std::optional<std::string> signing_key_override;
  bool omit_authorization = false;
  // Opens the transport instead of runtime.Dial when set (e.g. sim::DialTls for https://).
  std::function<void(const sim::Address&, sim::DialFn)> dial;
  // Keep every observation in observations() (tests read them there). A caller that consumes
  // on_observation as the stream (the conformance runner) turns this off: the client then keeps
  // nothing per message.
  bool record_observations = true;
};

// Per-call deviations from the SDK's request (negative and routing tests).
struct RestCallOptions {
  // Extra request headers, added after Host/Authorization/Content-Type.
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> api_version;  // instead of RestClientOptions::api_version
  bool omit_api_version = false;           // no api-version parameter at all
  // Makes the bearer token for the request URL (endpoint + path and query, api-version
  // included); an empty result sends no Authorization header. Unset: the SDK's token.
  std::function<std::string(const std::string& url)> token;
};

class RestClient : public sim::StreamHandler {
 public:
  using ResponseFn = std::function<void(const protocol::http::Response&)>;

  RestClient(sim::Runtime& runtime, std::string name, RestClientOptions options);
  ~RestClient() override;

  // Queues a call. `path_and_query` starts with "/api/..."; api-version is appended (unless
  // `call` says otherwise). The response is recorded as an Observation labelled `label` and
  // passed to `done`.
  void Call(std::string method, std::string path_and_query, std::string content_type,
            std::string body, std::string label, ResponseFn done = nullptr,
            const RestCallOptions& call = {});

  const std::string& name() const { return name_; }
  const std::vector<Observation>& observations() const { return observations_; }  // see record_observations
  std::function<void(const Observation&)> on_observation;
  bool idle() const { return pending_.empty() && !in_flight_; }

  // sim::StreamHandler
  void OnData(std::span<const uint8_t> data) override;
  void OnEnd() override;
  void OnClosed(sim::CloseReason reason, std::string_view detail) override;

 private:
  struct PendingCall {
    protocol::http::Request request;
    std::string label;
    ResponseFn done;
  };
  void Pump();
  void Complete(protocol::http::Response response);
  void Dial();
  void DropStream();
  void Flush();

  sim::Runtime& runtime_;
  std::string name_;
  RestClientOptions options_;
  std::unique_ptr<sim::Stream> stream_;
  std::unique_ptr<protocol::http::ClientConnection> http_;
  bool dialing_ = false;
  bool in_flight_ = false;
  std::deque<PendingCall> pending_;
  std::vector<Observation> observations_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wpsim::clients
