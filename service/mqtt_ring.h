// A FIFO ring for an MQTT session's in-flight window and send queue.
//
// Theory of operation. A QoS 1 fan-out adds one entry per receiver and the PUBACK removes it,
// almost always the oldest, so the window is a ring: push_back and pop_front are O(1), and an
// acknowledgement out of order (allowed by the spec) erases in the middle by shifting the
// shorter side. The first kInline slots live inside the owning object (no allocation and no
// extra cache miss in the steady state of one or two messages in flight); beyond that the
// slots move to the heap, doubling, up to the caller's named maximum (receive maximum or
// MqttLimits::queued_messages_max), which the caller enforces before pushing. Every slot is a
// constructed T; a freed slot is reset to T{} so it releases what it held (shared frames).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "base/result.h"

namespace wpsim::service {

template <class T, size_t kInline>
class MqttRing {
  static_assert(kInline > 0 && (kInline & (kInline - 1)) == 0, "kInline: a power of two");

 public:
  MqttRing() = default;
  MqttRing(const MqttRing&) = delete;
  MqttRing& operator=(const MqttRing&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return size_t{mask_} + 1; }

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
    head_ = (head_ + 1) & mask_;
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
      head_ = (head_ + 1) & mask_;
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
    const size_t capacity = (size_t{mask_} + 1) * 2;
    WPSIM_ASSERT(capacity <= (size_t{1} << 31));
    auto bigger = std::make_unique<T[]>(capacity);
    T* s = slots();
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move(s[(head_ + i) & mask_]);
    if (heap_ == nullptr) {
      for (T& slot : inline_) slot = T{};
    }
    heap_ = std::move(bigger);
    head_ = 0;
    mask_ = static_cast<uint32_t>(capacity - 1);
  }

  uint32_t head_ = 0;
  uint32_t size_ = 0;
  uint32_t mask_ = kInline - 1;
  std::unique_ptr<T[]> heap_;
  std::array<T, kInline> inline_{};
};

}  // namespace wpsim::service
