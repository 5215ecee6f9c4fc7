#include "service/service.h"

#include <algorithm>

#include "base/encoding.h"
#include "protocol/auth/hmac.h"
#include "protocol/http/message.h"
#include "service/front.h"
#include "service/trace.h"
#include "service/upstream.h"

namespace wpsim::service {

namespace {
std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}
}  // namespace

Service::Service(sim::Runtime& runtime, ServiceOptions options)
    : runtime_(runtime),
      options_(std::move(options)),
      rng_(runtime.ForkRng("service")),
      flush_batch_(runtime) {
  WPSIM_ASSERT(!options_.access_keys.empty());
}

Service::~Service() {
  *alive_ = false;
  listener_.reset();
  // Connections first (they point at fronts and hubs), then fronts.
  hubs_.clear();
  dead_connections_.clear();
  fronts_.clear();
  dead_fronts_.clear();
  // Kept MQTT network connections ask stopping() in their destructor: they must go while
  // alive_ (declared after kept_, so destroyed before it) still exists.
  kept_.clear();
}

void Service::set_tracer(TraceObserver* tracer) {
  tracer_ = tracer;
  if (upstream_) upstream_->set_tracer(tracer);
}

Status Service::Listen(const sim::Address& address) {
  auto listener = runtime_.Listen(address, [this](std::unique_ptr<sim::Stream> stream) {
    Accept(wrap_accepted ? wrap_accepted(std::move(stream)) : std::move(stream));
  });
  if (!listener.ok()) return listener.error();
  listener_ = std::move(listener.value());
  return Status::Ok();
}

std::optional<sim::Address> Service::listen_address() const {
  if (!listener_) return std::nullopt;
  return listener_->address();
}

void Service::Accept(std::unique_ptr<sim::Stream> stream) {
  if (!stream) return;
  const ConnectionLimits& limits = options_.limits;
  const std::string peer = stream->PeerAddress().host;
  auto counted = fronts_per_peer_.find(peer);
  const size_t from_peer = counted == fronts_per_peer_.end() ? 0 : counted->second;
  const bool over_total = limits.connections_max > 0 && fronts_.size() >= limits.connections_max;
  const bool over_peer =
      limits.connections_per_peer_max > 0 && from_peer >= limits.connections_per_peer_max;
  if (over_total || over_peer) {
    // Refused before any per-connection state exists: one short answer, then close.
    ++refused_connections_;
    Log("connection from " + stream->PeerAddress().ToString() + " refused: " +
        (over_total ? "connections_max" : "connections_per_peer_max") + " reached");
    if (tracer_ != nullptr) {
      TraceEvent e;
      e.kind = TraceKind::kRefused;
      e.text = over_total ? "503: connections_max reached (--max-connections)"
                          : "503: connections_per_peer_max reached (--max-connections-per-peer)";
      tracer_->OnTrace(e);
    }
    protocol::http::Response r;
    r.status = 503;
    r.headers.Add("Content-Type", "text/plain; charset=utf-8");
    r.headers.Add("Retry-After", "1");
    r.headers.Add("Connection", "close");
    r.body = over_total ? "Service Unavailable: too many connections\n"
                        : "Service Unavailable: too many connections from this address\n";
    const std::string wire = protocol::http::SerializeResponse(r);
    stream->SetHandler(nullptr);
    stream->Write(AsBytes(wire));
    stream->Close();
    return;
  }
  if (counted == fronts_per_peer_.end()) {
    fronts_per_peer_.emplace(peer, 1);
  } else {
    ++counted->second;
  }
  const uint64_t id = next_front_id_++;
  fronts_.emplace(id, std::make_unique<Front>(*this, id, std::move(stream)));
}

Hub& Service::GetHub(std::string_view name) {
  std::string key = ToLower(name);
  auto it = hubs_.find(key);
  if (it == hubs_.end()) {
    it = hubs_.emplace(key, std::make_unique<Hub>(*this, key)).first;
    CheckHubLater(*it->second);  // a REST call may leave it empty
  }
  return *it->second;
}

void Service::CheckHubLater(const Hub& hub) {
  hubs_to_check_.insert(hub.name());
  ScheduleCleanup();
}

void Hub::Unpin() {
  --pins_;
  if (pins_ == 0) service_.CheckHubLater(*this);
}

Hub* Service::FindHub(std::string_view name) {
  auto it = hubs_.find(ToLower(name));
  return it == hubs_.end() ? nullptr : it->second.get();
}

std::string Service::NewConnectionId() {
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 8) {
    const uint64_t v = rng_.Next();
    for (int j = 0; j < 8; ++j) bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return HexEncode(bytes);
}

std::string Service::ReconnectionToken(std::string_view connection_id, uint64_t nonce) {
  std::string message(connection_id);
  message += '.';
  message += std::to_string(nonce);
  auto mac = protocol::auth::HmacSha256(options_.access_keys.front(), message);
  return Base64UrlEncode(mac) + "." + std::to_string(nonce);
}

std::unique_ptr<Front> Service::TakeFront(Front* front) {
  auto it = fronts_.find(front->id());
  if (it == fronts_.end()) return nullptr;
  if (auto peer = fronts_per_peer_.find(front->peer().host); peer != fronts_per_peer_.end()) {
    if (--peer->second == 0) fronts_per_peer_.erase(peer);
  }
  std::unique_ptr<Front> owned = std::move(it->second);
  fronts_.erase(it);
  return owned;
}

void Service::Bury(std::unique_ptr<Front> front) {
  if (!front) return;
  dead_fronts_.push_back(std::move(front));
  ScheduleCleanup();
}

void Service::Bury(std::unique_ptr<Subscriber> subscriber) {
  if (!subscriber) return;
  dead_connections_.push_back(std::move(subscriber));
  ScheduleCleanup();
}

void Service::ScheduleCleanup() {
  if (cleanup_posted_) return;
  cleanup_posted_ = true;
  runtime_.Post([this, alive = alive_] {
    if (!*alive) return;
    cleanup_posted_ = false;
    dead_connections_.clear();
    dead_fronts_.clear();
    // Hubs last: the connections just destroyed may have referred to theirs.
    for (const std::string& name : hubs_to_check_) {
      auto it = hubs_.find(name);
      if (it != hubs_.end() && it->second->Reclaimable()) hubs_.erase(it);
    }
    hubs_to_check_.clear();
  });
}

}  // namespace wpsim::service
