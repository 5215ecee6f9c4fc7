// ByteQueue: the bytes of one direction of a simulated stream, from Write() until the receiver
// consumed them. Small writes are copied into pooled fixed-size blocks (consecutive writes into
// one block form one chunk, so sixty-four 64-byte writes are one chunk); large writes get a
// buffer of their own; Write(SharedBytes) only takes a reference. An empty queue holds no block
// and no heap memory beyond its (shrunk) chunk ring, so idle streams cost almost nothing, and
// blocks are recycled through the BlockPool, so steady traffic allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/shared_bytes.h"
#include "sim/ring_queue.h"

namespace wpsim::sim {

struct ByteBlock {
  static constexpr size_t kDataBytes = 4096 - 16;
  uint32_t refs = 0;
  uint32_t used = 0;
  ByteBlock* next_free = nullptr;
  uint8_t data[kDataBytes];
};

class BlockPool {
 public:
  // Named maximum of idle blocks kept for reuse (4 MiB); more are freed.
  static constexpr size_t kFreeBlocksMax = 1024;

  BlockPool() = default;
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool();

  ByteBlock* Acquire();  // refs = 1, used = 0
  void Unref(ByteBlock* block) {
    if (--block->refs == 0) Recycle(block);
  }
  size_t blocks_live() const { return live_; }
  size_t blocks_free() const { return free_count_; }

 private:
  void Recycle(ByteBlock* block);
  ByteBlock* free_ = nullptr;
  size_t free_count_ = 0;
  size_t live_ = 0;
};

class ByteQueue {
 public:
  // Writes up to this size are copied into pooled blocks; larger ones get their own buffer.
  static constexpr size_t kCopyIntoBlockMax = 1024;

  // A contiguous run of bytes taken off the front; keeps its memory alive until destroyed.
  class Piece {
   public:
    Piece() = default;
    Piece(Piece&& other) noexcept;
    Piece& operator=(Piece&&) = delete;
    ~Piece();
    std::span<const uint8_t> span() const { return {data_, len_}; }
    size_t size() const { return len_; }

   private:
    friend class ByteQueue;
    const uint8_t* data_ = nullptr;
    size_t len_ = 0;
    ByteBlock* block_ = nullptr;
    BlockPool* pool_ = nullptr;
    SharedBytes shared_;
  };

  ByteQueue() = default;
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;
  ~ByteQueue();  // the queue must have been Clear()ed (it does not know the pool)

  void Append(BlockPool& pool, std::span<const uint8_t> data);
  void Append(BlockPool& pool, SharedBytes data);
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Takes up to `max` bytes (at least one byte when not empty) from the front chunk.
  Piece TakeFront(BlockPool& pool, uint64_t max);
  // Folds FNV-1a 64 over the first `n` bytes into `hash` (for trace digests).
  uint64_t Digest(uint64_t n, uint64_t hash) const;
  void Drop(BlockPool& pool, uint64_t n);
  void Clear(BlockPool& pool);

 private:
  struct Chunk {
    const uint8_t* data;
    uint32_t len;
    ByteBlock* block;   // non-null: a pooled block (one reference)
    SharedBytes shared;  // otherwise: a shared buffer
  };
  void ReleaseChunk(BlockPool& pool, Chunk& chunk);
  void AfterPop(BlockPool& pool);

  RingQueue<Chunk> chunks_;
  ByteBlock* tail_ = nullptr;  // the block small writes are copied into (one reference)
  uint64_t size_ = 0;
};

}  // namespace wpsim::sim
