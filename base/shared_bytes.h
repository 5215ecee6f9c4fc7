// SharedBytes: an immutable, reference-counted byte buffer. A fan-out message is encoded once
// per wire format into one SharedBytes and handed to every subscriber's stream; copying a
// SharedBytes only bumps a (non-atomic: wpsim is single-threaded) counter, never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace wpsim {

class SharedBytes {
 public:
  SharedBytes() = default;
  static SharedBytes Copy(std::span<const uint8_t> data) {
    SharedBytes b = Allocate(data.size());
    if (!data.empty()) std::memcpy(b.mutable_data(), data.data(), data.size());
    return b;
  }
  static SharedBytes Copy(std::string_view s) {
    return Copy(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  // A buffer of `size` uninitialised bytes, to be filled through mutable_data() before sharing.
  static SharedBytes Allocate(size_t size) {
    void* mem = ::operator new(sizeof(Header) + size);
    auto* h = new (mem) Header{1, size};
    SharedBytes b;
    b.h_ = h;
    return b;
  }

  SharedBytes(const SharedBytes& o) : h_(o.h_) {
    if (h_) ++h_->refs;
  }
  SharedBytes(SharedBytes&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  SharedBytes& operator=(SharedBytes o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~SharedBytes() { Release(); }

  const uint8_t* data() const { return h_ ? reinterpret_cast<const uint8_t*>(h_ + 1) : nullptr; }
  // Only valid while this is the sole reference (i.e. while building the buffer).
  uint8_t* mutable_data() {
    WPSIM_ASSERT(h_ != nullptr && h_->refs == 1);
    return reinterpret_cast<uint8_t*>(h_ + 1);
  }
  size_t size() const { return h_ ? h_->size : 0; }
  bool empty() const { return size() == 0; }
  std::span<const uint8_t> span() const { return {data(), size()}; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data()), size()};
  }
  size_t use_count() const { return h_ ? h_->refs : 0; }

 private:
  struct alignas(std::max_align_t) Header {
    size_t refs;
    size_t size;
  };
  void Release() {
    if (h_ && --h_->refs == 0) {
      h_->~Header();
      ::operator delete(h_);
    }
    h_ = nullptr;
  }
  Header* h_ = nullptr;
};

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace wpsim
