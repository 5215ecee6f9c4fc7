// Internal to sim/uv: the state behind UvRuntime and its streams. See uv_runtime.h for the
// theory of operation.
//
// Connection states (UvConn::State):
//   kConnecting --connect ok--> kOpen --Close()--> kClosing --FIN sent, peer FIN/linger--> kClosed
//   any state --Reset()/error/stream destroyed while open--> kClosed
// kClosed means uv_close() has been called; the record is freed in the close callback.
// The handler is called only in kOpen, never from inside a call the user made.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/uv/uv_runtime.h"

namespace wpsim::sim::uv_internal {

class Impl;
class UvConn;
class UvStream;
class UvListener;

// SharedBytes smaller than this are copied into the append buffer instead of referenced: a
// 64-byte memcpy is cheaper than an iovec entry, and it bounds the iovec count per flush.
inline constexpr size_t kCopySharedBelowBytes = 1024;
// A write batch keeps its append buffer's capacity between turns up to this size.
inline constexpr size_t kRetainAppendBytes = size_t{64} << 10;
// One read buffer shared by every connection (reads are delivered synchronously).
inline constexpr size_t kReadBufferBytes = size_t{64} << 10;

// One queued piece of outgoing data: a shared buffer, or (shared empty) the range
// [offset, offset + size) of the batch's append buffer.
struct Chunk {
  SharedBytes shared;
  size_t offset = 0;
  size_t size = 0;
};

// The bytes queued for one connection during one turn (or the batch being written).
struct WriteBatch {
  std::vector<Chunk> chunks;
  std::vector<uint8_t> append;
  size_t bytes = 0;

  void AppendCopy(std::span<const uint8_t> data, bool merge);
  void AppendShared(SharedBytes data);
  const uint8_t* ChunkData(const Chunk& c) const {
    return c.shared.empty() ? append.data() + c.offset : c.shared.data();
  }
  void Clear();
};

class UvConn {
 public:
  enum class State { kConnecting, kOpen, kClosing, kClosed };

  UvConn(Impl* rt, uint64_t id);
  UvConn(const UvConn&) = delete;
  UvConn& operator=(const UvConn&) = delete;

  // User operations (through UvStream).
  void SetHandler(StreamHandler* handler);
  bool Write(std::span<const uint8_t> data);
  bool Write(SharedBytes data);
  bool Writable() const;
  size_t BufferedBytes() const { return pending_.bytes + inflight_unacked_; }
  void Shutdown();
  void Close();
  void Reset();
  void SetReadPaused(bool paused);
  // The user destroyed the stream.
  void Abandon();

  // Runtime side.
  void Opened();  // connect or accept succeeded
  void Flush();   // check phase: hand the turn's bytes to the kernel
  // Closes the socket now (RST when `reset`); no handler calls follow.
  void CloseHandle(bool reset);

  uv_tcp_t tcp;
  Impl* const rt;
  const uint64_t id;
  UvStream* owner = nullptr;
  Address local;
  Address peer;
  State state = State::kConnecting;
  // Dirty list membership (streams to flush in this turn's check phase).
  UvConn* dirty_prev = nullptr;
  UvConn* dirty_next = nullptr;
  bool dirty = false;
  uint64_t flushed_pass = 0;

 private:
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWriteDone(uv_write_t* req, int status);
  static void OnShutdownDone(uv_shutdown_t* req, int status);
  static void OnLingerExpired(UvConn* conn);

  void Queued();
  void UpdateReading();
  void AfterDrain();
  // Advances a requested half-close or close once nothing is left to write.
  void Progress();
  // The connection died (error or peer reset): close it and tell the handler.
  void Fail(int uv_error);

  StreamHandler* handler_ = nullptr;
  bool read_paused_ = false;
  bool reading_ = false;
  bool eof_received_ = false;
  bool shutdown_wanted_ = false;  // Shutdown() or Close(): send FIN after the queued bytes
  bool shutdown_sent_ = false;
  bool shutdown_done_ = false;
  bool close_after_shutdown_ = false;  // Close(): after FIN, wait for the peer's FIN, then close
  bool lingering_ = false;
  bool want_writable_ = false;
  bool write_in_flight_ = false;
  TimerId linger_timer_ = 0;
  WriteBatch pending_;
  WriteBatch inflight_;
  size_t inflight_unacked_ = 0;
  uv_write_t write_req_;
  uv_shutdown_t shutdown_req_;
};

class UvStream final : public Stream {
 public:
  explicit UvStream(UvConn* conn);
  ~UvStream() override;

  void SetHandler(StreamHandler* handler) override;
  bool Write(std::span<const uint8_t> data) override;
  bool Write(SharedBytes data) override;
  bool Writable() const override;
  size_t BufferedBytes() const override;
  void Shutdown() override;
  void Close() override;
  void Reset() override;
  void SetReadPaused(bool paused) override;
  const Address& LocalAddress() const override { return local_; }
  const Address& PeerAddress() const override { return peer_; }
  uint64_t Id() const override { return id_; }

  // The connection record is gone (socket closed and freed, or the runtime was destroyed).
  void Detach() { conn_ = nullptr; }

 private:
  UvConn* conn_;
  const uint64_t id_;
  const Address local_;
  const Address peer_;
};

struct ListenState {
  uv_tcp_t tcp;
  Impl* rt = nullptr;
  uint64_t key = 0;
  UvListener* owner = nullptr;
  AcceptFn on_accept;
  bool closed = false;
  void Close();
};

class UvListener final : public Listener {
 public:
  UvListener(ListenState* state, Address address) : state_(state), address_(std::move(address)) {}
  ~UvListener() override;
  const Address& address() const override { return address_; }
  void Detach() { state_ = nullptr; }

 private:
  ListenState* state_;
  Address address_;
};

struct DialOp {
  Impl* rt = nullptr;
  uint64_t key = 0;
  Address address;
  DialFn on_done;
  UvConn* conn = nullptr;
  uv_connect_t connect_req;
  uv_getaddrinfo_t resolve_req;
  bool resolving = false;
};

struct SignalState {
  uv_signal_t handle;
  Impl* rt = nullptr;
  std::function<void(int)> fn;
};

class Impl {
 public:
  Impl(UvRuntimeOptions opts, uv_loop_t* borrowed_loop);
  ~Impl();

  Nanos Now() const;
  TimerId SetTimer(Nanos deadline, std::function<void()> fn);
  void CancelTimer(TimerId id);
  void Post(std::function<void()> fn);
  void MarkDirty(UvConn* conn);
  void Unlink(UvConn* conn);

  Result<std::unique_ptr<Listener>> Listen(const Address& address, AcceptFn on_accept);
  void Dial(const Address& address, DialFn on_done);
  UvConn* NewConn();
  std::unique_ptr<Stream> MakeStream(UvConn* conn);
  void FinishDial(DialOp* op, Result<std::unique_ptr<Stream>> result);
  void StartConnect(DialOp* op, const sockaddr* addr);

  void Run(uv_run_mode mode);
  void RunFor(Nanos duration, const std::function<bool()>* done);
  Status OnSignal(int signum, std::function<void(int)> fn);

  UvRuntimeOptions options;
  uv_loop_t* loop;
  UvStats stats;
  size_t open_handles = 0;      // handles created and not yet through their close callback
  size_t pending_resolves = 0;  // uv_getaddrinfo requests in flight
  bool shutting_down = false;
  uint64_t next_stream_id = 1;
  uint64_t next_key = 1;
  std::map<uint64_t, UvConn*> conns;  // by id: every connection record not yet freed
  std::map<uint64_t, ListenState*> listeners;
  std::map<uint64_t, DialOp*> dials;
  std::vector<SignalState*> signals;
  std::vector<uint8_t> read_buffer;
  std::vector<uv_buf_t> iov;  // scratch for flushes

 private:
  static void OnTimer(uv_timer_t* handle);
  static void OnCheck(uv_check_t* handle);
  static void OnIdle(uv_idle_t* handle);
  static void OnRunTimer(uv_timer_t* handle);
  void ArmTimer();
  void RunPosts();
  void FlushDirty();
  void UpdateIdle();

  uv_loop_t owned_loop_;
  bool owns_loop_ = false;
  uint64_t origin_hrtime_ = 0;
  uv_timer_t timer_;
  uv_timer_t run_timer_;
  uv_check_t check_;
  uv_idle_t idle_;
  bool idle_active_ = false;
  bool running_ = false;
  const std::function<bool()>* run_until_ = nullptr;
  Nanos run_deadline_ = 0;
  // Timers ordered by (deadline, id); ids grow, so equal deadlines fire in set order.
  std::map<std::pair<Nanos, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, Nanos> timer_deadlines_;  // lookup only, never iterated
  TimerId next_timer_id_ = 1;
  Nanos armed_deadline_ = 0;
  bool timer_armed_ = false;
  std::vector<std::function<void()>> posts_;
  std::vector<std::function<void()>> posts_running_;
  UvConn* dirty_head_ = nullptr;
  UvConn* dirty_tail_ = nullptr;
  uint64_t flush_pass_ = 0;
};

std::string UvErrorText(int uv_error);

}  // namespace wpsim::sim::uv_internal
