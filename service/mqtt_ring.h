// A FIFO ring for an MQTT session's in-flight window and send queue.
//
// Theory of operation. A QoS 1 fan-out adds one entry per receiver and the PUBACK removes it,
// almost always the oldest, so the window is a ring: push_back and pop_front are O(1), and an
// acknowledgement out of order (allowed by the spec) erases in the middle by shifting the
// shorter side. The first kInline slots live inside the owning object (no allocation and no
// extra cache miss in the steady state of one message in flight; 0 for a ring that is
// usually empty); beyond that the slots move to the heap, doubling, up to the caller's named
// maximum (receive maximum or MqttLimits::queued_messages_max, both within kMaxCapacity),
// which the caller enforces before pushing. Every slot is a constructed T; a freed slot is
// reset to T{} so it releases what it held (shared frames). The header is 16 bytes, so the
// owner can keep its hot fields in few cache lines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "base/result.h"

namespace wpsim::service {

// The inline slots; for N == 0 an empty class that takes no room in the ring.
template <class T, size_t N>
struct MqttRingSlots {
  T* data() { return slots; }
  const T* data() const { return slots; }
  T slots[N] = {};
};
template <class T>
struct MqttRingSlots<T, 0> {
  T* data() { return nullptr; }
  const T* data() const { return nullptr; }
};

template <class T, size_t kInline>
class MqttRing {
  static_assert((kInline & (kInline - 1)) == 0, "kInline: 0 or a power of two");

 public:
  // 65,535 packet identifiers bound any MQTT window; indices fit in 16 bits.
  static constexpr size_t kMaxCapacity = 65536;

  MqttRing() = default;
  MqttRing(const MqttRing&) = delete;
  MqttRing& operator=(const MqttRing&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return heap_ ? size_t{mask_} + 1 : kInline; }

  T& operator[](size_t i) {
    WPSIM_ASSERT(i < size_);
    return slots()[(head_ + i) & mask_];
  }
  const T& operator[](size_t i) const {
    WPSIM_ASSERT(i < size_);
    return slots()[(head_ + i) & mask_];
  }
  T& front() { return (*this)[0]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T value) {
    if (size_ == capacity()) Grow();
    slots()[(head_ + size_) & mask_] = std::move(value);
    ++size_;
  }
  void pop_back() {
    WPSIM_ASSERT(size_ > 0);
    --size_;
    slots()[(head_ + size_) & mask_] = T{};
  }
  // Moves the oldest entry out.
  T pop_front() {
    WPSIM_ASSERT(size_ > 0);
    T value = std::exchange(slots()[head_], T{});
    head_ = static_cast<uint16_t>((head_ + 1) & mask_);
    --size_;
    return value;
  }
  // Removes entry i, keeping the order of the others.
  void erase(size_t i) {
    WPSIM_ASSERT(i < size_);
    T* s = slots();
    if (i < size_ - 1 - i) {
      for (size_t k = i; k > 0; --k) {
        s[(head_ + k) & mask_] = std::move(s[(head_ + k - 1) & mask_]);
      }
      s[head_] = T{};
      head_ = static_cast<uint16_t>((head_ + 1) & mask_);
    } else {
      for (size_t k = i; k + 1 < size_; ++k) {
        s[(head_ + k) & mask_] = std::move(s[(head_ + k + 1) & mask_]);
      }
      s[(head_ + size_ - 1) & mask_] = T{};
    }
    --size_;
  }
  void clear() {
    while (size_ > 0) pop_back();
    head_ = 0;
  }

 private:
  T* slots() { return heap_ ? heap_.get() : inline_.data(); }
  const T* slots() const { return heap_ ? heap_.get() : inline_.data(); }
  void Grow() {
    const size_t capacity = std::max<size_t>(this->capacity() * 2, 1);
    WPSIM_ASSERT(capacity <= kMaxCapacity);
    auto bigger = std::make_unique<T[]>(capacity);
    T* s = slots();
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move(s[(head_ + i) & mask_]);
    if (heap_ == nullptr) {
      for (size_t i = 0; i < kInline; ++i) inline_.data()[i] = T{};
    }
    heap_ = std::move(bigger);
    head_ = 0;
    mask_ = static_cast<uint16_t>(capacity - 1);
  }

  std::unique_ptr<T[]> heap_;
  uint32_t size_ = 0;
  uint16_t head_ = 0;
  uint16_t mask_ = static_cast<uint16_t>(kInline == 0 ? 0 : kInline - 1);
  [[no_unique_address]] MqttRingSlots<T, kInline> inline_;
};

}  // namespace wpsim::service
