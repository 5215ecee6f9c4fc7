// ReliableOutbox: the per-connection replay buffer of json.reliable.webpubsub.azure.v1
// (PROTOCOL.md §6).
//
// Theory of operation: every data message sent to a reliable connection takes the next
// sequence id (1, 2, 3, … — never reset, not even by recovery) and is kept here until the
// client acknowledges it with a cumulative sequenceAck. On recovery the connection replays every
// kept message in order. The buffer is bounded (1000 messages or 16 MiB by default, PROTOCOL.md
// §13); once a push would exceed a bound the connection must be closed with 1008 and is no
// longer recoverable — Push reports that instead of growing.
//
// Storage is a ring over a vector that only grows to the bound, so steady-state pushes do not
// allocate. Entries hold a SharedBytes body (usually the shared part of a fan-out message), so
// keeping a message costs a reference, not a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/shared_bytes.h"

namespace wpsim::service {

struct ReliableLimits {
  size_t messages_max = 1000;
  size_t bytes_max = 16 * 1024 * 1024;
};

class ReliableOutbox {
 public:
  struct Entry {
    uint64_t sequence_id = 0;
    SharedBytes body;
    int64_t expires_at = 0;  // REST messageTtlSeconds: not replayed after this (0: never)
  };

  explicit ReliableOutbox(ReliableLimits limits = {}) : limits_(limits) {}

  // The id the next pushed message gets.
  uint64_t next_sequence_id() const { return next_sequence_id_; }
  // Assigns the next sequence id to `body` and keeps it. Returns 0 (and keeps nothing) when the
  // buffer is full: the caller closes the connection with 1008.
  uint64_t Push(SharedBytes body, int64_t expires_at = 0);
  // Cumulative ack: drops every kept message with sequence id <= `sequence_id`. Acks of ids
  // never sent are clamped to the last sent id. Returns the number of messages released.
  size_t Ack(uint64_t sequence_id);
  // For replay, in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < count_; ++i) fn(ring_[(head_ + i) % ring_.size()]);
  }
  size_t size() const { return count_; }
  size_t bytes() const { return bytes_; }
  uint64_t acked_through() const { return acked_through_; }
  // Test hook for the injected bug reset-sequence-on-recover.
  void ResetSequenceForBug() { next_sequence_id_ = 1; }

 private:
  ReliableLimits limits_;
  std::vector<Entry> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
  size_t bytes_ = 0;
  uint64_t next_sequence_id_ = 1;
  uint64_t acked_through_ = 0;
};

// The set of ackIds a logical connection has processed successfully (PROTOCOL.md §5.2). A
// repeat of one of them is answered with Duplicate and not executed again; failed requests are
// not recorded, so they can be retried. Kept as sorted runs of consecutive ids: SDK clients
// number their ackIds upwards from 1, so a connection's whole history is one run whatever its
// length (memory and time per request stay constant on a long-lived publisher). Bounded: past
// kRunsMax runs the oldest (smallest) run is forgotten, so ids with gaps between them cost at
// most kRunsMax * 16 bytes per connection.
class AckIdCache {
 public:
  static constexpr size_t kRunsMax = 4096;
  bool Contains(uint64_t ack_id) const;
  void Insert(uint64_t ack_id);
  size_t runs() const { return runs_.size(); }

 private:
  struct Run {
    uint64_t first;
    uint64_t last;  // inclusive
  };
  std::vector<Run> runs_;  // sorted, disjoint and not adjacent (adjacent runs are merged)
};

}  // namespace wpsim::service
