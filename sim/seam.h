// The runtime seam: the only window service/ and clients/ have onto time, randomness and the
// network. Two runtimes implement it: SimRuntime (virtual clock, simulated network, seeded PRNG;
// sim/sim_runtime.h, sim/sim_network.h) and UvRuntime (libuv TCP, real time;
// sim/uv/uv_runtime.h). TLS (sim/tls/tls.h) is a Stream wrapping a Stream, on either runtime.
//
// Contracts every implementation keeps (tests in tests/sim check them on both runtimes):
//  * Single-threaded. Every callback runs on the runtime's loop, never from inside a call the
//    user made on a seam object (Write/Close/Reset/SetTimer/Dial never call back synchronously).
//  * Timers with equal deadlines fire in the order they were set.
//  * Stream writes never fail partially: a stream buffers what it is given (bounded only by the
//    caller honouring Writable()); bytes arrive at the peer in order, exactly once, or the stream
//    dies and OnClosed reports why.
//  * After the user calls Close() or Reset() or destroys a Stream, its handler gets no more calls.
//  * Destroying a Stream after Close() does not abort it: the runtime keeps what it needs and
//    still delivers every queued byte, then closes (so owners may free a stream right after
//    Close()). Destroying a stream that was neither closed nor reset resets it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/shared_bytes.h"
#include "sim/rng.h"

namespace wpsim::sim {

// Nanoseconds of the runtime's time. Monotonic time starts at 0 in simulation.
using Nanos = int64_t;
inline constexpr Nanos kMicrosecond = 1'000;
inline constexpr Nanos kMillisecond = 1'000'000;
inline constexpr Nanos kSecond = 1'000'000'000;

// "host:port". In simulation the host is a simulated host's name; on UvRuntime an IP literal or
// "localhost".
struct Address {
  std::string host;
  uint16_t port = 0;

  // "host:port"; IPv6 literals are bracketed ("[::1]:443").
  std::string ToString() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  static Result<Address> Parse(std::string_view text);
  bool operator==(const Address&) const = default;
};

enum class CloseReason {
  kReset,    // the peer reset the stream, or it was reset by the network (partition timeout)
  kTimeout,  // no progress for longer than the TCP-like timeout
  kError,    // an I/O or TLS error; the detail says which
};
std::string_view CloseReasonName(CloseReason reason);

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Bytes arrived, in order. The span is valid only during the call.
  virtual void OnData(std::span<const uint8_t> data) = 0;
  // The peer shut down its writing side (EOF). The stream stays writable; call Close() when done.
  virtual void OnEnd() = 0;
  // Buffered outgoing bytes fell to the low-water mark after Writable() had returned false.
  virtual void OnWritable() {}
  // The stream died (not after a local Close/Reset). No calls follow.
  virtual void OnClosed(CloseReason reason, std::string_view detail) = 0;
};

// An ordered, reliable byte stream (a TCP connection, possibly wrapped in TLS).
class Stream {
 public:
  virtual ~Stream() = default;  // See the contracts above: Close() then destroy is graceful.

  virtual void SetHandler(StreamHandler* handler) = 0;
  // Queues bytes for sending; returns false (and queues nothing) if the stream is closing/dead.
  virtual bool Write(std::span<const uint8_t> data) = 0;
  // Queues a shared buffer without copying it (fan-out path).
  virtual bool Write(SharedBytes data) = 0;
  // False from the moment buffered bytes cross the high-water mark until OnWritable (they fell
  // to the low-water mark), and false once the stream is closing or dead.
  virtual bool Writable() const = 0;
  virtual size_t BufferedBytes() const = 0;
  // Half-close: send EOF after the queued bytes. Reading continues.
  virtual void Shutdown() = 0;
  // Graceful close: flush queued bytes, then close both directions.
  virtual void Close() = 0;
  // Abort now: queued bytes are dropped and the peer sees kReset.
  virtual void Reset() = 0;
  // While paused, no OnData is delivered; the receive window fills and the peer's writes back up.
  virtual void SetReadPaused(bool paused) = 0;
  virtual const Address& LocalAddress() const = 0;
  virtual const Address& PeerAddress() const = 0;
  // Unique per runtime (for logs and traces).
  virtual uint64_t Id() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;  // Destroying stops listening; accepted streams live on.
  virtual const Address& address() const = 0;  // with the real port when 0 was asked for
};

using TimerId = uint64_t;  // 0 is never a valid id
using AcceptFn = std::function<void(std::unique_ptr<Stream>)>;
using DialFn = std::function<void(Result<std::unique_ptr<Stream>>)>;

class Trace;

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Monotonic time of this host (includes its clock skew in simulation).
  virtual Nanos Now() const = 0;
  // Wall-clock time as nanoseconds since the Unix epoch (token expiry, CloudEvents ce-time).
  virtual Nanos UnixNow() const = 0;
  // Calls fn once at or after `deadline` (in Now() time). Equal deadlines fire in set order.
  virtual TimerId SetTimer(Nanos deadline, std::function<void()> fn) = 0;
  // Cancelling an expired or unknown id is a no-op.
  virtual void CancelTimer(TimerId id) = 0;
  // Runs fn on the loop soon after the current callback returns, before time advances.
  virtual void Post(std::function<void()> fn) = 0;
  // An independent deterministic random stream derived from the run seed and `name`: adding a
  // stream with another name never shifts this one's draws.
  virtual Rng ForkRng(std::string_view name) = 0;
  virtual Result<std::unique_ptr<Listener>> Listen(const Address& address, AcceptFn on_accept) = 0;
  virtual void Dial(const Address& address, DialFn on_done) = 0;
  // This host's name ("service", "client-3", ...; "local" on UvRuntime).
  virtual std::string_view HostName() const = 0;
  // The run's trace, or nullptr when tracing is off.
  virtual Trace* trace() = 0;
};

}  // namespace wpsim::sim
