#include "protocol/websocket/output_queue.h"

#include <algorithm>
#include <cstring>

#include "base/result.h"

namespace wpsim::protocol::websocket {
namespace {
// The arena is compacted (live bytes moved to its start) only when at least this many dead
// bytes precede them, so compaction cost stays amortised over many writes.
constexpr size_t kArenaCompactBytesMin = 64 * 1024;
// Drained entries at the front of the ring are dropped in bulk once this many accumulate.
constexpr size_t kEntryCompactMin = 256;
}  // namespace

void OutputQueue::Append(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  CompactArena();
  if (head_ < entries_.size()) {
    Entry& last = entries_.back();
    if (last.shared.size() == 0 && last.offset + last.length == arena_.size()) {
      arena_.insert(arena_.end(), bytes.begin(), bytes.end());
      last.length += bytes.size();
      bytes_ += bytes.size();
      return;
    }
  }
  Entry e;
  e.offset = arena_.size();
  e.length = bytes.size();
  arena_.insert(arena_.end(), bytes.begin(), bytes.end());
  entries_.push_back(std::move(e));
  bytes_ += bytes.size();
}

std::span<uint8_t> OutputQueue::AppendCopy(std::span<const uint8_t> bytes) {
  Append(bytes);
  if (bytes.empty()) return {};
  return {arena_.data() + arena_.size() - bytes.size(), bytes.size()};
}

void OutputQueue::AppendShared(SharedBytes bytes) {
  if (bytes.size() == 0) return;
  Entry e;
  e.length = bytes.size();
  e.shared = std::move(bytes);
  bytes_ += e.length;
  entries_.push_back(std::move(e));
}

std::span<const uint8_t> OutputQueue::Front() const {
  if (head_ == entries_.size()) return {};
  const Entry& e = entries_[head_];
  return {EntryData(e), e.length};
}

const SharedBytes* OutputQueue::FrontShared() const {
  if (head_ == entries_.size()) return nullptr;
  const Entry& e = entries_[head_];
  if (e.shared.size() == 0 || e.offset != 0 || e.length != e.shared.size()) return nullptr;
  return &e.shared;
}

void OutputQueue::Consume(size_t n) {
  WPSIM_ASSERT(n <= bytes_);
  bytes_ -= n;
  while (n > 0) {
    Entry& e = entries_[head_];
    const size_t take = std::min(n, e.length);
    e.offset += take;
    e.length -= take;
    if (e.shared.size() == 0) arena_live_ = e.offset;
    n -= take;
    if (e.length == 0) {
      e = Entry{};  // drops the reference to a shared frame now, not at the next compaction
      ++head_;
    }
  }
  if (head_ == entries_.size()) {
    entries_.clear();  // keeps capacity
    arena_.clear();
    arena_live_ = 0;
    head_ = 0;
  } else if (head_ >= kEntryCompactMin && head_ * 2 >= entries_.size()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
}

void OutputQueue::CompactArena() {
  const size_t dead = arena_live_;
  if (dead < kArenaCompactBytesMin || dead * 2 < arena_.size()) return;
  arena_.erase(arena_.begin(), arena_.begin() + static_cast<ptrdiff_t>(dead));
  for (size_t i = head_; i < entries_.size(); ++i) {
    if (entries_[i].shared.size() == 0) entries_[i].offset -= dead;
  }
  arena_live_ = 0;
}

void OutputQueue::CopyTo(std::vector<uint8_t>& out) const {
  for (size_t i = head_; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const uint8_t* p = EntryData(e);
    out.insert(out.end(), p, p + e.length);
  }
}

void OutputQueue::Clear() {
  entries_.clear();
  arena_.clear();
  arena_live_ = 0;
  head_ = 0;
  bytes_ = 0;
}

}  // namespace wpsim::protocol::websocket
