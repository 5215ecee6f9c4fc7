// OutputQueue: bytes a session has produced and its owner has not yet written, in order.
//
// The queue is a sequence of chunks. A chunk is either a region of the queue's own arena
// (frames the session encoded itself; adjacent regions merge into one chunk) or a SharedBytes
// queued without copying (a pre-encoded fan-out frame shared by many sessions). Both the
// chunk ring and the arena keep their capacity when drained, so a connection in steady state
// queues frames without allocating. The owner writes from the front: Front()/FrontShared()
// and Consume(n) allow partial writes; CopyTo() gathers everything for one coalesced write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/shared_bytes.h"

namespace wpsim::protocol::websocket {

class OutputQueue {
 public:
  void Append(std::span<const uint8_t> bytes);
  // Appends a copy of `bytes` to the arena and returns it, writable until the next call on
  // this queue (a per-receiver patch of a shared frame, without allocating in steady state).
  std::span<uint8_t> AppendCopy(std::span<const uint8_t> bytes);
  void AppendShared(SharedBytes bytes);

  bool empty() const { return bytes_ == 0; }
  size_t bytes() const { return bytes_; }
  size_t chunks() const { return entries_.size() - head_; }
  // The unwritten bytes of the first chunk (empty when the queue is empty).
  std::span<const uint8_t> Front() const;
  // The first chunk's buffer when it is a whole, untouched shared buffer (so the owner can
  // hand the same SharedBytes on without copying); nullptr otherwise.
  const SharedBytes* FrontShared() const;
  // Marks n bytes from the front as written (may span chunks).
  void Consume(size_t n);
  // Appends every queued byte to `out` (the owner then Consume()s what it wrote).
  void CopyTo(std::vector<uint8_t>& out) const;
  void Clear();

 private:
  struct Entry {
    SharedBytes shared;  // empty: the chunk lives in arena_
    size_t offset = 0;   // into shared or arena_
    size_t length = 0;   // bytes left
  };
  const uint8_t* EntryData(const Entry& e) const {
    return (e.shared.size() != 0 ? e.shared.data() : arena_.data()) + e.offset;
  }
  void CompactArena();

  std::vector<Entry> entries_;  // live entries are [head_, size)
  size_t head_ = 0;
  std::vector<uint8_t> arena_;
  size_t arena_live_ = 0;  // arena bytes before this offset have been written
  size_t bytes_ = 0;
};

}  // namespace wpsim::protocol::websocket
