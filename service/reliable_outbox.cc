#include "service/reliable_outbox.h"

#include <algorithm>

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
  return std::binary_search(ids_.begin(), ids_.end(), ack_id);
}

void AckIdCache::Insert(uint64_t ack_id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), ack_id);
  if (it != ids_.end() && *it == ack_id) return;
  ids_.insert(it, ack_id);
  if (ids_.size() > kAckIdsMax) ids_.erase(ids_.begin());
}

}  // namespace wpsim::service
