#include "clients/app_server.h"

#include "protocol/auth/hmac.h"
#include "protocol/http/server_connection.h"

namespace wpsim::clients {

namespace http = protocol::http;

namespace {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonStrings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ",";
    out += JsonString(v[i]);
  }
  return out + "]";
}

}  // namespace

AppServerReply AppServerReply::Accept() { return AppServerReply{}; }

AppServerReply AppServerReply::Reject(int status, std::string body) {
  AppServerReply r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty()) r.content_type = "text/plain; charset=utf-8";
  return r;
}

AppServerReply AppServerReply::Reply(std::string body, std::string content_type) {
  AppServerReply r;
  r.status = 200;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

AppServerReply AppServerReply::ConnectWith(std::optional<std::string> user_id,
                                           std::optional<std::vector<std::string>> groups,
                                           std::optional<std::vector<std::string>> roles,
                                           std::optional<std::string> subprotocol) {
  std::string json = "{";
  auto field = [&](std::string_view name, const std::string& value) {
    if (json.size() > 1) json += ",";
    json += JsonString(name) + ":" + value;
  };
  if (user_id) field("userId", JsonString(*user_id));
  if (groups) field("groups", JsonStrings(*groups));
  if (roles) field("roles", JsonStrings(*roles));
  if (subprotocol) field("subprotocol", JsonString(*subprotocol));
  json += "}";
  return Reply(std::move(json), "application/json; charset=utf-8");
}

AppServerReply AppServerReply::Fail() {
  AppServerReply r;
  r.action = Action::kFail;
  return r;
}

AppServerReply AppServerReply::Timeout() {
  AppServerReply r;
  r.action = Action::kTimeout;
  return r;
}

std::string AppServerRequest::Header(std::string_view name) const {
  return std::string(headers.Get(name).value_or(""));
}

// One accepted connection: HTTP/1.1 server codec on a stream.
class AppServer::Conn : public sim::StreamHandler {
 public:
  Conn(AppServer& server, uint64_t id, std::unique_ptr<sim::Stream> stream)
      : server_(server), id_(id), stream_(std::move(stream)) {
    stream_->SetHandler(this);
  }
  ~Conn() override {
    if (stream_) {
      stream_->SetHandler(nullptr);
      stream_->Close();
    }
  }
  uint64_t id() const { return id_; }

  void OnData(std::span<const uint8_t> data) override {
    if (dead_) return;
    http_.Receive(data);
    Pump();
  }
  void OnEnd() override {
    if (dead_) return;
    http_.ReceiveEof();
    Pump();
  }
  void OnClosed(sim::CloseReason, std::string_view) override {
    if (dead_) return;
    dead_ = true;
    stream_->SetHandler(nullptr);
    stream_.reset();
    server_.Bury(id_);
  }

  void Respond(uint64_t request_id, http::Response response) {
    if (dead_) return;
    http_.Respond(request_id, std::move(response));
    Flush();
  }
  void Reset() {
    if (dead_) return;
    dead_ = true;
    stream_->SetHandler(nullptr);
    stream_->Reset();
    stream_.reset();
    server_.Bury(id_);
  }
  bool dead() const { return dead_; }

 private:
  void Pump() {
    while (!dead_) {
      std::optional<http::ServerEvent> event = http_.PollEvent();
      if (!event) break;
      if (event->kind == http::ServerEvent::Kind::kContinue) {
        http_.Continue(event->request.id);
        continue;
      }
      if (event->kind == http::ServerEvent::Kind::kError) continue;
      server_.OnRequest(*this, event->request);
    }
    Flush();
  }
  void Flush() {
    if (dead_ || !stream_) return;
    if (http_.HasOutput()) {
      std::span<const uint8_t> out = http_.PeekOutput();
      stream_->Write(out);
      http_.ConsumeOutput(out.size());
    }
    if (http_.WantsClose()) {
      dead_ = true;
      stream_->SetHandler(nullptr);
      stream_->Close();
      stream_.reset();
      server_.Bury(id_);
    }
  }

  AppServer& server_;
  uint64_t id_;
  std::unique_ptr<sim::Stream> stream_;
  http::ServerConnection http_;
  bool dead_ = false;
};

AppServer::AppServer(sim::Runtime& runtime, std::string name, AppServerOptions options)
    : runtime_(runtime), name_(std::move(name)), options_(std::move(options)) {}

AppServer::~AppServer() {
  *alive_ = false;
  for (sim::TimerId t : timers_) runtime_.CancelTimer(t);
  listener_.reset();
}

Status AppServer::Listen() {
  sim::AcceptFn accept = [this](std::unique_ptr<sim::Stream> stream) {
    const uint64_t id = next_connection_id_++;
    conns_.emplace(id, std::make_unique<Conn>(*this, id, std::move(stream)));
  };
  auto listener = options_.tls ? sim::ListenTls(runtime_, options_.listen, options_.tls, std::move(accept))
                               : runtime_.Listen(options_.listen, std::move(accept));
  if (!listener.ok()) return listener.error();
  listener_ = std::move(listener.value());
  return Status::Ok();
}

void AppServer::SetDefault(std::string event, AppServerReply reply) {
  defaults_[std::move(event)] = std::move(reply);
}

void AppServer::Enqueue(std::string event, AppServerReply reply) {
  queued_[std::move(event)].push_back(std::move(reply));
}

std::vector<const AppServerRequest*> AppServer::RequestsFor(std::string_view event) const {
  std::vector<const AppServerRequest*> out;
  for (const AppServerRequest& r : requests_) {
    if (r.event_name == event) out.push_back(&r);
  }
  return out;
}

AppServerReply AppServer::ReplyFor(const AppServerRequest& request) {
  if (handler) {
    if (std::optional<AppServerReply> r = handler(request)) return *r;
  }
  for (const std::string& key : {request.event_name, std::string("*")}) {
    auto q = queued_.find(key);
    if (q != queued_.end() && !q->second.empty()) {
      AppServerReply r = std::move(q->second.front());
      q->second.pop_front();
      return r;
    }
  }
  for (const std::string& key : {request.event_name, std::string("*")}) {
    auto d = defaults_.find(key);
    if (d != defaults_.end()) return d->second;
  }
  return AppServerReply::Accept();
}

void AppServer::OnRequest(Conn& conn, const http::Request& request) {
  AppServerRequest r;
  r.time = runtime_.Now() - options_.time_origin;
  r.method = request.method;
  r.target = request.target;
  r.headers = request.headers;
  r.body = request.body;
  r.event_name = std::string(request.headers.Get("ce-eventName").value_or(""));
  r.connection = conn.id();
  if (std::optional<std::string_view> sig = request.headers.Get("ce-signature")) {
    r.signature_valid = protocol::auth::VerifyCloudEventSignature(
        *sig, options_.access_keys, request.headers.Get("ce-connectionId").value_or(""));
  }
  requests_.push_back(r);
  if (on_request) on_request(requests_.back());

  AppServerReply reply;
  if (request.method == "OPTIONS") {
    reply.status = options_.validation.status;
    reply.delay = options_.validation.delay;
    if (!options_.validation.allowed_origin.empty()) {
      reply.headers.push_back({"WebHook-Allowed-Origin", options_.validation.allowed_origin});
    }
  } else {
    reply = ReplyFor(r);
  }
  if (reply.action == AppServerReply::Action::kTimeout) return;  // hangs until the caller quits

  const uint64_t conn_id = conn.id();
  const uint64_t request_id = request.id;
  auto answer = [this, conn_id, request_id, reply] {
    auto it = conns_.find(conn_id);
    if (it == conns_.end() || it->second->dead()) return;
    if (reply.action == AppServerReply::Action::kFail) {
      it->second->Reset();
      return;
    }
    http::Response response;
    response.status = reply.status;
    if (!reply.content_type.empty()) response.headers.Add("Content-Type", reply.content_type);
    if (reply.connection_state) response.headers.Add("ce-connectionState", *reply.connection_state);
    for (const http::Header& h : reply.headers) response.headers.Add(h.name, h.value);
    response.body = reply.body;
    it->second->Respond(request_id, std::move(response));
  };
  if (reply.delay > 0) {
    timers_.push_back(runtime_.SetTimer(runtime_.Now() + reply.delay,
                                        [alive = alive_, answer] {
                                          if (*alive) answer();
                                        }));
  } else {
    answer();
  }
}

void AppServer::Bury(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  dead_.push_back(std::move(it->second));
  conns_.erase(it);
  runtime_.Post([this, alive = alive_] {
    if (*alive) dead_.clear();
  });
}

}  // namespace wpsim::clients
