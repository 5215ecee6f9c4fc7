#include "service/reliable_outbox.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace wpsim::service {

uint64_t ReliableOutbox::Push(SharedBytes body, int64_t expires_at) {
  if (count_ + 1 > limits_.messages_max || bytes_ + body.size() > limits_.bytes_max) return 0;
  if (count_ == ring_.size()) {
    // Grow (bounded by messages_max): re-linearise into a larger vector.
    std::vector<Entry> grown;
    grown.reserve(std::min(std::max<size_t>(16, ring_.size() * 2), limits_.messages_max));
    for (size_t i = 0; i < count_; ++i) grown.push_back(std::move(ring_[(head_ + i) % ring_.size()]));
    grown.resize(grown.capacity());
    ring_ = std::move(grown);
    head_ = 0;
  }
  const uint64_t id = next_sequence_id_++;
  bytes_ += body.size();
  ring_[(head_ + count_) % ring_.size()] = Entry{id, std::move(body), expires_at};
  ++count_;
  return id;
}

size_t ReliableOutbox::Ack(uint64_t sequence_id) {
  sequence_id = std::min(sequence_id, next_sequence_id_ - 1);
  if (sequence_id > acked_through_) acked_through_ = sequence_id;
  size_t released = 0;
  while (count_ > 0 && ring_[head_].sequence_id <= sequence_id) {
    bytes_ -= ring_[head_].body.size();
    ring_[head_].body = SharedBytes();
    head_ = (head_ + 1) % ring_.size();
    --count_;
    ++released;
  }
  return released;
}

bool AckIdCache::Contains(uint64_t ack_id) const {
  // The first run that ends at or after ack_id.
  auto it = std::lower_bound(runs_.begin(), runs_.end(), ack_id,
                             [](const Run& r, uint64_t id) { return r.last < id; });
  return it != runs_.end() && it->first <= ack_id;
}

void AckIdCache::Insert(uint64_t ack_id) {
  // The common case: the next id of the newest run.
  if (!runs_.empty() && runs_.back().last != UINT64_MAX && runs_.back().last + 1 == ack_id) {
    runs_.back().last = ack_id;
    return;
  }
  auto it = std::lower_bound(runs_.begin(), runs_.end(), ack_id,
                             [](const Run& r, uint64_t id) { return r.last < id; });
  if (it != runs_.end() && it->first <= ack_id) return;  // already there
  const bool joins_next = it != runs_.end() && it->first == ack_id + 1;
  const bool joins_previous =
      it != runs_.begin() && std::prev(it)->last != UINT64_MAX && std::prev(it)->last + 1 == ack_id;
  if (joins_previous && joins_next) {
    std::prev(it)->last = it->last;
    runs_.erase(it);
  } else if (joins_previous) {
    std::prev(it)->last = ack_id;
  } else if (joins_next) {
    it->first = ack_id;
  } else {
    runs_.insert(it, Run{ack_id, ack_id});
    if (runs_.size() > kRunsMax) runs_.erase(runs_.begin());
  }
}

}  // namespace wpsim::service
