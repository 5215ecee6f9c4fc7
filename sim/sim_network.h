// SimNetwork: simulated hosts joined by TCP-like links, driven by one deterministic Scheduler.
//
// Theory of operation. The network owns the scheduler, the run seed, the hosts (each a
// SimRuntime, sim/sim_runtime.h, implementing the seam's Runtime) and every connection. A
// connection has two endpoints (side 0 dialed, side 1 accepted) and one pipe per direction. A
// pipe holds the bytes from Write() until the receiver consumed them and four cursors:
// written >= sent >= arrived >= consumed.
//  * Writes only append and mark the pipe dirty. When the current event (a "turn") ends, the
//    scheduler's turn hook flushes dirty pipes: bytes within the receive window
//    (sent - consumed <= receive_window_bytes) become segments of at most segment_bytes_max,
//    each with an arrival time = link queueing (bandwidth) + latency sample (+ retransmission
//    delays for "lost" segments, + jitter when perturbing), never earlier than the previous
//    segment's arrival: a stream is never reordered. Writes of one turn coalesce.
//  * A pipe has at most one arrival event pending (for its head segment). When it fires on a
//    partitioned link the pipe stalls; a heal re-times its segments from the heal time. A pipe
//    stalled longer than stall_timeout kills the connection: the sender sees kTimeout, the
//    receiver kReset.
//  * Arrived bytes are delivered to the receiver's handler unless it is paused or has none;
//    consumption reopens the window, so a slow reader throttles the writer, whose unsent bytes
//    (BufferedBytes) then pass the high-water mark: Writable() turns false until they fall to
//    the low-water mark and OnWritable follows.
//  * Every user-visible callback runs inside a scheduler event, never inside a call the user
//    made (seam.h). Connections are freed at a turn end once both user Stream objects are gone.
// Rules: single-threaded; no pointer-keyed or unordered containers (links are keyed by host
// index pairs, connections by sequential id); every random draw comes from a named child of
// the seed (links: "net/link/<from>><to>", hosts' ForkRng: "<host>/<name>").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "sim/byte_queue.h"
#include "sim/distribution.h"
#include "sim/scheduler.h"
#include "sim/seam.h"
#include "sim/trace.h"

namespace wpsim::sim {

class SimRuntime;
class SimConnection;
class SimListener;
struct SimLink;

// 2026-01-01T00:00:00Z: what UnixNow() reads at virtual time 0 (plus the host's skew).
inline constexpr Nanos kDefaultUnixEpoch = 1'767'225'600LL * kSecond;

// One direction of the path between two hosts.
struct LinkConfig {
  Distribution latency = Distribution::Constant(static_cast<double>(kMillisecond));  // one way
  uint64_t bandwidth_bytes_per_s = 0;  // 0: unlimited; otherwise segments queue behind each other
  double loss = 0.0;                   // probability that a segment needs a retransmission
  Nanos retransmit_delay = 200 * kMillisecond;  // first retransmission timeout; doubles
  // The receiving host's window for streams on this direction (slow receivers);
  // 0: NetworkOptions::receive_window_bytes.
  uint32_t receive_window_bytes = 0;
};

struct NetworkOptions {
  uint64_t seed = 1;
  bool perturb = false;                          // shuffle equal-time events, jitter delays
  Nanos perturb_jitter_max = 100 * kMicrosecond;  // extra uniform delay per segment when perturbing
  LinkConfig default_link;                       // for host pairs without SetLink()
  Nanos stall_timeout = 30 * kSecond;    // a pipe stalled this long resets its connection
  Nanos connect_timeout = 30 * kSecond;  // a dial whose SYN cannot get through fails after this
  uint32_t receive_window_bytes = 256 * 1024;
  uint32_t segment_bytes_max = 64 * 1024;
  size_t high_water_bytes = 256 * 1024;  // Writable() is false above this many unsent bytes
  size_t low_water_bytes = 64 * 1024;    // OnWritable when unsent bytes fall to this
  // Hard limit of one stream's unsent bytes; writing past it (ignoring Writable()) is a
  // programmer error and asserts.
  size_t stream_buffer_bytes_max = size_t{1} << 30;
  // Named maximum of retransmissions of one segment (each doubles the delay).
  int retransmissions_max = 6;
  Nanos unix_epoch = kDefaultUnixEpoch;
  Trace* trace = nullptr;  // not owned; nullptr: no tracing
};

// Parses a link bandwidth for LinkConfig::bandwidth_bytes_per_s: "unlimited" or "0" (0), or a
// number with a unit, decimal multiples: B/s, kB/s, MB/s, GB/s, or bit/s, kbit/s, Mbit/s,
// Gbit/s (also bps, kbps, Mbps, Gbps), e.g. "10MB/s", "100Mbit/s", "1.5Gbps". Error code
// "bad_bandwidth".
Result<uint64_t> ParseBandwidth(std::string_view text);

struct HostOptions {
  Nanos clock_skew = 0;  // added to this host's Now() and UnixNow()
};

enum class PartitionDirection {
  kBothWays,
  kAToB,  // traffic from a to b is blocked; b to a flows
  kBToA,
};

struct NetworkStats {
  uint64_t connections_opened = 0;
  uint64_t dials_refused = 0;
  uint64_t dials_timed_out = 0;
  uint64_t segments_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t deliveries = 0;  // OnData calls
  uint64_t bytes_delivered = 0;
  uint64_t retransmissions = 0;
  uint64_t resets = 0;
  uint64_t timeouts = 0;
  size_t connections_live = 0;
};

class SimNetwork {
 public:
  explicit SimNetwork(NetworkOptions options = {});
  // Streams and listeners still held by users become inert (writes fail, no callbacks).
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // Hosts. Names are non-empty, without ':' and unique ("bad_host" error otherwise). The
  // network owns the returned runtime; it lives as long as the network.
  Result<SimRuntime*> AddHost(std::string_view name, HostOptions options = {});
  SimRuntime* FindHost(std::string_view name);
  SimRuntime& host(std::string_view name);  // asserts that it exists
  size_t host_count() const { return hosts_.size(); }
  Status SetClockSkew(std::string_view host, Nanos skew);

  // Links and faults ("unknown_host" error for names not added). Changes apply to segments
  // sent afterwards.
  Status SetLink(std::string_view a, std::string_view b, const LinkConfig& config);  // both ways
  Status SetLinkOneWay(std::string_view from, std::string_view to, const LinkConfig& config);
  void SetDefaultLink(const LinkConfig& config);  // every pair without SetLink*()
  Status Partition(std::string_view a, std::string_view b,
                   PartitionDirection direction = PartitionDirection::kBothWays);
  Status Heal(std::string_view a, std::string_view b);  // both directions
  // Partitions `host` from every other host, both ways (HealAll() or Heal() undo it).
  Status Isolate(std::string_view host);
  void HealAll();
  bool IsPartitioned(std::string_view from, std::string_view to) const;
  // Resets every connection between a and b (either direction of dialing): both ends get
  // OnClosed(kReset) from a scheduler event. Returns how many connections were reset.
  Result<size_t> ResetStreams(std::string_view a, std::string_view b);
  void SetStallTimeout(Nanos timeout) { options_.stall_timeout = timeout; }

  // Driving. Single-threaded; may be pumped from a libuv loop with NextEventTime()/RunOne(),
  // or run to completion as fast as the CPU allows.
  Scheduler& scheduler() { return scheduler_; }
  Nanos now() const { return scheduler_.now(); }
  bool RunOne() { return scheduler_.Step(); }
  std::optional<Nanos> NextEventTime() { return scheduler_.NextEventTime(); }
  Status RunUntilIdle(uint64_t max_events = Scheduler::kDefaultEventBudget) {
    return scheduler_.RunUntilIdle(max_events);
  }
  Status RunUntil(Nanos time, uint64_t max_events = Scheduler::kDefaultEventBudget) {
    return scheduler_.RunUntil(time, max_events);
  }
  Status RunFor(Nanos duration, uint64_t max_events = Scheduler::kDefaultEventBudget) {
    return scheduler_.RunFor(duration, max_events);
  }

  uint64_t seed() const { return options_.seed; }
  Trace* trace() const { return options_.trace; }
  const NetworkOptions& options() const { return options_; }
  NetworkStats stats() const;
  // Bytes written on live connections that their receivers have not consumed yet (in a
  // partitioned link, a paused reader's window or on the wire), plus one per connection still
  // being established: 0 means no message is in flight anywhere.
  uint64_t BytesInFlight() const;

 private:
  friend class SimRuntime;
  friend class SimConnection;
  friend class SimListener;

  struct ListenerEntry {
    AcceptFn on_accept;
    SimListener* listener;
  };
  struct PendingDial {
    uint32_t client = 0;
    uint32_t server = 0;
    Address target;
    uint16_t local_port = 0;
    DialFn on_done;
    Nanos started = 0;
    Nanos retry_interval = kSecond;
    uint64_t connection = 0;
  };

  static void TurnHook(void* self);
  void EndTurn();
  std::optional<uint32_t> HostIndex(std::string_view name) const;
  SimLink& Link(uint32_t from, uint32_t to);
  // Latency of one segment on `link` (distribution + retransmissions + perturbation jitter).
  Nanos SampleDelay(SimLink& link);
  void Record(uint32_t host, uint64_t stream, std::string_view kind, uint64_t bytes = 0,
              uint64_t digest = 0, std::string detail = {});
  void HealLink(SimLink& link);

  // Runtime plumbing (called by SimRuntime).
  Result<std::unique_ptr<Listener>> Listen(uint32_t host, const Address& address,
                                           AcceptFn on_accept);
  void StopListening(uint32_t host, uint16_t port);
  void Dial(uint32_t host, const Address& address, DialFn on_done);
  void OnSynArrived(uint64_t dial_id);
  void OnSynAckArrived(uint64_t dial_id);
  void FailDial(uint64_t dial_id, Error error);

  // Connection plumbing (called by SimConnection).
  void MarkDirty(SimConnection* connection, int side);
  void MarkGarbage(uint64_t connection_id);
  void TouchInFlight(uint64_t connection_id) { in_flight_touched_.push_back(connection_id); }
  SimConnection* FindConnection(uint64_t id);

  NetworkOptions options_;
  Scheduler scheduler_;
  BlockPool pool_;
  NetworkStats stats_;
  std::vector<std::unique_ptr<SimRuntime>> hosts_;
  std::map<std::string, uint32_t, std::less<>> host_index_;
  std::map<std::pair<uint32_t, uint32_t>, std::unique_ptr<SimLink>> links_;
  std::map<std::pair<uint32_t, uint16_t>, ListenerEntry> listeners_;
  std::map<uint64_t, PendingDial> dials_;
  std::map<uint64_t, std::unique_ptr<SimConnection>> connections_;
  std::vector<std::pair<SimConnection*, int>> dirty_;
  std::vector<uint64_t> garbage_;
  // BytesInFlight() is kept incrementally: a connection whose counted state may have changed
  // during an event lists itself here (SimConnection::Touch), and BytesInFlight() recounts only
  // those. The runner asks after every event; scanning every connection made a 10,000-subscriber
  // run quadratic (74 % of its time).
  mutable std::vector<uint64_t> in_flight_touched_;
  mutable uint64_t in_flight_total_ = 0;
  uint64_t next_dial_id_ = 1;
  uint64_t next_connection_id_ = 1;
  uint64_t next_stream_id_ = 1;
};

}  // namespace wpsim::sim
