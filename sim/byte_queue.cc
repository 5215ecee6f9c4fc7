#include "sim/byte_queue.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace wpsim::sim {

BlockPool::~BlockPool() {
  WPSIM_ASSERT(live_ == 0);
  while (free_ != nullptr) delete std::exchange(free_, free_->next_free);
}

ByteBlock* BlockPool::Acquire() {
  ByteBlock* block;
  if (free_ != nullptr) {
    block = std::exchange(free_, free_->next_free);
    --free_count_;
  } else {
    block = new ByteBlock;
  }
  block->refs = 1;
  block->used = 0;
  block->next_free = nullptr;
  ++live_;
  return block;
}

void BlockPool::Recycle(ByteBlock* block) {
  --live_;
  if (free_count_ >= kFreeBlocksMax) {
    delete block;
    return;
  }
  block->next_free = free_;
  free_ = block;
  ++free_count_;
}

ByteQueue::Piece::Piece(Piece&& other) noexcept
    : data_(other.data_),
      len_(other.len_),
      block_(std::exchange(other.block_, nullptr)),
      pool_(other.pool_),
      shared_(std::move(other.shared_)) {
  other.len_ = 0;
}

ByteQueue::Piece::~Piece() {
  if (block_ != nullptr) pool_->Unref(block_);
}

ByteQueue::~ByteQueue() { WPSIM_ASSERT(tail_ == nullptr && chunks_.empty()); }

void ByteQueue::Append(BlockPool& pool, std::span<const uint8_t> data) {
  if (data.empty()) return;
  if (data.size() > kCopyIntoBlockMax) {
    Append(pool, SharedBytes::Copy(data));
    return;
  }
  if (tail_ == nullptr || ByteBlock::kDataBytes - tail_->used < data.size()) {
    if (tail_ != nullptr) pool.Unref(tail_);
    tail_ = pool.Acquire();
  }
  uint8_t* dst = tail_->data + tail_->used;
  std::memcpy(dst, data.data(), data.size());
  tail_->used += static_cast<uint32_t>(data.size());
  size_ += data.size();
  if (!chunks_.empty()) {
    Chunk& last = chunks_.back();
    if (last.block == tail_ && last.data + last.len == dst) {
      last.len += static_cast<uint32_t>(data.size());
      return;
    }
  }
  ++tail_->refs;
  chunks_.push_back(Chunk{dst, static_cast<uint32_t>(data.size()), tail_, SharedBytes()});
}

void ByteQueue::Append(BlockPool& pool, SharedBytes data) {
  (void)pool;
  const size_t total = data.size();
  if (total == 0) return;
  // Chunk lengths are 32-bit; a (rare) buffer above 1 GiB becomes several chunks.
  constexpr size_t kChunkMax = size_t{1} << 30;
  for (size_t offset = 0; offset < total; offset += kChunkMax) {
    const size_t len = std::min(kChunkMax, total - offset);
    chunks_.push_back(Chunk{data.data() + offset, static_cast<uint32_t>(len), nullptr, data});
  }
  size_ += total;
}

ByteQueue::Piece ByteQueue::TakeFront(BlockPool& pool, uint64_t max) {
  Piece piece;
  if (chunks_.empty() || max == 0) return piece;
  Chunk& front = chunks_.front();
  piece.pool_ = &pool;
  if (front.len <= max) {
    piece.data_ = front.data;
    piece.len_ = front.len;
    piece.block_ = front.block;  // the chunk's reference moves into the piece
    piece.shared_ = std::move(front.shared);
    front.block = nullptr;
    size_ -= front.len;
    chunks_.pop_front();
    AfterPop(pool);
  } else {
    piece.data_ = front.data;
    piece.len_ = static_cast<size_t>(max);
    if (front.block != nullptr) {
      ++front.block->refs;
      piece.block_ = front.block;
    } else {
      piece.shared_ = front.shared;
    }
    front.data += max;
    front.len -= static_cast<uint32_t>(max);
    size_ -= max;
  }
  return piece;
}

uint64_t ByteQueue::Digest(uint64_t n, uint64_t hash) const {
  for (uint32_t i = 0; i < chunks_.size() && n > 0; ++i) {
    const Chunk& c = chunks_[i];
    const uint64_t len = std::min<uint64_t>(c.len, n);
    for (uint64_t j = 0; j < len; ++j) {
      hash ^= c.data[j];
      hash *= 0x100000001b3ULL;
    }
    n -= len;
  }
  return hash;
}

void ByteQueue::Drop(BlockPool& pool, uint64_t n) {
  while (n > 0 && !chunks_.empty()) {
    Chunk& front = chunks_.front();
    if (front.len <= n) {
      n -= front.len;
      size_ -= front.len;
      ReleaseChunk(pool, front);
      chunks_.pop_front();
    } else {
      front.data += n;
      front.len -= static_cast<uint32_t>(n);
      size_ -= n;
      n = 0;
    }
  }
  AfterPop(pool);
}

void ByteQueue::Clear(BlockPool& pool) {
  while (!chunks_.empty()) {
    ReleaseChunk(pool, chunks_.front());
    chunks_.pop_front();
  }
  size_ = 0;
  AfterPop(pool);
}

void ByteQueue::ReleaseChunk(BlockPool& pool, Chunk& chunk) {
  if (chunk.block != nullptr) pool.Unref(chunk.block);
  chunk.block = nullptr;
  chunk.shared = SharedBytes();
}

void ByteQueue::AfterPop(BlockPool& pool) {
  if (!chunks_.empty()) return;
  // Drained: give the tail block back so an idle stream holds no buffer memory.
  if (tail_ != nullptr) pool.Unref(std::exchange(tail_, nullptr));
  chunks_.ShrinkIfEmpty(8);
}

}  // namespace wpsim::sim
