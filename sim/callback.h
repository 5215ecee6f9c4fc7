// Callback: a move-only `void()` callable with 48 bytes of inline storage. The scheduler stores
// one per pending event; the simulated network's own events capture a pointer or two and a seam
// std::function<void()> (32 bytes in libstdc++) fits as well, so scheduling an event does not
// allocate. Larger callables fall back to one heap allocation.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace wpsim::sim {

class Callback {
 public:
  static constexpr size_t kInlineBytes = 48;

  Callback() = default;
  template <typename F, typename D = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<D, Callback> &&
                                        std::is_invocable_r_v<void, D&>>>
  Callback(F&& f) {  // NOLINT(google-explicit-constructor)
    if constexpr (sizeof(D) <= kInlineBytes && alignof(D) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &InlineOps<D>::kOps;
    } else {
      D* heap = new D(std::forward<F>(f));
      std::memcpy(buf_, &heap, sizeof heap);
      ops_ = &HeapOps<D>::kOps;
    }
  }
  Callback(Callback&& other) noexcept { MoveFrom(other); }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      Reset();
      MoveFrom(other);
    }
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { Reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->invoke(buf_); }
  void Reset() {
    if (ops_ != nullptr) {
      if (ops_->destroy != nullptr) ops_->destroy(buf_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    void (*invoke)(void*);
    void (*relocate)(void* dst, void* src);  // nullptr: memcpy `size` bytes
    void (*destroy)(void*);                  // nullptr: nothing to do
    size_t size;
  };
  template <typename D>
  struct InlineOps {
    static void Invoke(void* p) { (*static_cast<D*>(p))(); }
    static void Relocate(void* dst, void* src) {
      ::new (dst) D(std::move(*static_cast<D*>(src)));
      static_cast<D*>(src)->~D();
    }
    static void Destroy(void* p) { static_cast<D*>(p)->~D(); }
    static constexpr Ops kOps{&Invoke, std::is_trivially_copyable_v<D> ? nullptr : &Relocate,
                              std::is_trivially_destructible_v<D> ? nullptr : &Destroy,
                              sizeof(D)};
  };
  template <typename D>
  struct HeapOps {
    static D* Get(void* p) {
      D* d;
      std::memcpy(&d, p, sizeof d);
      return d;
    }
    static void Invoke(void* p) { (*Get(p))(); }
    static void Destroy(void* p) { delete Get(p); }
    static constexpr Ops kOps{&Invoke, nullptr, &Destroy, sizeof(D*)};
  };
// GCC cannot see that `size` bytes of buf_ were initialised by the constructor.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  void MoveFrom(Callback& other) {
    if (other.ops_ == nullptr) return;
    if (other.ops_->relocate != nullptr) {
      other.ops_->relocate(buf_, other.buf_);
    } else {
      std::memcpy(buf_, other.buf_, other.ops_->size);
    }
    ops_ = std::exchange(other.ops_, nullptr);
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  alignas(std::max_align_t) unsigned char buf_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace wpsim::sim
