// TCP streams, listeners and dialing for UvRuntime. The connection state machine is described
// in uv_internal.h; the write path (queue during the turn, one gather write per turn) in
// uv_runtime.h.
#include <sys/socket.h>

#include <cstring>

#include "sim/uv/uv_internal.h"

namespace wpsim::sim::uv_internal {
namespace {

uv_stream_t* AsStream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }
uv_handle_t* AsHandle(uv_tcp_t* tcp) { return reinterpret_cast<uv_handle_t*>(tcp); }

CloseReason ReasonFor(int uv_error) {
  switch (uv_error) {
    case UV_ECONNRESET:
    case UV_EPIPE:
    case UV_ECONNABORTED:
      return CloseReason::kReset;
    case UV_ETIMEDOUT:
      return CloseReason::kTimeout;
    default:
      return CloseReason::kError;
  }
}

Address SockAddrToAddress(const sockaddr_storage& ss) {
  char name[64] = {0};
  Address a;
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(sin6, name, sizeof(name));
    a.port = ntohs(sin6->sin6_port);
  } else {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(sin, name, sizeof(name));
    a.port = ntohs(sin->sin_port);
  }
  a.host = name;
  return a;
}

// IP literals and "localhost" (127.0.0.1) only; false for names that need DNS.
bool LiteralSockAddr(const Address& address, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  const std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  if (uv_ip4_addr(host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(out)) == 0) {
    return true;
  }
  return uv_ip6_addr(host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(out)) == 0;
}

void FillAddresses(UvConn* conn) {
  sockaddr_storage ss{};
  int len = sizeof(ss);
  if (uv_tcp_getsockname(&conn->tcp, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    conn->local = SockAddrToAddress(ss);
  }
  len = sizeof(ss);
  if (uv_tcp_getpeername(&conn->tcp, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    conn->peer = SockAddrToAddress(ss);
  }
}

void OnConnClosed(uv_handle_t* handle) {
  auto* conn = static_cast<UvConn*>(handle->data);
  Impl* rt = conn->rt;
  --rt->open_handles;
  rt->Unlink(conn);
  rt->conns.erase(conn->id);
  if (conn->owner != nullptr) conn->owner->Detach();
  delete conn;
}

}  // namespace

// ---- WriteBatch ----

void WriteBatch::AppendCopy(std::span<const uint8_t> data, bool merge) {
  if (merge && !chunks.empty() && chunks.back().shared.empty() &&
      chunks.back().offset + chunks.back().size == append.size()) {
    chunks.back().size += data.size();
  } else {
    chunks.push_back(Chunk{SharedBytes(), append.size(), data.size()});
  }
  append.insert(append.end(), data.begin(), data.end());
  bytes += data.size();
}

void WriteBatch::AppendShared(SharedBytes data) {
  const size_t n = data.size();
  chunks.push_back(Chunk{std::move(data), 0, n});
  bytes += n;
}

void WriteBatch::Clear() {
  chunks.clear();
  if (append.capacity() > kRetainAppendBytes) {
    std::vector<uint8_t>().swap(append);
  } else {
    append.clear();
  }
  bytes = 0;
}

// ---- UvConn ----

UvConn::UvConn(Impl* runtime, uint64_t conn_id) : rt(runtime), id(conn_id) {
  std::memset(&tcp, 0, sizeof(tcp));
  std::memset(&write_req_, 0, sizeof(write_req_));
  std::memset(&shutdown_req_, 0, sizeof(shutdown_req_));
  write_req_.data = this;
  shutdown_req_.data = this;
}

void UvConn::Opened() {
  state = State::kOpen;
  uv_tcp_nodelay(&tcp, 1);  // we coalesce per turn ourselves; Nagle would only add latency
  FillAddresses(this);
  ++rt->stats.streams_opened;
}

void UvConn::SetHandler(StreamHandler* handler) {
  if (state != State::kOpen) return;
  handler_ = handler;
  UpdateReading();
}

void UvConn::UpdateReading() {
  // Read when someone consumes the data: the user (handler set, not paused), or a lingering
  // close that discards it while waiting for the peer's FIN.
  const bool want =
      !eof_received_ && ((state == State::kOpen && handler_ != nullptr && !read_paused_) ||
                         (state == State::kClosing && lingering_));
  if (want == reading_) return;
  if (want) {
    const int rc = uv_read_start(AsStream(&tcp), &UvConn::OnAlloc, &UvConn::OnRead);
    reading_ = rc == 0;
  } else {
    uv_read_stop(AsStream(&tcp));
    reading_ = false;
  }
}

bool UvConn::Write(std::span<const uint8_t> data) {
  if (state != State::kOpen || shutdown_wanted_) return false;
  if (data.empty()) return true;
  pending_.AppendCopy(data, rt->options.coalesce_writes);
  Queued();
  return true;
}

bool UvConn::Write(SharedBytes data) {
  if (state != State::kOpen || shutdown_wanted_) return false;
  if (data.empty()) return true;
  if (data.size() < kCopySharedBelowBytes) {
    pending_.AppendCopy(data.span(), rt->options.coalesce_writes);
  } else {
    pending_.AppendShared(std::move(data));
  }
  Queued();
  return true;
}

void UvConn::Queued() {
  if (BufferedBytes() > rt->options.high_water_bytes) want_writable_ = true;
  rt->MarkDirty(this);
}

bool UvConn::Writable() const {
  // Hysteresis: once above the high-water mark, unwritable until OnWritable (low-water mark),
  // so a writer that waits for OnWritable after seeing false is always woken.
  return state == State::kOpen && !shutdown_wanted_ && !want_writable_ &&
         BufferedBytes() <= rt->options.high_water_bytes;
}

void UvConn::Shutdown() {
  if (state != State::kOpen || shutdown_wanted_) return;
  shutdown_wanted_ = true;
  rt->MarkDirty(this);  // the flush sends FIN once the queue is empty
}

void UvConn::Close() {
  if (state != State::kOpen) return;
  state = State::kClosing;
  handler_ = nullptr;
  shutdown_wanted_ = true;
  close_after_shutdown_ = true;
  UpdateReading();
  rt->MarkDirty(this);
}

void UvConn::Reset() {
  if (state == State::kClosed) return;
  CloseHandle(/*reset=*/true);
}

void UvConn::SetReadPaused(bool paused) {
  read_paused_ = paused;
  UpdateReading();
}

void UvConn::Abandon() {
  owner = nullptr;
  handler_ = nullptr;
  // An open stream is reset; a closing one finishes its graceful close on its own.
  if (state == State::kOpen) {
    CloseHandle(/*reset=*/true);
  } else {
    UpdateReading();
  }
}

void UvConn::CloseHandle(bool reset) {
  if (state == State::kClosed) return;
  state = State::kClosed;
  handler_ = nullptr;
  reading_ = false;
  if (linger_timer_ != 0) {
    rt->CancelTimer(linger_timer_);
    linger_timer_ = 0;
  }
  rt->Unlink(this);
  pending_.Clear();  // the in-flight batch is released by its cancelled write callback
  if (reset && uv_tcp_close_reset(&tcp, &OnConnClosed) == 0) return;
  if (reset) {
    // uv_tcp_close_reset refuses while a shutdown is in progress; abort by hand: SO_LINGER
    // with a zero timeout makes close() send RST.
    uv_os_fd_t fd;
    if (uv_fileno(AsHandle(&tcp), &fd) == 0) {
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
  }
  uv_close(AsHandle(&tcp), &OnConnClosed);
}

void UvConn::Fail(int uv_error) {
  if (state == State::kClosed) return;
  StreamHandler* handler = state == State::kOpen ? handler_ : nullptr;
  CloseHandle(/*reset=*/false);
  if (handler != nullptr) handler->OnClosed(ReasonFor(uv_error), UvErrorText(uv_error));
}

void UvConn::Flush() {
  if (state == State::kClosed || state == State::kConnecting || write_in_flight_) return;
  if (pending_.bytes == 0) {
    Progress();
    return;
  }
  std::swap(pending_, inflight_);
  auto& iov = rt->iov;
  iov.clear();
  for (const Chunk& c : inflight_.chunks) {
    iov.push_back(
        uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(inflight_.ChunkData(c))),
                    static_cast<unsigned>(c.size)));
  }
  const size_t total = inflight_.bytes;
  size_t written = 0;
  int error = 0;
  if (rt->options.coalesce_writes) {
    ++rt->stats.flushes;
    rt->stats.flushed_buffers += iov.size();
    const int rc = uv_try_write(AsStream(&tcp), iov.data(), static_cast<unsigned>(iov.size()));
    if (rc >= 0) {
      written = static_cast<size_t>(rc);
    } else if (rc != UV_EAGAIN) {
      error = rc;
    }
  } else {
    // Benchmark baseline: one system call per Write().
    for (const uv_buf_t& b : iov) {
      ++rt->stats.flushes;
      ++rt->stats.flushed_buffers;
      const int rc = uv_try_write(AsStream(&tcp), &b, 1);
      if (rc < 0) {
        if (rc != UV_EAGAIN) error = rc;
        break;
      }
      written += static_cast<size_t>(rc);
      if (static_cast<size_t>(rc) < b.len) break;
    }
  }
  rt->stats.bytes_written += written;
  if (error != 0) {
    inflight_.Clear();
    Fail(error);
    return;
  }
  if (written == total) {
    inflight_.Clear();
    AfterDrain();
    return;
  }
  // The kernel took only a prefix: skip it and let uv_write finish the rest as the socket
  // drains. The batch's buffers stay alive in inflight_ until the write callback.
  size_t first = 0;
  size_t skip = written;
  while (skip >= iov[first].len) {
    skip -= iov[first].len;
    ++first;
  }
  iov[first].base += skip;
  iov[first].len -= skip;
  inflight_unacked_ = total - written;
  ++rt->stats.uv_write_calls;
  const int rc = uv_write(&write_req_, AsStream(&tcp), &iov[first],
                          static_cast<unsigned>(iov.size() - first), &UvConn::OnWriteDone);
  if (rc != 0) {
    inflight_.Clear();
    inflight_unacked_ = 0;
    Fail(rc);
    return;
  }
  write_in_flight_ = true;
}

void UvConn::OnWriteDone(uv_write_t* req, int status) {
  auto* conn = static_cast<UvConn*>(req->data);
  conn->write_in_flight_ = false;
  conn->rt->stats.bytes_written += status == 0 ? conn->inflight_unacked_ : 0;
  conn->inflight_.Clear();
  conn->inflight_unacked_ = 0;
  if (conn->state == State::kClosed || status == UV_ECANCELED) return;
  if (status < 0) {
    conn->Fail(status);
    return;
  }
  conn->AfterDrain();
}

void UvConn::AfterDrain() {
  if (state == State::kOpen && want_writable_ && BufferedBytes() <= rt->options.low_water_bytes) {
    want_writable_ = false;
    // The handler may write (re-dirtying us), close, or destroy the stream; this record
    // outlives all of those until its close callback.
    if (handler_ != nullptr) handler_->OnWritable();
  }
  if (state == State::kClosed) return;
  if (pending_.bytes > 0) {
    rt->MarkDirty(this);
  } else {
    Progress();
  }
}

void UvConn::Progress() {
  if (state == State::kClosed || write_in_flight_ || pending_.bytes > 0) return;
  if (shutdown_wanted_ && !shutdown_sent_) {
    shutdown_sent_ = true;
    const int rc = uv_shutdown(&shutdown_req_, AsStream(&tcp), &UvConn::OnShutdownDone);
    if (rc != 0) Fail(rc);
    return;
  }
  if (close_after_shutdown_ && shutdown_done_) {
    if (eof_received_) {
      CloseHandle(/*reset=*/false);
    } else if (!lingering_) {
      lingering_ = true;
      UpdateReading();
      UvConn* self = this;
      linger_timer_ =
          rt->SetTimer(rt->Now() + kUvCloseLingerNanos, [self] { OnLingerExpired(self); });
    }
  }
}

void UvConn::OnLingerExpired(UvConn* conn) {
  conn->linger_timer_ = 0;
  conn->CloseHandle(/*reset=*/false);
}

void UvConn::OnShutdownDone(uv_shutdown_t* req, int status) {
  auto* conn = static_cast<UvConn*>(req->data);
  if (conn->state == State::kClosed || status == UV_ECANCELED) return;
  if (status < 0) {
    conn->Fail(status);
    return;
  }
  conn->shutdown_done_ = true;
  conn->Progress();
}

void UvConn::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* conn = static_cast<UvConn*>(handle->data);
  auto& rb = conn->rt->read_buffer;
  *buf = uv_buf_init(reinterpret_cast<char*>(rb.data()), static_cast<unsigned>(rb.size()));
}

void UvConn::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* conn = static_cast<UvConn*>(stream->data);
  if (nread == 0) return;  // EAGAIN
  if (conn->state == State::kClosed) return;
  if (nread > 0) {
    conn->rt->stats.bytes_read += static_cast<uint64_t>(nread);
    if (conn->state == State::kOpen && conn->handler_ != nullptr) {
      conn->handler_->OnData(
          {reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)});
    }
    return;  // while lingering, data is discarded
  }
  if (nread == UV_EOF) {
    conn->eof_received_ = true;
    conn->reading_ = false;  // libuv stops reading at EOF
    uv_read_stop(stream);
    if (conn->state == State::kOpen) {
      if (conn->handler_ != nullptr) conn->handler_->OnEnd();
    } else {
      conn->Progress();
    }
    return;
  }
  if (conn->state == State::kClosing) {
    conn->CloseHandle(/*reset=*/false);  // the peer is gone; nobody is listening any more
    return;
  }
  conn->Fail(static_cast<int>(nread));
}

// ---- UvStream ----

UvStream::UvStream(UvConn* conn)
    : conn_(conn), id_(conn->id), local_(conn->local), peer_(conn->peer) {
  conn->owner = this;
}

UvStream::~UvStream() {
  if (conn_ != nullptr) conn_->Abandon();
}

void UvStream::SetHandler(StreamHandler* handler) {
  if (conn_ != nullptr) conn_->SetHandler(handler);
}
bool UvStream::Write(std::span<const uint8_t> data) {
  return conn_ != nullptr && conn_->Write(data);
}
bool UvStream::Write(SharedBytes data) { return conn_ != nullptr && conn_->Write(std::move(data)); }
bool UvStream::Writable() const { return conn_ != nullptr && conn_->Writable(); }
size_t UvStream::BufferedBytes() const { return conn_ != nullptr ? conn_->BufferedBytes() : 0; }
void UvStream::Shutdown() {
  if (conn_ != nullptr) conn_->Shutdown();
}
void UvStream::Close() {
  if (conn_ != nullptr) conn_->Close();
}
void UvStream::Reset() {
  if (conn_ != nullptr) conn_->Reset();
}
void UvStream::SetReadPaused(bool paused) {
  if (conn_ != nullptr) conn_->SetReadPaused(paused);
}

// ---- Listening ----

void ListenState::Close() {
  if (closed) return;
  closed = true;
  on_accept = nullptr;
  rt->listeners.erase(key);
  uv_close(AsHandle(&tcp), [](uv_handle_t* h) {
    auto* ls = static_cast<ListenState*>(h->data);
    --ls->rt->open_handles;
    delete ls;
  });
}

UvListener::~UvListener() {
  if (state_ != nullptr) {
    state_->owner = nullptr;
    state_->Close();
  }
}

UvConn* Impl::NewConn() {
  auto* conn = new UvConn(this, next_stream_id++);
  WPSIM_ASSERT(uv_tcp_init(loop, &conn->tcp) == 0);
  conn->tcp.data = conn;
  ++open_handles;
  conns.emplace(conn->id, conn);
  return conn;
}

std::unique_ptr<Stream> Impl::MakeStream(UvConn* conn) { return std::make_unique<UvStream>(conn); }

Result<std::unique_ptr<Listener>> Impl::Listen(const Address& address, AcceptFn on_accept) {
  WPSIM_ASSERT(on_accept != nullptr);
  sockaddr_storage ss;
  if (!LiteralSockAddr(address, &ss)) {
    return MakeError("bad_address",
                     "listen needs an IP literal or localhost, got '" + address.ToString() + "'");
  }
  auto* ls = new ListenState;
  ls->rt = this;
  ls->key = next_key++;
  ls->on_accept = std::move(on_accept);
  WPSIM_ASSERT(uv_tcp_init(loop, &ls->tcp) == 0);
  ls->tcp.data = ls;
  ++open_handles;
  listeners.emplace(ls->key, ls);
  int rc = uv_tcp_bind(&ls->tcp, reinterpret_cast<const sockaddr*>(&ss), 0);
  if (rc == 0) {
    rc = uv_listen(AsStream(&ls->tcp), kUvListenBacklog, [](uv_stream_t* server, int status) {
      auto* state = static_cast<ListenState*>(server->data);
      if (status < 0 || state->closed) return;  // e.g. EMFILE; the client will retry or time out
      Impl* rt = state->rt;
      UvConn* conn = rt->NewConn();
      if (uv_accept(server, AsStream(&conn->tcp)) != 0) {
        conn->CloseHandle(/*reset=*/false);
        return;
      }
      conn->Opened();
      state->on_accept(rt->MakeStream(conn));
    });
  }
  if (rc != 0) {
    ls->Close();
    return MakeError(rc == UV_EADDRINUSE ? "address_in_use" : "listen_failed",
                     "listen on " + address.ToString() + ": " + UvErrorText(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof(bound);
  uv_tcp_getsockname(&ls->tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  Address actual = address;
  actual.port = SockAddrToAddress(bound).port;
  auto listener = std::make_unique<UvListener>(ls, std::move(actual));
  ls->owner = listener.get();
  return std::unique_ptr<Listener>(std::move(listener));
}

// ---- Dialing ----

void Impl::FinishDial(DialOp* op, Result<std::unique_ptr<Stream>> result) {
  dials.erase(op->key);
  DialFn fn = std::move(op->on_done);
  delete op;
  if (fn != nullptr && !shutting_down) fn(std::move(result));
}

void Impl::Dial(const Address& address, DialFn on_done) {
  WPSIM_ASSERT(on_done != nullptr);
  auto* op = new DialOp;
  op->rt = this;
  op->key = next_key++;
  op->address = address;
  op->on_done = std::move(on_done);
  op->connect_req.data = op;
  op->resolve_req.data = op;
  dials.emplace(op->key, op);
  sockaddr_storage ss;
  if (LiteralSockAddr(address, &ss)) {
    StartConnect(op, reinterpret_cast<const sockaddr*>(&ss));
    return;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(address.port);
  const int rc = uv_getaddrinfo(
      loop, &op->resolve_req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* dial = static_cast<DialOp*>(req->data);
        Impl* rt = dial->rt;
        --rt->pending_resolves;
        dial->resolving = false;
        if (rt->shutting_down) {
          uv_freeaddrinfo(res);
          delete dial;
          return;
        }
        if (status != 0 || res == nullptr) {
          uv_freeaddrinfo(res);
          rt->FinishDial(dial, MakeError("resolve_failed", "resolve " + dial->address.host + ": " +
                                                               UvErrorText(status)));
          return;
        }
        rt->StartConnect(dial, res->ai_addr);
        uv_freeaddrinfo(res);
      },
      address.host.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    // Not inside a callback: report on the next turn, never synchronously.
    dials.erase(op->key);
    auto fn = std::move(op->on_done);
    delete op;
    Error err = MakeError("resolve_failed", "resolve " + address.host + ": " + UvErrorText(rc));
    Post([fn = std::move(fn), err = std::move(err)] { fn(err); });
    return;
  }
  op->resolving = true;
  ++pending_resolves;
}

void Impl::StartConnect(DialOp* op, const sockaddr* addr) {
  UvConn* conn = NewConn();
  op->conn = conn;
  const int rc =
      uv_tcp_connect(&op->connect_req, &conn->tcp, addr, [](uv_connect_t* req, int status) {
        auto* dial = static_cast<DialOp*>(req->data);
        Impl* rt = dial->rt;
        UvConn* c = dial->conn;
        if (rt->shutting_down || status == UV_ECANCELED) {
          c->CloseHandle(/*reset=*/false);
          rt->dials.erase(dial->key);
          delete dial;
          return;
        }
        if (status != 0) {
          c->CloseHandle(/*reset=*/false);
          const std::string what = "dial " + dial->address.ToString() + ": " + UvErrorText(status);
          rt->FinishDial(
              dial,
              MakeError(status == UV_ECONNREFUSED ? "connection_refused" : "dial_failed", what));
          return;
        }
        c->Opened();
        rt->FinishDial(dial, rt->MakeStream(c));
      });
  if (rc != 0) {
    conn->CloseHandle(/*reset=*/false);
    op->conn = nullptr;
    dials.erase(op->key);
    auto fn = std::move(op->on_done);
    delete op;
    Error err = MakeError(rc == UV_EINVAL || rc == UV_EAFNOSUPPORT ? "bad_address" : "dial_failed",
                          "dial: " + UvErrorText(rc));
    Post([fn = std::move(fn), err = std::move(err)] { fn(err); });
  }
}

}  // namespace wpsim::sim::uv_internal
