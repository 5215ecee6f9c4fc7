// UvRuntime: the runtime seam (sim/seam.h) on libuv — real TCP sockets, real time.
//
// Theory of operation. Everything runs on one uv_loop_t (owned, or borrowed from the caller).
// One libuv turn is: timers → pending I/O callbacks → idle → prepare → poll (reads, accepts,
// connects) → check → closing handles. UvRuntime keeps its own timer heap ordered by
// (deadline, set order) behind a single uv_timer_t, so equal deadlines fire in set order. Work
// handed to Post() and every stream written to during the turn are collected and handled once,
// in the check phase: first the posted functions run, then each dirty stream flushes ALL the
// bytes queued for it during the turn in one gather write (uv_try_write with several buffers,
// falling back to uv_write for what the kernel did not take). An idle handle is active while such
// work is waiting, so poll never blocks with work queued.
//
// Lifetimes. A user-facing UvStream points at an internal connection record that owns the
// uv_tcp_t; that record is freed only in the handle's close callback, so a handler may destroy
// its stream from inside any callback. Destroying an open stream resets it (RST); destroying a
// stream after Close() lets the graceful close finish (flush, FIN, wait for the peer's FIN for
// at most kUvCloseLingerNanos). Destroying the UvRuntime closes every handle it made and runs
// the loop until their close callbacks have run; a borrowed loop can then be uv_loop_close()d.
// Destroy the UvRuntime outside the loop's callbacks (not from inside Run()).
//
// Process-wide effect: the first UvRuntime sets SIGPIPE to "ignore" if it still has its default
// action, so writing to a socket the peer closed fails with EPIPE instead of killing the process.
//
// This is the only file set in wpsim (with sim/tls) that reads the real clock: Now() from
// uv_hrtime(), UnixNow() from the wall clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sim/seam.h"

struct uv_loop_s;  // from <uv.h>; kept out of this header so users need not include libuv

namespace wpsim::sim {

namespace uv_internal {
class Impl;
}

// A stream stops being Writable() above this many buffered outgoing bytes...
inline constexpr size_t kUvStreamHighWaterBytes = size_t{1} << 20;
// ...and reports OnWritable() once they drain to this many.
inline constexpr size_t kUvStreamLowWaterBytes = size_t{256} << 10;
// After Close() has sent FIN, how long to keep reading (and discarding) while waiting for the
// peer's FIN before closing the socket anyway. Closing with unread data makes the kernel send
// RST, which can make the peer see a reset instead of a clean end.
inline constexpr Nanos kUvCloseLingerNanos = 5 * kSecond;
inline constexpr int kUvListenBacklog = 511;

struct UvRuntimeOptions {
  // ForkRng(name) derives from this. Tests pass a fixed seed; production code that wants
  // unpredictable randomness (TLS keys on a real network!) passes NondeterministicSeed().
  uint64_t seed = 0;
  std::string host_name = "local";
  Trace* trace = nullptr;  // returned by trace(); not owned
  size_t high_water_bytes = kUvStreamHighWaterBytes;
  size_t low_water_bytes = kUvStreamLowWaterBytes;
  // false: every Write() becomes its own write system call (the benchmark baseline). Never
  // turn this off outside benchmarks.
  bool coalesce_writes = true;
};

// Counters for tests and benchmarks.
struct UvStats {
  uint64_t turns = 0;            // loop turns that reached the check phase
  uint64_t flushes = 0;          // gather writes handed to the kernel (uv_try_write calls)
  uint64_t flushed_buffers = 0;  // uv_buf_t entries in those gather writes
  uint64_t uv_write_calls = 0;   // flushes the kernel did not take at once, finished by uv_write
  uint64_t bytes_written = 0;    // accepted by the kernel
  uint64_t bytes_read = 0;
  uint64_t streams_opened = 0;
};

// 64 unpredictable bits from the operating system (for run seeds). Its name says what it is:
// a run seeded from it cannot be reproduced unless the seed is printed.
uint64_t NondeterministicSeed();

class UvRuntime final : public Runtime {
 public:
  // loop == nullptr: the runtime creates and owns its loop. Otherwise it borrows `loop`, which
  // must outlive the runtime.
  explicit UvRuntime(UvRuntimeOptions options = {}, uv_loop_s* loop = nullptr);
  ~UvRuntime() override;
  UvRuntime(const UvRuntime&) = delete;
  UvRuntime& operator=(const UvRuntime&) = delete;

  // sim::Runtime
  Nanos Now() const override;
  Nanos UnixNow() const override;
  TimerId SetTimer(Nanos deadline, std::function<void()> fn) override;
  void CancelTimer(TimerId id) override;
  void Post(std::function<void()> fn) override;
  Rng ForkRng(std::string_view name) override;
  // host: an IPv4/IPv6 literal or "localhost" (127.0.0.1). Port 0 picks an ephemeral port,
  // reported by Listener::address().
  Result<std::unique_ptr<Listener>> Listen(const Address& address, AcceptFn on_accept) override;
  // host: an IP literal, "localhost", or a DNS name (resolved asynchronously). Errors:
  // "connection_refused", "resolve_failed", "bad_address", "dial_failed". on_done is not called
  // if the runtime is destroyed first.
  void Dial(const Address& address, DialFn on_done) override;
  std::string_view HostName() const override;
  Trace* trace() override;

  uv_loop_s* loop() const;
  // Runs the loop until Stop() or until nothing keeps it alive (no timers, no reading streams,
  // no listeners, no posted work). Signal handlers alone do not keep it alive.
  void Run();
  // Runs the loop for `duration` of real time (or until Stop()).
  void RunFor(Nanos duration);
  // Runs until done() returns true (checked once per loop turn) or `timeout` passes or Stop().
  // Returns done().
  bool RunUntil(const std::function<bool()>& done, Nanos timeout);
  // Makes the running Run/RunFor/RunUntil return after the current turn.
  void Stop();

  // Calls fn(signum) on the loop when the process receives `signum`.
  Status OnSignal(int signum, std::function<void(int)> fn);
  // OnSignal for SIGINT and SIGTERM (for `wpsim serve`: stop gracefully on Ctrl-C).
  Status OnTerminationSignal(std::function<void(int)> fn);

  const UvStats& stats() const;
  // Connections whose socket is not closed yet (including ones finishing a graceful close).
  size_t open_connections() const;

 private:
  std::unique_ptr<uv_internal::Impl> impl_;
};

}  // namespace wpsim::sim
