// Trace: every observable event of a run (virtual time, host, stream, kind, byte count, payload
// digest), folded into a 64-bit hash as it is recorded, and optionally kept in memory (bounded)
// for JSON Lines output and sequence diagrams. Same seed => same sequence => same hash.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wpsim::sim {

struct TraceEvent {
  int64_t time = 0;     // runtime nanoseconds
  std::string host;     // where it happened
  uint64_t stream = 0;  // stream id, 0 when not about a stream
  std::string kind;     // "net.send", "net.deliver", "ws.msg", "svc.deliver", ...
  uint64_t bytes = 0;
  uint64_t digest = 0;  // FNV-1a 64 of the payload, 0 when none
  std::string detail;   // short human text (peer, close code, ...); part of the hash
};

class Trace {
 public:
  // Events past `keep_max` still fold into the hash but are not stored.
  explicit Trace(size_t keep_max = 1'000'000) : keep_max_(keep_max) {}

  void Record(TraceEvent event);
  static uint64_t Digest(std::span<const uint8_t> payload);

  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  const std::vector<TraceEvent>& events() const { return events_; }
  bool truncated() const { return count_ > events_.size(); }
  void WriteJsonLines(std::ostream& out) const;

 private:
  size_t keep_max_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t count_ = 0;
  std::vector<TraceEvent> events_;
};

}  // namespace wpsim::sim
