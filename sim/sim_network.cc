#include "sim/sim_network.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "sim/sim_connection.h"
#include "sim/sim_runtime.h"

namespace wpsim::sim {
namespace {

bool ValidHostName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '/' || c == '>') return false;
  }
  return true;
}

}  // namespace

Result<uint64_t> ParseBandwidth(std::string_view text) {
  auto fail = [&](const std::string& why) -> Error {
    return MakeError("bad_bandwidth", "bandwidth '" + std::string(text) + "': " + why);
  };
  if (text == "unlimited" || text == "0") return uint64_t{0};
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (i == 0 || ec != std::errc() || end != text.data() + i) {
    return fail("expected a number followed by a unit, e.g. 10MB/s or 100Mbit/s");
  }
  struct Unit {
    std::string_view name;
    double bytes_per_s;
  };
  static constexpr Unit kUnits[] = {
      {"B/s", 1},           {"kB/s", 1e3},        {"MB/s", 1e6},        {"GB/s", 1e9},
      {"bit/s", 1.0 / 8},   {"kbit/s", 1e3 / 8},  {"Mbit/s", 1e6 / 8},  {"Gbit/s", 1e9 / 8},
      {"bps", 1.0 / 8},     {"kbps", 1e3 / 8},    {"Mbps", 1e6 / 8},    {"Gbps", 1e9 / 8},
  };
  const std::string_view unit = text.substr(i);
  for (const Unit& u : kUnits) {
    if (u.name == unit) {
      const double value = number * u.bytes_per_s;
      if (value < 1 || value > 1e15) return fail("out of range (1 B/s to 1 PB/s)");
      return static_cast<uint64_t>(value + 0.5);
    }
  }
  return fail("unknown unit '" + std::string(unit) +
              "' (expected B/s, kB/s, MB/s, GB/s, bit/s, kbit/s, Mbit/s, Gbit/s)");
}

SimNetwork::SimNetwork(NetworkOptions options)
    : options_(std::move(options)),
      scheduler_(SchedulerOptions{options_.perturb, options_.seed}) {
  WPSIM_ASSERT(options_.low_water_bytes <= options_.high_water_bytes);
  WPSIM_ASSERT(options_.receive_window_bytes > 0 && options_.segment_bytes_max > 0);
  scheduler_.SetTurnHook(&SimNetwork::TurnHook, this);
}

SimNetwork::~SimNetwork() {
  scheduler_.SetTurnHook(nullptr, nullptr);
  // User callbacks first (timers, posts, pending dial completions): their captures may own
  // streams, whose destructors still need the connections.
  scheduler_.Clear();
  dials_.clear();
  for (auto& [key, entry] : listeners_) entry.listener->Detach();
  listeners_.clear();
  scheduler_.Clear();
  for (auto& [id, connection] : connections_) connection->DetachAll();
  dirty_.clear();
  connections_.clear();
}

void SimNetwork::TurnHook(void* self) { static_cast<SimNetwork*>(self)->EndTurn(); }

void SimNetwork::EndTurn() {
  // Transmit() only schedules events; it never adds to dirty_.
  for (const auto& [connection, side] : dirty_) connection->Transmit(side);
  dirty_.clear();
  if (!garbage_.empty()) {
    for (uint64_t id : garbage_) connections_.erase(id);
    garbage_.clear();
  }
}

void SimNetwork::MarkDirty(SimConnection* connection, int side) {
  dirty_.emplace_back(connection, side);
}

void SimNetwork::MarkGarbage(uint64_t connection_id) { garbage_.push_back(connection_id); }

SimConnection* SimNetwork::FindConnection(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

Result<SimRuntime*> SimNetwork::AddHost(std::string_view name, HostOptions options) {
  if (!ValidHostName(name)) {
    return MakeError("bad_host", "invalid simulated host name '" + std::string(name) +
                                     "' (non-empty, no ':', '/', '>' or spaces)");
  }
  if (host_index_.count(name) != 0) {
    return MakeError("bad_host", "simulated host '" + std::string(name) + "' already exists");
  }
  const auto index = static_cast<uint32_t>(hosts_.size());
  hosts_.push_back(std::make_unique<SimRuntime>(this, index, std::string(name), options,
                                                scheduler_.NewLane()));
  host_index_.emplace(std::string(name), index);
  return hosts_.back().get();
}

SimRuntime* SimNetwork::FindHost(std::string_view name) {
  const std::optional<uint32_t> index = HostIndex(name);
  return index.has_value() ? hosts_[*index].get() : nullptr;
}

SimRuntime& SimNetwork::host(std::string_view name) {
  SimRuntime* h = FindHost(name);
  WPSIM_ASSERT(h != nullptr);
  return *h;
}

std::optional<uint32_t> SimNetwork::HostIndex(std::string_view name) const {
  auto it = host_index_.find(name);
  if (it == host_index_.end()) return std::nullopt;
  return it->second;
}

namespace {
Error UnknownHost(std::string_view name) {
  return MakeError("unknown_host", "no simulated host named '" + std::string(name) + "'");
}
}  // namespace

Status SimNetwork::SetClockSkew(std::string_view host, Nanos skew) {
  SimRuntime* h = FindHost(host);
  if (h == nullptr) return UnknownHost(host);
  h->set_clock_skew(skew);
  return Status::Ok();
}

SimLink& SimNetwork::Link(uint32_t from, uint32_t to) {
  auto& slot = links_[{from, to}];
  if (slot == nullptr) {
    slot = std::make_unique<SimLink>();
    slot->from = from;
    slot->to = to;
    slot->config = options_.default_link;
    slot->rng = Rng::Derive(options_.seed,
                            "net/link/" + hosts_[from]->name_ + ">" + hosts_[to]->name_);
  }
  return *slot;
}

Nanos SimNetwork::SampleDelay(SimLink& link) {
  Nanos delay = link.config.latency.SampleNanos(link.rng);
  if (link.config.loss > 0) {
    // Each loss costs one retransmission timeout, doubling like TCP's backoff.
    Nanos rto = link.config.retransmit_delay;
    for (int i = 0; i < options_.retransmissions_max && link.rng.Chance(link.config.loss); ++i) {
      delay += rto;
      rto *= 2;
      ++stats_.retransmissions;
    }
  }
  if (options_.perturb && options_.perturb_jitter_max > 0) {
    delay += static_cast<Nanos>(
        link.rng.Below(static_cast<uint64_t>(options_.perturb_jitter_max) + 1));
  }
  return delay;
}

void SimNetwork::Record(uint32_t host, uint64_t stream, std::string_view kind, uint64_t bytes,
                        uint64_t digest, std::string detail) {
  if (options_.trace == nullptr) return;
  options_.trace->Record(TraceEvent{scheduler_.now(), hosts_[host]->name_, stream,
                                    std::string(kind), bytes, digest, std::move(detail)});
}

Status SimNetwork::SetLink(std::string_view a, std::string_view b, const LinkConfig& config) {
  if (Status s = SetLinkOneWay(a, b, config); !s.ok()) return s;
  return SetLinkOneWay(b, a, config);
}

Status SimNetwork::SetLinkOneWay(std::string_view from, std::string_view to,
                                 const LinkConfig& config) {
  const std::optional<uint32_t> f = HostIndex(from);
  if (!f.has_value()) return UnknownHost(from);
  const std::optional<uint32_t> t = HostIndex(to);
  if (!t.has_value()) return UnknownHost(to);
  SimLink& link = Link(*f, *t);
  link.config = config;
  link.overridden = true;
  return Status::Ok();
}

void SimNetwork::SetDefaultLink(const LinkConfig& config) {
  options_.default_link = config;
  for (auto& [key, link] : links_) {
    if (!link->overridden) link->config = config;
  }
}

Status SimNetwork::Partition(std::string_view a, std::string_view b,
                             PartitionDirection direction) {
  const std::optional<uint32_t> ia = HostIndex(a);
  if (!ia.has_value()) return UnknownHost(a);
  const std::optional<uint32_t> ib = HostIndex(b);
  if (!ib.has_value()) return UnknownHost(b);
  std::string detail;
  if (direction != PartitionDirection::kBToA) Link(*ia, *ib).partitioned = true;
  if (direction != PartitionDirection::kAToB) Link(*ib, *ia).partitioned = true;
  switch (direction) {
    case PartitionDirection::kBothWays: detail = std::string(a) + "<>" + std::string(b); break;
    case PartitionDirection::kAToB: detail = std::string(a) + ">" + std::string(b); break;
    case PartitionDirection::kBToA: detail = std::string(b) + ">" + std::string(a); break;
  }
  Record(*ia, 0, "net.partition", 0, 0, std::move(detail));
  return Status::Ok();
}

Status SimNetwork::Heal(std::string_view a, std::string_view b) {
  const std::optional<uint32_t> ia = HostIndex(a);
  if (!ia.has_value()) return UnknownHost(a);
  const std::optional<uint32_t> ib = HostIndex(b);
  if (!ib.has_value()) return UnknownHost(b);
  Record(*ia, 0, "net.heal", 0, 0, std::string(a) + "<>" + std::string(b));
  HealLink(Link(*ia, *ib));
  HealLink(Link(*ib, *ia));
  return Status::Ok();
}

Status SimNetwork::Isolate(std::string_view host) {
  if (!HostIndex(host).has_value()) return UnknownHost(host);
  for (const auto& other : hosts_) {
    if (other->name_ != host) (void)Partition(host, other->name_);
  }
  return Status::Ok();
}

void SimNetwork::HealAll() {
  for (auto& [key, link] : links_) {
    if (link->partitioned) {
      Record(link->from, 0, "net.heal", 0, 0,
             hosts_[link->from]->name_ + ">" + hosts_[link->to]->name_);
      HealLink(*link);
    }
  }
}

void SimNetwork::HealLink(SimLink& link) {
  link.partitioned = false;
  std::vector<std::pair<uint64_t, uint8_t>> stalled = std::move(link.stalled);
  link.stalled.clear();
  for (const auto& [id, side] : stalled) {
    if (SimConnection* c = FindConnection(id)) c->Resume(side);
  }
}

bool SimNetwork::IsPartitioned(std::string_view from, std::string_view to) const {
  const std::optional<uint32_t> f = HostIndex(from);
  const std::optional<uint32_t> t = HostIndex(to);
  if (!f.has_value() || !t.has_value()) return false;
  auto it = links_.find({*f, *t});
  return it != links_.end() && it->second->partitioned;
}

Result<size_t> SimNetwork::ResetStreams(std::string_view a, std::string_view b) {
  const std::optional<uint32_t> ia = HostIndex(a);
  if (!ia.has_value()) return UnknownHost(a);
  const std::optional<uint32_t> ib = HostIndex(b);
  if (!ib.has_value()) return UnknownHost(b);
  size_t count = 0;
  for (auto& [id, c] : connections_) {
    const bool match = (c->host(0) == *ia && c->host(1) == *ib) ||
                       (c->host(0) == *ib && c->host(1) == *ia);
    if (match && !c->dead()) {
      c->ScheduleNetworkReset();
      ++count;
    }
  }
  return count;
}

NetworkStats SimNetwork::stats() const {
  NetworkStats s = stats_;
  s.connections_live = connections_.size();
  return s;
}

uint64_t SimNetwork::BytesInFlight() const {
  for (const uint64_t id : in_flight_touched_) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;  // destroyed: its destructor took its count back
    SimConnection& c = *it->second;
    c.in_flight_touched_ = false;
    const uint64_t n = c.InFlight(0) + c.InFlight(1);
    in_flight_total_ = in_flight_total_ - c.in_flight_counted_ + n;
    c.in_flight_counted_ = n;
  }
  in_flight_touched_.clear();
  return in_flight_total_;
}

// ---- Listen and dial -------------------------------------------------------------------------

Result<std::unique_ptr<Listener>> SimNetwork::Listen(uint32_t host, const Address& address,
                                                     AcceptFn on_accept) {
  SimRuntime& h = *hosts_[host];
  if (!address.host.empty() && address.host != h.name_ && address.host != "0.0.0.0") {
    return MakeError("bad_address", "host '" + h.name_ + "' cannot listen on '" +
                                        address.ToString() + "' (not its own name)");
  }
  WPSIM_ASSERT(static_cast<bool>(on_accept));
  uint16_t port = address.port;
  if (port == 0) {
    for (int tries = 0; tries < 65536; ++tries) {
      const uint16_t candidate = h.next_listen_port_;
      h.next_listen_port_ = candidate == 65535 ? 32768 : candidate + 1;
      if (listeners_.count({host, candidate}) == 0) {
        port = candidate;
        break;
      }
    }
    if (port == 0) return MakeError("address_in_use", "no free port on '" + h.name_ + "'");
  }
  if (listeners_.count({host, port}) != 0) {
    return MakeError("address_in_use",
                     h.name_ + ":" + std::to_string(port) + " is already listening");
  }
  auto listener = std::make_unique<SimListener>(this, host, Address{h.name_, port});
  listeners_.emplace(std::make_pair(host, port), ListenerEntry{std::move(on_accept), listener.get()});
  Record(host, 0, "net.listen", 0, 0, listener->address().ToString());
  return std::unique_ptr<Listener>(std::move(listener));
}

void SimNetwork::StopListening(uint32_t host, uint16_t port) { listeners_.erase({host, port}); }

void SimNetwork::Dial(uint32_t host, const Address& address, DialFn on_done) {
  WPSIM_ASSERT(static_cast<bool>(on_done));
  const uint64_t dial_id = next_dial_id_++;
  Record(host, 0, "net.dial", 0, 0, address.ToString());
  PendingDial dial;
  dial.client = host;
  dial.target = address;
  dial.on_done = std::move(on_done);
  dial.started = scheduler_.now();
  const std::optional<uint32_t> target = HostIndex(address.host);
  if (!target.has_value()) {
    dials_.emplace(dial_id, std::move(dial));
    scheduler_.ScheduleAt(scheduler_.now(), [this, dial_id, address] {
      FailDial(dial_id, MakeError("host_unreachable",
                                  "no simulated host named '" + address.host + "'"));
    });
    return;
  }
  dial.server = *target;
  SimRuntime& h = *hosts_[host];
  dial.local_port = h.next_ephemeral_port_;
  h.next_ephemeral_port_ = h.next_ephemeral_port_ == 65535 ? 49152 : h.next_ephemeral_port_ + 1;
  const Nanos arrival = scheduler_.now() + SampleDelay(Link(host, *target));
  dials_.emplace(dial_id, std::move(dial));
  scheduler_.ScheduleAt(arrival, [this, dial_id] { OnSynArrived(dial_id); });
}

void SimNetwork::OnSynArrived(uint64_t dial_id) {
  auto it = dials_.find(dial_id);
  if (it == dials_.end()) return;
  PendingDial& d = it->second;
  const Nanos now = scheduler_.now();
  SimLink& forward = Link(d.client, d.server);
  if (forward.partitioned) {
    // The SYN was lost: retry with exponential backoff until the connect timeout.
    const Nanos retry_at = now + d.retry_interval;
    d.retry_interval *= 2;
    const Nanos give_up_at = d.started + options_.connect_timeout;
    if (retry_at >= give_up_at) {
      scheduler_.ScheduleAt(give_up_at, [this, dial_id] {
        ++stats_.dials_timed_out;
        auto dit = dials_.find(dial_id);
        const std::string target = dit != dials_.end() ? dit->second.target.ToString() : "";
        FailDial(dial_id, MakeError("timeout", "connecting to " + target + " timed out after " +
                                                   std::to_string(options_.connect_timeout /
                                                                  kMillisecond) +
                                                   " ms"));
      });
    } else {
      scheduler_.ScheduleAt(retry_at + SampleDelay(forward),
                            [this, dial_id] { OnSynArrived(dial_id); });
    }
    return;
  }
  auto listener = listeners_.find({d.server, d.target.port});
  const Nanos back = now + SampleDelay(Link(d.server, d.client));
  if (listener == listeners_.end()) {
    ++stats_.dials_refused;
    scheduler_.ScheduleAt(back, [this, dial_id] {
      auto dit = dials_.find(dial_id);
      const std::string target = dit != dials_.end() ? dit->second.target.ToString() : "";
      FailDial(dial_id, MakeError("connection_refused", "connection refused by " + target));
    });
    return;
  }
  const uint64_t id = next_connection_id_++;
  const uint64_t client_stream = next_stream_id_++;
  const uint64_t server_stream = next_stream_id_++;
  auto owned = std::make_unique<SimConnection>(
      this, id, d.client, d.server, Address{hosts_[d.client]->name_, d.local_port},
      Address{hosts_[d.server]->name_, d.target.port}, client_stream, server_stream);
  SimConnection* connection = owned.get();
  connections_.emplace(id, std::move(owned));
  ++stats_.connections_opened;
  d.connection = id;
  // The server's first bytes cannot overtake its SYN-ACK.
  connection->SetEarliestArrival(1, back);
  scheduler_.ScheduleAt(back, [this, dial_id] { OnSynAckArrived(dial_id); });
  Record(d.server, server_stream, "net.accept", 0, 0, connection->address(0).ToString());
  AcceptFn on_accept = listener->second.on_accept;  // the callback may stop the listener
  on_accept(std::make_unique<SimStream>(connection, 1));
}

void SimNetwork::OnSynAckArrived(uint64_t dial_id) {
  auto node = dials_.extract(dial_id);
  if (node.empty()) return;
  PendingDial& d = node.mapped();
  SimConnection* connection = FindConnection(d.connection);
  WPSIM_ASSERT(connection != nullptr);  // the dialer's side is not released yet
  connection->Established();
  Record(d.client, connection->stream_id(0), "net.connect", 0, 0, d.target.ToString());
  d.on_done(std::unique_ptr<Stream>(std::make_unique<SimStream>(connection, 0)));
}

void SimNetwork::FailDial(uint64_t dial_id, Error error) {
  auto node = dials_.extract(dial_id);
  if (node.empty()) return;
  PendingDial& d = node.mapped();
  Record(d.client, 0, error.code == "connection_refused" ? "net.refused" : "net.dial_failed", 0,
         0, d.target.ToString());
  d.on_done(std::move(error));
}

}  // namespace wpsim::sim
