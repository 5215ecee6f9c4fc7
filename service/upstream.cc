#include "service/upstream.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "protocol/auth/hmac.h"
#include "protocol/http/client_connection.h"
#include "service/options.h"
#include "service/client_connection.h"
#include "service/service.h"
#include "service/trace.h"
#include "sim/tls/tls.h"

namespace wpsim::service {

namespace http = protocol::http;
using Outcome = UpstreamResult::Outcome;

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kResponse: return "response";
    case Outcome::kNoHandler: return "no-handler";
    case Outcome::kValidationFailed: return "validation-failed";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kNetworkError: return "network-error";
    case Outcome::kOverloaded: return "overloaded";
  }
  return "unknown";
}

std::string UpstreamResult::Describe() const {
  if (outcome == Outcome::kResponse) return "status " + std::to_string(status);
  std::string out(OutcomeName(outcome));
  if (attempts > 1) out += " after " + std::to_string(attempts) + " attempts";
  if (!error.empty()) out += ": " + error;
  return out;
}

std::string Rfc3339(sim::Nanos unix_nanos) {
  int64_t seconds = unix_nanos / sim::kSecond;
  int64_t millis = (unix_nanos % sim::kSecond) / sim::kMillisecond;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  // civil_from_days (H. Hinnant): proleptic Gregorian calendar, no tables, no time zone.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[160];  // room for any int64 fields (the compiler checks the worst case)
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(rem / 3600),
                static_cast<long long>(rem % 3600 / 60), static_cast<long long>(rem % 60),
                static_cast<long long>(millis));
  return buf;
}

Result<ConnectResponse> ParseConnectResponse(std::string_view body) {
  ConnectResponse out;
  const bool blank = std::all_of(body.begin(), body.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  });
  if (blank) return out;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("bad_connect_response", "the body is not valid JSON");
  if (j.is_null()) return out;
  if (!j.is_object()) return MakeError("bad_connect_response", "the body is not a JSON object");
  auto strings = [&](const char* key) -> Result<std::optional<std::vector<std::string>>> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::optional<std::vector<std::string>>();
    if (!it->is_array()) return MakeError("bad_connect_response", std::string(key) + " is not an array");
    std::vector<std::string> v;
    for (const auto& e : *it) {
      if (!e.is_string()) return MakeError("bad_connect_response", std::string(key) + " has a non-string");
      v.push_back(e.get<std::string>());
    }
    return std::optional<std::vector<std::string>>(std::move(v));
  };
  if (auto it = j.find("userId"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return MakeError("bad_connect_response", "userId is not a string");
    out.user_id = it->get<std::string>();
  }
  if (auto it = j.find("subprotocol"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return MakeError("bad_connect_response", "subprotocol is not a string");
    out.subprotocol = it->get<std::string>();
  }
  auto groups = strings("groups");
  if (!groups.ok()) return groups.error();
  out.groups = std::move(groups.value());
  auto roles = strings("roles");
  if (!roles.ok()) return roles.error();
  out.roles = std::move(roles.value());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pool: keep-alive HTTP/1.1 connections per origin, one request in flight per connection.

namespace {
struct HttpOutcome {
  Outcome outcome = Outcome::kResponse;
  http::Response response;
  std::string error;
};
using ExchangeFn = std::function<void(HttpOutcome)>;
}  // namespace

class Upstream::Pool {
 public:
  Pool(sim::Runtime& runtime, const UpstreamOptions& options)
      : runtime_(runtime), options_(options) {}

  ~Pool() {
    *alive_ = false;
    for (auto& [id, p] : pending_) {
      if (p.timer != 0) runtime_.CancelTimer(p.timer);
    }
    for (auto& [key, origin] : origins_) {
      for (auto& c : origin.conns) {
        if (c->idle_timer != 0) runtime_.CancelTimer(c->idle_timer);
        c->Shut();
      }
    }
  }

  void Exchange(const HttpUrl& url, http::Request request, sim::Nanos timeout, ExchangeFn fn) {
    const std::string key = url.Origin();
    if (pending_.size() >= options_.pending_requests_max) {
      Later(std::move(fn), HttpOutcome{Outcome::kOverloaded, {}, "too many pending upstream requests"});
      return;
    }
    OriginState& origin = origins_[key];
    origin.address = sim::Address{url.host, url.port};
    origin.https = url.https;
    origin.server_name = url.host;
    const uint64_t id = next_id_++;
    Pending& p = pending_[id];
    p.origin = key;
    p.request = std::move(request);
    p.fn = std::move(fn);
    p.timer = runtime_.SetTimer(runtime_.Now() + timeout, [this, id] { OnTimeout(id); });
    origin.waiting.push_back(id);
    Kick(key);
  }

  uint64_t sent() const { return sent_; }

 private:
  struct Conn : sim::StreamHandler {
    Pool* pool;
    std::string origin;
    std::unique_ptr<sim::Stream> stream;
    http::ClientConnection codec;
    uint64_t current = 0;   // pending id in flight, 0 when idle
    uint64_t served = 0;    // responses received so far (a reused connection may be stale)
    bool got_bytes = false; // bytes of the current response arrived
    bool dead = false;
    sim::TimerId idle_timer = 0;  // armed while the connection waits for a request

    explicit Conn(const http::Limits& limits) : codec(limits) {}
    void OnData(std::span<const uint8_t> data) override {
      if (dead) return;
      got_bytes = true;
      codec.Receive(data);
      pool->Drain(this);
    }
    void OnEnd() override {
      if (dead) return;
      codec.ReceiveEof();
      pool->Drain(this);
      if (!dead) pool->Kill(this, "the application server closed the connection", false);
    }
    void OnClosed(sim::CloseReason reason, std::string_view detail) override {
      if (dead) return;
      pool->Kill(this, std::string(sim::CloseReasonName(reason)) + ": " + std::string(detail),
                 false);
    }
    void Shut() {
      if (!stream) return;
      stream->SetHandler(nullptr);
      stream->Close();
    }
  };
  struct OriginState {
    sim::Address address;
    bool https = false;
    std::string server_name;
    std::shared_ptr<const sim::TlsConfig> tls;  // made on the first https dial
    std::vector<std::unique_ptr<Conn>> conns;
    std::deque<uint64_t> waiting;
    size_t dialing = 0;
  };
  struct Pending {
    std::string origin;
    http::Request request;
    ExchangeFn fn;
    sim::TimerId timer = 0;
    Conn* conn = nullptr;
    bool stale_retry_used = false;
  };

  void Later(ExchangeFn fn, HttpOutcome outcome) {
    runtime_.Post([alive = alive_, fn = std::move(fn), outcome = std::move(outcome)]() mutable {
      if (*alive) fn(std::move(outcome));
    });
  }

  void Kick(const std::string& key) {
    auto it = origins_.find(key);
    if (it == origins_.end()) return;
    OriginState& origin = it->second;
    while (!origin.waiting.empty()) {
      Conn* idle = nullptr;
      for (auto& c : origin.conns) {
        if (!c->dead && c->current == 0) {
          idle = c.get();
          break;
        }
      }
      if (idle == nullptr) break;
      const uint64_t id = origin.waiting.front();
      origin.waiting.pop_front();
      Assign(idle, id);
    }
    while (origin.dialing < origin.waiting.size() &&
           origin.conns.size() + origin.dialing < options_.connections_per_origin_max) {
      Dial(key, origin);
    }
    for (auto& c : origin.conns) {
      if (c->dead || c->current != 0 || c->idle_timer != 0) continue;
      Conn* conn = c.get();
      conn->idle_timer = runtime_.SetTimer(runtime_.Now() + options_.idle_connection_timeout,
                                           [this, conn] {
                                             conn->idle_timer = 0;
                                             Kill(conn, "", true);
                                           });
    }
  }

  void Dial(const std::string& key, OriginState& origin) {
    ++origin.dialing;
    sim::DialFn on_dial = [this, alive = alive_, key](Result<std::unique_ptr<sim::Stream>> s) {
      if (!*alive) return;
      OriginState& o = origins_[key];
      --o.dialing;
      if (!s.ok()) {
        // The oldest waiting request fails; the others get their own dial (and retries).
        if (!o.waiting.empty()) {
          const uint64_t id = o.waiting.front();
          o.waiting.pop_front();
          Complete(id, HttpOutcome{Outcome::kNetworkError, {}, "dial failed: " + s.error().message});
        }
        Kick(key);
        return;
      }
      http::Limits limits;
      limits.body_bytes_max = options_.response_body_bytes_max;
      auto conn = std::make_unique<Conn>(limits);
      conn->pool = this;
      conn->origin = key;
      conn->stream = std::move(s.value());
      conn->stream->SetHandler(conn.get());
      o.conns.push_back(std::move(conn));
      Kick(key);
    };
    if (!origin.https) return runtime_.Dial(origin.address, std::move(on_dial));
    if (!origin.tls) {
      sim::TlsClientOptions tls;
      tls.server_name = origin.server_name;
      if (!options_.tls_ca_file.empty()) tls.ca_file = options_.tls_ca_file;
      tls.ca_pem = options_.tls_ca_pem;
      tls.verify = options_.tls_verify;
      tls.alpn = {"http/1.1"};
      Result<std::shared_ptr<const sim::TlsConfig>> config = sim::TlsConfig::Client(tls);
      if (!config.ok()) {
        std::string why = "TLS configuration for " + key + ": " + config.error().message;
        return runtime_.Post([on_dial = std::move(on_dial), why = std::move(why)]() mutable {
          on_dial(MakeError("tls_config", why));
        });
      }
      origin.tls = std::move(config.value());
    }
    sim::DialTls(runtime_, origin.address, origin.tls, std::move(on_dial));
  }

  void Assign(Conn* conn, uint64_t id) {
    if (conn->idle_timer != 0) {
      runtime_.CancelTimer(conn->idle_timer);
      conn->idle_timer = 0;
    }
    Pending& p = pending_.at(id);
    p.conn = conn;
    conn->current = id;
    conn->got_bytes = false;
    conn->codec.SendRequest(p.request);
    std::span<const uint8_t> out = conn->codec.PeekOutput();
    conn->stream->Write(out);
    conn->codec.ConsumeOutput(out.size());
    ++sent_;
  }

  void Drain(Conn* conn) {
    while (!conn->dead) {
      std::optional<http::ClientEvent> event = conn->codec.PollEvent();
      if (!event) return;
      if (event->kind == http::ClientEvent::Kind::kError) {
        Kill(conn, "invalid HTTP response: " + event->error.reason, true);
        return;
      }
      if (event->response.status < 200) continue;  // interim (100 Continue)
      const uint64_t id = conn->current;
      conn->current = 0;
      ++conn->served;
      const bool keep = event->response.keep_alive;
      const std::string key = conn->origin;
      if (!keep) Kill(conn, "", true);
      if (id != 0 && pending_.count(id) != 0) {
        pending_.at(id).conn = nullptr;
        Complete(id, HttpOutcome{Outcome::kResponse, std::move(event->response), {}});
      }
      Kick(key);
      return;
    }
  }

  // Removes a connection; its in-flight request fails (or, on a reused keep-alive connection
  // that died before answering anything, is sent again once on a fresh connection).
  void Kill(Conn* conn, const std::string& why, bool local) {
    if (conn->dead) return;
    conn->dead = true;
    if (conn->idle_timer != 0) {
      runtime_.CancelTimer(conn->idle_timer);
      conn->idle_timer = 0;
    }
    if (local) conn->Shut();
    else if (conn->stream) conn->stream->SetHandler(nullptr);
    const std::string key = conn->origin;
    OriginState& origin = origins_[key];
    auto it = std::find_if(origin.conns.begin(), origin.conns.end(),
                           [conn](const auto& c) { return c.get() == conn; });
    if (it != origin.conns.end()) {
      graveyard_.push_back(std::move(*it));
      origin.conns.erase(it);
      if (!cleanup_posted_) {
        cleanup_posted_ = true;
        runtime_.Post([this, alive = alive_] {
          if (!*alive) return;
          cleanup_posted_ = false;
          graveyard_.clear();
        });
      }
    }
    const uint64_t id = conn->current;
    conn->current = 0;
    if (id != 0 && pending_.count(id) != 0) {
      Pending& p = pending_.at(id);
      p.conn = nullptr;
      if (conn->served > 0 && !conn->got_bytes && !p.stale_retry_used) {
        p.stale_retry_used = true;
        origin.waiting.push_front(id);
      } else {
        Complete(id, HttpOutcome{Outcome::kNetworkError, {}, why});
      }
    }
    Kick(key);
  }

  void OnTimeout(uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    it->second.timer = 0;
    const std::string key = it->second.origin;
    if (Conn* conn = it->second.conn) {
      conn->current = 0;  // the request is abandoned; the connection cannot be reused
      it->second.conn = nullptr;
      Kill(conn, "timeout", true);
    } else {
      auto& waiting = origins_[key].waiting;
      waiting.erase(std::remove(waiting.begin(), waiting.end(), id), waiting.end());
    }
    Complete(id, HttpOutcome{Outcome::kTimeout, {}, "no response within the request timeout"});
  }

  void Complete(uint64_t id, HttpOutcome outcome) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    if (it->second.timer != 0) runtime_.CancelTimer(it->second.timer);
    ExchangeFn fn = std::move(it->second.fn);
    pending_.erase(it);
    fn(std::move(outcome));
  }

  sim::Runtime& runtime_;
  const UpstreamOptions& options_;
  uint64_t next_id_ = 1;
  uint64_t sent_ = 0;
  std::map<std::string, OriginState> origins_;
  std::map<uint64_t, Pending> pending_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  bool cleanup_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// ---------------------------------------------------------------------------------------------

struct Upstream::Call {
  UpstreamEvent event;
  UpstreamResultFn done;
  HttpUrl url;
  std::string validation_key;
  uint64_t event_id = 0;
  int attempts = 0;
  sim::TimerId retry_timer = 0;
};

namespace {
// A header field value cannot carry CR, LF, NUL or other control characters (RFC 9110 5.5), and
// http::AppendHeaders asserts so. Values that come from outside (a user id from a token or from
// a connect handler's answer, a connection state, a subprotocol, names) have each such byte
// replaced by a space, so no input can split the request or stop the service.
std::string FieldValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) c = ' ';
  }
  return out;
}

std::string OriginFor(sim::Runtime& runtime, const ServiceOptions& options) {
  if (!options.upstream.request_origin.empty()) return options.upstream.request_origin;
  if (!options.public_endpoint.empty()) {
    Result<HttpUrl> url = ParseHttpUrl(options.public_endpoint);
    if (url.ok()) return url->host;
  }
  return std::string(runtime.HostName());
}
}  // namespace

Upstream::Upstream(sim::Runtime& runtime, const ServiceOptions& options)
    : runtime_(runtime),
      options_(options),
      origin_(OriginFor(runtime, options)),
      pool_(std::make_unique<Pool>(runtime, options.upstream)) {}

Upstream::~Upstream() {
  *alive_ = false;
  for (auto& [id, call] : calls_) {
    if (call->retry_timer != 0) runtime_.CancelTimer(call->retry_timer);
  }
}

uint64_t Upstream::requests_sent() const { return pool_->sent(); }

bool Upstream::HasHandler(std::string_view hub, EventKind kind, std::string_view event) const {
  return FindEventHandler(options_.hubs, hub, kind, event) != nullptr;
}

std::string Upstream::ConnectionState(std::string_view connection_id) const {
  auto it = connections_.find(connection_id);
  return it == connections_.end() ? std::string() : it->second.state;
}

void Upstream::FailLater(UpstreamResultFn done, UpstreamResult result) {
  if (!done) return;
  runtime_.Post([alive = alive_, done = std::move(done), result = std::move(result)] {
    if (*alive) done(result);
  });
}

void Upstream::Send(UpstreamEvent event, UpstreamResultFn done) {
  const std::string connection_id = event.context.connection_id;
  const bool last = event.last;
  auto fail = [&](Outcome outcome, std::string error) {
    if (last) Forget(connection_id);
    UpstreamResult r;
    r.outcome = outcome;
    r.error = std::move(error);
    FailLater(std::move(done), std::move(r));
  };
  const EventHandlerSettings* handler =
      FindEventHandler(options_.hubs, event.context.hub, event.kind, event.name);
  if (handler == nullptr) return fail(Outcome::kNoHandler, "no event handler for '" + event.name + "'");
  Result<HttpUrl> url =
      ParseHttpUrl(ExpandUrlTemplate(handler->url_template, event.context.hub, event.name));
  if (!url.ok()) return fail(Outcome::kNetworkError, url.error().message);
  ConnectionRecord& record = connections_[connection_id];
  if (record.queue.size() >= options_.upstream.per_connection_queue_max) {
    return fail(Outcome::kOverloaded, "too many events of this connection waiting");
  }
  auto call = std::make_unique<Call>();
  call->url = std::move(url.value());
  call->validation_key = ExpandUrlTemplate(handler->url_template, event.context.hub, "validate");
  call->event = std::move(event);
  call->done = std::move(done);
  const uint64_t id = next_call_id_++;
  calls_.emplace(id, std::move(call));
  record.queue.push_back(id);
  if (last) record.forget = true;
  // Start on the loop, never inside the caller's call.
  runtime_.Post([this, alive = alive_, connection_id] {
    if (*alive) Pump(connection_id);
  });
}

void Upstream::Connect(const UpstreamContext& context, std::string body_json,
                       UpstreamResultFn done) {
  UpstreamEvent e;
  e.context = context;
  e.context.subprotocol.clear();  // not selected yet: ce-subprotocol is never sent on connect
  e.kind = EventKind::kSystem;
  e.name = "connect";
  e.content_type = "application/json; charset=utf-8";
  e.body = std::move(body_json);
  Send(std::move(e), std::move(done));
}

void Upstream::Connected(const UpstreamContext& context) {
  if (!HasHandler(context.hub, EventKind::kSystem, "connected")) return;
  UpstreamEvent e;
  e.context = context;
  e.kind = EventKind::kSystem;
  e.name = "connected";
  e.content_type = "application/json; charset=utf-8";
  e.body = "{}";
  Send(std::move(e), nullptr);
}

void Upstream::Disconnected(const UpstreamContext& context, std::string_view reason) {
  if (!HasHandler(context.hub, EventKind::kSystem, "disconnected")) {
    Forget(context.connection_id);
    return;
  }
  UpstreamEvent e;
  e.context = context;
  e.kind = EventKind::kSystem;
  e.name = "disconnected";
  e.content_type = "application/json; charset=utf-8";
  // `replace`: a reason from outside (a REST parameter) may be invalid UTF-8; dump() would throw.
  e.body = nlohmann::json{{"reason", std::string(reason)}}.dump(-1, ' ', false,
                                                              nlohmann::json::error_handler_t::replace);
  e.last = true;
  Send(std::move(e), nullptr);
}

void Upstream::UserEvent(const UpstreamContext& context, std::string_view event,
                         std::string content_type, std::string body, UpstreamResultFn done) {
  UpstreamEvent e;
  e.context = context;
  e.kind = EventKind::kUser;
  e.name = std::string(event);
  e.content_type = std::move(content_type);
  e.body = std::move(body);
  Send(std::move(e), std::move(done));
}

void Upstream::Forget(const std::string& connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return;
  it->second.forget = true;
  if (!it->second.busy && it->second.queue.empty()) connections_.erase(it);
}

void Upstream::Pump(const std::string& connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return;
  ConnectionRecord& record = it->second;
  if (record.busy) return;
  if (record.queue.empty()) {
    if (record.forget) connections_.erase(it);
    return;
  }
  record.busy = true;
  Start(record.queue.front());
}

void Upstream::Start(uint64_t call_id) {
  Call& call = *calls_.at(call_id);
  if (!options_.upstream.validate) return Dispatch(call_id);
  Validation& v = validations_[call.validation_key];
  const sim::Nanos now = runtime_.Now();
  switch (v.state) {
    case Validation::State::kValid:
      if (now >= v.expires && !v.revalidating) Validate(call.validation_key);
      return Dispatch(call_id);
    case Validation::State::kPending:
      v.waiters.push_back(call_id);
      return;
    case Validation::State::kUnknown:
      v.waiters.push_back(call_id);
      return Validate(call.validation_key);
    case Validation::State::kInvalid:
      if (now >= v.expires) {
        v.waiters.push_back(call_id);
        return Validate(call.validation_key);
      }
      UpstreamResult r;
      r.outcome = Outcome::kValidationFailed;
      r.error = v.detail;
      return Finish(call_id, std::move(r));
  }
}

void Upstream::Validate(const std::string& key) {
  Validation& v = validations_[key];
  if (v.state == Validation::State::kValid) {
    v.revalidating = true;
  } else {
    v.state = Validation::State::kPending;
  }
  SendValidation(key, "OPTIONS");
}

// The emulator's AbuseProtector falls back to GET when OPTIONS is answered 404 (PROTOCOL.md
// §12.2); the GET is judged like the OPTIONS.
void Upstream::SendValidation(const std::string& key, std::string_view method) {
  Result<HttpUrl> url = ParseHttpUrl(key);
  if (!url.ok()) return OnValidated(key, false, url.error().message);
  http::Request request;
  request.method = std::string(method);
  request.target = url->target;
  request.headers.Add("Host", url->host_header);
  request.headers.Add("WebHook-Request-Origin", origin_);
  request.headers.Add("ce-awpsversion", "1.0");
  pool_->Exchange(*url, std::move(request), options_.upstream.validation_timeout,
                  [this, alive = alive_, key, get = method == "GET"](HttpOutcome o) {
                    if (!*alive) return;
                    if (o.outcome != Outcome::kResponse) {
                      return OnValidated(key, false, std::string(OutcomeName(o.outcome)) + ": " + o.error);
                    }
                    const int status = o.response.status;
                    if (status == 404 && !get) return SendValidation(key, "GET");
                    if (status < 200 || status >= 300) {
                      return OnValidated(key, false, std::string(get ? "GET" : "OPTIONS") +
                                                         " validation answered " + std::to_string(status));
                    }
                    for (std::string_view allowed : o.response.headers.GetList("WebHook-Allowed-Origin")) {
                      if (allowed == "*" || http::EqualsIgnoreCase(allowed, origin_)) {
                        return OnValidated(key, true, {});
                      }
                    }
                    OnValidated(key, false, "WebHook-Allowed-Origin allows neither '*' nor '" + origin_ + "'");
                  });
}

void Upstream::OnValidated(const std::string& key, bool ok, std::string detail) {
  Validation& v = validations_[key];
  const sim::Nanos now = runtime_.Now();
  v.revalidating = false;
  if (ok) {
    v.state = Validation::State::kValid;
    v.expires = now + options_.upstream.validation_ttl;
    v.backoff = 0;
    v.detail.clear();
  } else {
    v.backoff = v.backoff == 0 ? options_.upstream.validation_retry_min
                               : std::min(v.backoff * 2, options_.upstream.validation_retry_max);
    v.state = Validation::State::kInvalid;
    v.expires = now + v.backoff;
    v.detail = "abuse-protection validation of " + key + " failed: " + detail;
  }
  std::vector<uint64_t> waiters;
  waiters.swap(v.waiters);
  const std::string failure = v.detail;
  for (uint64_t id : waiters) {
    if (calls_.count(id) == 0) continue;
    if (ok) {
      Dispatch(id);
    } else {
      UpstreamResult r;
      r.outcome = Outcome::kValidationFailed;
      r.error = failure;
      Finish(id, std::move(r));
    }
  }
}

void Upstream::Dispatch(uint64_t call_id) {
  Call& call = *calls_.at(call_id);
  call.retry_timer = 0;
  if (call.event_id == 0) call.event_id = next_event_id_++;
  ++call.attempts;
  const UpstreamContext& ctx = call.event.context;
  const bool system = call.event.kind == EventKind::kSystem;
  http::Request request;
  request.method = "POST";
  request.target = call.url.target;
  http::Headers& h = request.headers;
  h.Add("Host", call.url.host_header);
  h.Add("Content-Type", call.event.content_type);
  h.Add("ce-specversion", "1.0");
  h.Add("ce-awpsversion", "1.0");
  h.Add("ce-type", FieldValue(std::string(system ? "azure.webpubsub.sys." : "azure.webpubsub.user.") +
                                call.event.name));
  h.Add("ce-source", FieldValue(ctx.source.empty()
                                    ? "/hubs/" + ctx.hub + "/client/" + ctx.connection_id
                                    : ctx.source));
  h.Add("ce-id", std::to_string(call.event_id));
  h.Add("ce-time", Rfc3339(runtime_.UnixNow()));
  h.Add("ce-signature", protocol::auth::CloudEventSignature(options_.access_keys, ctx.connection_id));
  if (ctx.user_id) h.Add("ce-userId", FieldValue(*ctx.user_id));
  h.Add("ce-connectionId", FieldValue(ctx.connection_id));
  h.Add("ce-hub", FieldValue(ctx.hub));
  h.Add("ce-eventName", FieldValue(call.event.name));
  // WebSocket connect events never carry it (Upstream::Connect clears it: nothing is selected
  // yet); MQTT connect events do, because the Express SDK recognises MQTT requests by
  // ce-subprotocol "mqtt" plus ce-physicalConnectionId (PROTOCOL.md §12.8).
  if (!ctx.subprotocol.empty()) h.Add("ce-subprotocol", FieldValue(ctx.subprotocol));
  const std::string state = ConnectionState(ctx.connection_id);
  if (!state.empty()) h.Add("ce-connectionState", FieldValue(state));
  h.Add("WebHook-Request-Origin", origin_);
  for (const auto& [name, value] : ctx.extra_headers) h.Add(name, FieldValue(value));
  request.body = call.event.body;
  if (tracer_ != nullptr) {
    const std::string url = call.url.Origin() + call.url.target;
    const std::string name = std::string(system ? "sys." : "user.") + call.event.name;
    TraceEvent e;
    e.kind = TraceKind::kUpstreamRequest;
    e.request = call.event_id;
    e.hub = ctx.hub;
    e.connection_id = ctx.connection_id;
    if (ctx.user_id) e.user_id = *ctx.user_id;
    e.method = "POST";
    e.target = url;
    e.text = name;
    e.payload = AsBytes(request.body);
    e.binary = call.event.content_type == "application/octet-stream";
    tracer_->OnTrace(e);
  }
  pool_->Exchange(call.url, std::move(request), options_.upstream.request_timeout,
                  [this, alive = alive_, call_id](HttpOutcome o) {
                    if (!*alive) return;
                    UpstreamResult r;
                    r.outcome = o.outcome;
                    r.error = std::move(o.error);
                    if (o.outcome == Outcome::kResponse) {
                      r.status = o.response.status;
                      r.headers = std::move(o.response.headers);
                      r.body = std::move(o.response.body);
                    }
                    TraceAttempt(call_id, r);
                    OnAttemptDone(call_id, std::move(r));
                  });
}

void Upstream::TraceAttempt(uint64_t call_id, const UpstreamResult& result) {
  auto it = calls_.find(call_id);
  if (tracer_ == nullptr || it == calls_.end()) return;
  const Call& call = *it->second;
  const std::string outcome =
      result.outcome == Outcome::kResponse ? std::string() : result.Describe();
  TraceEvent e;
  e.kind = TraceKind::kUpstreamResponse;
  e.request = call.event_id;
  e.hub = call.event.context.hub;
  e.connection_id = call.event.context.connection_id;
  e.status = result.outcome == Outcome::kResponse ? result.status : 0;
  e.text = outcome;
  e.payload = AsBytes(result.body);
  tracer_->OnTrace(e);
}

void Upstream::OnAttemptDone(uint64_t call_id, UpstreamResult result) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  Call& call = *it->second;
  // Only a successful answer sets the state (EVENT-011): the emulator keeps the previous state
  // when the handler failed, so a 4xx/5xx answer's ce-connectionState is ignored.
  if (result.ok()) {
    if (std::optional<std::string_view> state = result.headers.Get("ce-connectionState")) {
      connections_[call.event.context.connection_id].state = std::string(*state);
    }
  }
  const bool retryable =
      result.outcome == Outcome::kTimeout || result.outcome == Outcome::kNetworkError ||
      (result.outcome == Outcome::kResponse && (result.status == 408 || result.status >= 500));
  const auto& delays = options_.upstream.retry_delays;
  if (retryable && static_cast<size_t>(call.attempts) <= delays.size()) {
    call.retry_timer = runtime_.SetTimer(runtime_.Now() + delays[call.attempts - 1],
                                         [this, call_id] { Dispatch(call_id); });
    return;
  }
  Finish(call_id, std::move(result));
}

void Upstream::Finish(uint64_t call_id, UpstreamResult result) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  result.attempts = call->attempts;
  const std::string connection_id = call->event.context.connection_id;
  if (auto rec = connections_.find(connection_id); rec != connections_.end()) {
    auto& queue = rec->second.queue;
    queue.erase(std::remove(queue.begin(), queue.end(), call_id), queue.end());
    rec->second.busy = false;
    // A refused connect leaves no connection behind: nothing further will be sent for it.
    if (call->event.name == "connect" && call->event.kind == EventKind::kSystem && !result.ok()) {
      rec->second.forget = true;
    }
  }
  if (call->done) call->done(result);
  Pump(connection_id);
}

std::string Upstream::ConnectBody(const protocol::auth::Claims& claims,
                                  const http::QueryPairs& query, const http::Headers& headers,
                                  const std::vector<std::string>& subprotocols) {
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  nlohmann::ordered_json c = nlohmann::ordered_json::object();
  for (const protocol::auth::ClaimValues& claim : claims.all) {
    nlohmann::ordered_json& values = c[claim.name];
    if (!values.is_array()) values = nlohmann::ordered_json::array();
    for (const std::string& v : claim.values) values.push_back(v);
  }
  body["claims"] = std::move(c);
  nlohmann::ordered_json q = nlohmann::ordered_json::object();
  for (const auto& [key, value] : query) {
    if (key == "access_token") continue;
    nlohmann::ordered_json& values = q[key];
    if (!values.is_array()) values = nlohmann::ordered_json::array();
    values.push_back(value);
  }
  body["query"] = std::move(q);
  static constexpr std::string_view kDropped[] = {
      "Authorization", "Connection", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
      "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Content-Length",
      "Transfer-Encoding"};
  nlohmann::ordered_json hs = nlohmann::ordered_json::object();
  for (const http::Header& header : headers) {
    const bool dropped = std::any_of(std::begin(kDropped), std::end(kDropped), [&](auto d) {
      return http::EqualsIgnoreCase(d, header.name);
    });
    if (dropped) continue;
    nlohmann::ordered_json& values = hs[header.name];
    if (!values.is_array()) values = nlohmann::ordered_json::array();
    values.push_back(header.value);
  }
  body["headers"] = std::move(hs);
  body["subprotocols"] = subprotocols;
  body["clientCertificates"] = nlohmann::ordered_json::array();
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Service::upstream() lives here so service.cc need not know the upstream's insides.
Upstream& Service::upstream() {
  if (!upstream_) {
    upstream_ = std::make_shared<Upstream>(runtime_, options_);
    upstream_->set_tracer(tracer_);
  }
  return *upstream_;
}

}  // namespace wpsim::service
