// AppServer: a simulated application server (the event handler side of PROTOCOL.md §12) on
// the runtime seam, with scripted answers, for deterministic scenarios and tests.
//
// Theory of operation. Listen() accepts HTTP/1.1 connections (keep-alive, any number). Every
// request is recorded as an AppServerRequest (time, method, target, headers, body, event name,
// whether ce-signature verifies with the configured keys), then answered:
//  * OPTIONS (abuse-protection validation): `validation` below — status and
//    WebHook-Allowed-Origin (empty: the header is left out).
//  * POST: the reply for its ce-eventName: the next one queued with Enqueue(event, ...) if any,
//    else the one set with SetDefault(event, ...), else SetDefault("*", ...), else
//    AppServerReply::Accept() (204). A reply may be delayed (virtual time in simulation),
//    never answered (Timeout: the request hangs until the caller gives up) or answered by
//    resetting the connection (Fail).
// Replies on one connection leave in request order (HTTP/1.1), whatever their delays.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/http/message.h"
#include "sim/seam.h"
#include "sim/tls/tls.h"

namespace wpsim::clients {

struct AppServerReply {
  enum class Action : uint8_t {
    kRespond,  // answer with status / headers / body below
    kFail,     // reset the connection instead of answering
    kTimeout,  // never answer
  };
  Action action = Action::kRespond;
  int status = 204;
  std::string content_type;  // set with a body
  std::string body;
  std::optional<std::string> connection_state;  // ce-connectionState response header
  std::vector<protocol::http::Header> headers;  // any more response headers
  sim::Nanos delay = 0;

  // 204, no body.
  static AppServerReply Accept();
  // `status` with a text body (connect: rejects the upgrade with that status).
  static AppServerReply Reject(int status, std::string body = {});
  // 200 with `body` of `content_type` (user events: sent back to the client).
  static AppServerReply Reply(std::string body, std::string content_type = "text/plain");
  // connect: 200 {"userId":..,"groups":[..],"roles":[..],"subprotocol":..}; absent fields
  // are left out of the JSON.
  static AppServerReply ConnectWith(std::optional<std::string> user_id,
                                    std::optional<std::vector<std::string>> groups = {},
                                    std::optional<std::vector<std::string>> roles = {},
                                    std::optional<std::string> subprotocol = {});
  static AppServerReply Fail();
  static AppServerReply Timeout();
  AppServerReply& After(sim::Nanos d) {
    delay = d;
    return *this;
  }
  AppServerReply& WithState(std::string state) {
    connection_state = std::move(state);
    return *this;
  }
};

struct AppServerValidation {
  int status = 200;
  std::string allowed_origin = "*";  // WebHook-Allowed-Origin; "" leaves it out
  sim::Nanos delay = 0;
};

struct AppServerOptions {
  sim::Address listen{"app", 80};
  // Keys to check ce-signature with (AppServerRequest::signature_valid).
  std::vector<std::string> access_keys;
  AppServerValidation validation;
  // Serve https: connections are accepted through sim::ListenTls with this server config.
  std::shared_ptr<const sim::TlsConfig> tls;
  // AppServerRequest::time is runtime time minus this (a real-time runner's run clock starts
  // at its own zero; simulations leave it 0).
  sim::Nanos time_origin = 0;
};

// One request the server received.
struct AppServerRequest {
  sim::Nanos time = 0;
  std::string method;
  std::string target;
  protocol::http::Headers headers;
  std::string body;
  std::string event_name;  // ce-eventName; "" for validation requests
  bool signature_valid = false;
  uint64_t connection = 0;  // which accepted connection carried it (1, 2, ...)
  std::string Header(std::string_view name) const;  // "" when absent
};

class AppServer {
 public:
  AppServer(sim::Runtime& runtime, std::string name, AppServerOptions options);
  ~AppServer();
  AppServer(const AppServer&) = delete;
  AppServer& operator=(const AppServer&) = delete;

  Status Listen();
  const std::string& name() const { return name_; }
  // Where Listen() bound (the real port when 0 was asked for); nullopt before.
  std::optional<sim::Address> listen_address() const {
    if (!listener_) return std::nullopt;
    return listener_->address();
  }
  AppServerOptions& options() { return options_; }

  // Replies for `event` ("connect", "message", a user event name, or "*" for any event).
  void SetDefault(std::string event, AppServerReply reply);
  void Enqueue(std::string event, AppServerReply reply);
  // Decides a reply itself when set (before the scripts); return nullopt to fall through.
  std::function<std::optional<AppServerReply>(const AppServerRequest&)> handler;

  const std::vector<AppServerRequest>& requests() const { return requests_; }
  // The requests whose ce-eventName is `event` ("" selects validation requests).
  std::vector<const AppServerRequest*> RequestsFor(std::string_view event) const;
  // Called after each request is recorded (the runner's hook).
  std::function<void(const AppServerRequest&)> on_request;
  size_t connections_accepted() const { return next_connection_id_ - 1; }

 private:
  class Conn;
  AppServerReply ReplyFor(const AppServerRequest& request);
  void OnRequest(Conn& conn, const protocol::http::Request& request);
  void Bury(uint64_t id);

  sim::Runtime& runtime_;
  std::string name_;
  AppServerOptions options_;
  std::unique_ptr<sim::Listener> listener_;
  uint64_t next_connection_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> dead_;
  std::map<std::string, AppServerReply, std::less<>> defaults_;
  std::map<std::string, std::deque<AppServerReply>, std::less<>> queued_;
  std::vector<AppServerRequest> requests_;
  std::vector<sim::TimerId> timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wpsim::clients
