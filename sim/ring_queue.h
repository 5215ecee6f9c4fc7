// RingQueue<T>: a FIFO on a power-of-two circular buffer. Unlike std::deque it allocates nothing
// while empty, which keeps an idle simulated stream small (the deque of libstdc++ allocates a
// 512-byte node up front).
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "base/result.h"

namespace wpsim::sim {

template <typename T>
class RingQueue {
 public:
  RingQueue() = default;
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() {
    clear();
    Free();
  }

  bool empty() const { return size_ == 0; }
  uint32_t size() const { return size_; }
  uint32_t capacity() const { return cap_; }

  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  T& back() { return buf_[(head_ + size_ - 1) & (cap_ - 1)]; }
  T& operator[](uint32_t i) { return buf_[(head_ + i) & (cap_ - 1)]; }
  const T& operator[](uint32_t i) const { return buf_[(head_ + i) & (cap_ - 1)]; }

  void push_back(T value) {
    if (size_ == cap_) Grow();
    ::new (static_cast<void*>(&buf_[(head_ + size_) & (cap_ - 1)])) T(std::move(value));
    ++size_;
  }
  void pop_front() {
    WPSIM_ASSERT(size_ > 0);
    buf_[head_].~T();
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
  }
  void clear() {
    while (size_ > 0) pop_front();
    head_ = 0;
  }
  // Gives the buffer back when empty and larger than `keep` slots (idle streams stay small).
  void ShrinkIfEmpty(uint32_t keep) {
    if (size_ == 0 && cap_ > keep) {
      Free();
      head_ = 0;
    }
  }

 private:
  void Grow() {
    const uint32_t new_cap = cap_ == 0 ? 4 : cap_ * 2;
    WPSIM_ASSERT(new_cap > cap_);
    T* fresh = std::allocator<T>().allocate(new_cap);
    for (uint32_t i = 0; i < size_; ++i) {
      T& old = buf_[(head_ + i) & (cap_ - 1)];
      ::new (static_cast<void*>(&fresh[i])) T(std::move(old));
      old.~T();
    }
    Free();
    buf_ = fresh;
    cap_ = new_cap;
    head_ = 0;
  }
  void Free() {
    if (buf_ != nullptr) std::allocator<T>().deallocate(buf_, cap_);
    buf_ = nullptr;
    cap_ = 0;
  }

  T* buf_ = nullptr;
  uint32_t head_ = 0;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

}  // namespace wpsim::sim
