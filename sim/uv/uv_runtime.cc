// UvRuntime core: loop ownership, the timer heap, Post, the per-turn check phase (posted work,
// then one flush per dirty stream), running the loop, signals, and orderly teardown.
#include "sim/uv/uv_runtime.h"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <limits>

#include "sim/uv/uv_internal.h"

namespace wpsim::sim {
namespace uv_internal {

std::string UvErrorText(int uv_error) {
  return std::string(uv_err_name(uv_error)) + ": " + uv_strerror(uv_error);
}

namespace {

void OnEmbeddedHandleClosed(uv_handle_t* handle) {
  --static_cast<Impl*>(handle->data)->open_handles;
}

constexpr uint64_t kRunUntilPollMillis = 10;

uint64_t MillisUntil(Nanos deadline, Nanos now) {
  if (deadline <= now) return 0;
  // Round up: libuv timers have millisecond resolution and must not fire early. (They still
  // may, by the loop's cached time; OnTimer re-checks against Now().)
  return static_cast<uint64_t>((deadline - now + kMillisecond - 1) / kMillisecond);
}

}  // namespace

namespace {

// Writing to a socket the peer has closed raises SIGPIPE, whose default action kills the
// process; libuv writes with write(2), which has no MSG_NOSIGNAL. Ignore it (once, and only if
// nobody installed a handler) so such writes fail with EPIPE and the stream reports kReset.
void IgnoreSigpipeOnce() {
  static const bool done = [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
    return true;
  }();
  (void)done;
}

}  // namespace

Impl::Impl(UvRuntimeOptions opts, uv_loop_t* borrowed_loop)
    : options(std::move(opts)), loop(borrowed_loop) {
  WPSIM_ASSERT(options.low_water_bytes <= options.high_water_bytes);
  IgnoreSigpipeOnce();
  if (loop == nullptr) {
    WPSIM_ASSERT(uv_loop_init(&owned_loop_) == 0);
    loop = &owned_loop_;
    owns_loop_ = true;
  }
  origin_hrtime_ = uv_hrtime();
  read_buffer.resize(kReadBufferBytes);

  WPSIM_ASSERT(uv_timer_init(loop, &timer_) == 0);
  timer_.data = this;
  WPSIM_ASSERT(uv_timer_init(loop, &run_timer_) == 0);
  run_timer_.data = this;
  WPSIM_ASSERT(uv_check_init(loop, &check_) == 0);
  check_.data = this;
  WPSIM_ASSERT(uv_idle_init(loop, &idle_) == 0);
  idle_.data = this;
  open_handles += 4;
  // The check handle runs every turn but must not keep the loop alive by itself.
  WPSIM_ASSERT(uv_check_start(&check_, &Impl::OnCheck) == 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
}

Impl::~Impl() {
  WPSIM_ASSERT(!running_);  // destroy the runtime outside its loop's callbacks
  shutting_down = true;
  // Drop queued work first: destroying these functions may destroy user objects that own
  // streams, which then reset through the normal path.
  {
    auto timers = std::move(timers_);
    timers_.clear();
    timer_deadlines_.clear();
    auto posts = std::move(posts_);
    posts_.clear();
  }
  while (!dials.empty()) {
    DialOp* op = dials.begin()->second;
    dials.erase(dials.begin());
    op->on_done = nullptr;
    if (op->resolving) {
      // Cancelled (or finished) resolves come back through OnResolved, which frees op.
      uv_cancel(reinterpret_cast<uv_req_t*>(&op->resolve_req));
    }
    // A connecting op is freed by its connect callback (UV_ECANCELED) when its conn closes.
  }
  // Detach every stream first, so no handler is called while the loop runs the closes.
  std::vector<UvConn*> all_conns;
  for (auto& [id, conn] : conns) all_conns.push_back(conn);
  for (UvConn* conn : all_conns) {
    if (conn->owner != nullptr) {
      conn->owner->Detach();
      conn->owner = nullptr;
    }
    conn->CloseHandle(/*reset=*/conn->state == UvConn::State::kOpen);
  }
  while (!listeners.empty()) {
    ListenState* ls = listeners.begin()->second;
    listeners.erase(listeners.begin());
    if (ls->owner != nullptr) ls->owner->Detach();
    ls->owner = nullptr;
    ls->Close();
  }
  for (SignalState* s : signals) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), [](uv_handle_t* h) {
      auto* state = static_cast<SignalState*>(h->data);
      --state->rt->open_handles;
      delete state;
    });
  }
  signals.clear();
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&timer_), reinterpret_cast<uv_handle_t*>(&run_timer_),
        reinterpret_cast<uv_handle_t*>(&check_), reinterpret_cast<uv_handle_t*>(&idle_)}) {
    uv_close(h, &OnEmbeddedHandleClosed);
  }
  while (open_handles > 0 || pending_resolves > 0) {
    // Close callbacks run in the next turn; a resolve in the thread pool needs a blocking turn.
    Run(open_handles > 0 ? UV_RUN_NOWAIT : UV_RUN_ONCE);
  }
  if (owns_loop_) {
    const int rc = uv_loop_close(loop);
    WPSIM_ASSERT(rc == 0);  // a handle someone else opened on our loop is still open
  }
}

Nanos Impl::Now() const { return static_cast<Nanos>(uv_hrtime() - origin_hrtime_); }

TimerId Impl::SetTimer(Nanos deadline, std::function<void()> fn) {
  WPSIM_ASSERT(fn != nullptr);
  const TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  timer_deadlines_.emplace(id, deadline);
  if (!shutting_down && (!timer_armed_ || deadline < armed_deadline_)) ArmTimer();
  return id;
}

void Impl::CancelTimer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  // An armed uv timer for an earlier head is harmless (OnTimer re-arms), but with no timers
  // left it must stop so it does not keep the loop alive.
  if (timers_.empty() && timer_armed_ && !shutting_down) {
    uv_timer_stop(&timer_);
    timer_armed_ = false;
  }
}

void Impl::ArmTimer() {
  if (timers_.empty()) {
    uv_timer_stop(&timer_);
    timer_armed_ = false;
    return;
  }
  const Nanos deadline = timers_.begin()->first.first;
  uv_timer_start(&timer_, &Impl::OnTimer, MillisUntil(deadline, Now()), 0);
  armed_deadline_ = deadline;
  timer_armed_ = true;
}

void Impl::OnTimer(uv_timer_t* handle) {
  auto* rt = static_cast<Impl*>(handle->data);
  rt->timer_armed_ = false;
  const Nanos now = rt->Now();
  // Timers set while firing wait for the next turn, even if already due, so a callback that
  // keeps re-arming itself at `now` cannot starve I/O.
  const TimerId last_id = rt->next_timer_id_ - 1;
  while (!rt->timers_.empty()) {
    auto it = rt->timers_.begin();
    if (it->first.first > now || it->first.second > last_id) break;
    std::function<void()> fn = std::move(it->second);
    rt->timer_deadlines_.erase(it->first.second);
    rt->timers_.erase(it);
    fn();
    if (rt->shutting_down) return;
  }
  if (!rt->timer_armed_) rt->ArmTimer();
}

void Impl::Post(std::function<void()> fn) {
  WPSIM_ASSERT(fn != nullptr);
  if (shutting_down) return;
  posts_.push_back(std::move(fn));
  UpdateIdle();
}

void Impl::MarkDirty(UvConn* conn) {
  if (conn->dirty) return;
  conn->dirty = true;
  conn->dirty_prev = dirty_tail_;
  conn->dirty_next = nullptr;
  if (dirty_tail_ != nullptr) {
    dirty_tail_->dirty_next = conn;
  } else {
    dirty_head_ = conn;
  }
  dirty_tail_ = conn;
  UpdateIdle();
}

void Impl::Unlink(UvConn* conn) {
  if (!conn->dirty) return;
  if (conn->dirty_prev != nullptr) {
    conn->dirty_prev->dirty_next = conn->dirty_next;
  } else {
    dirty_head_ = conn->dirty_next;
  }
  if (conn->dirty_next != nullptr) {
    conn->dirty_next->dirty_prev = conn->dirty_prev;
  } else {
    dirty_tail_ = conn->dirty_prev;
  }
  conn->dirty = false;
  conn->dirty_prev = conn->dirty_next = nullptr;
}

void Impl::UpdateIdle() {
  if (shutting_down) return;
  const bool want = !posts_.empty() || dirty_head_ != nullptr;
  if (want && !idle_active_) {
    // An active idle handle makes poll return at once, so queued work is not delayed.
    uv_idle_start(&idle_, &Impl::OnIdle);
    idle_active_ = true;
  } else if (!want && idle_active_) {
    uv_idle_stop(&idle_);
    idle_active_ = false;
  }
}

void Impl::OnIdle(uv_idle_t*) {}

void Impl::OnCheck(uv_check_t* handle) {
  auto* rt = static_cast<Impl*>(handle->data);
  ++rt->stats.turns;
  rt->RunPosts();
  rt->FlushDirty();
  rt->UpdateIdle();
  if (rt->run_until_ != nullptr && (*rt->run_until_)()) uv_stop(rt->loop);
}

void Impl::RunPosts() {
  if (posts_.empty()) return;
  // Functions posted while these run wait for the next turn.
  posts_running_.swap(posts_);
  for (auto& fn : posts_running_) {
    fn();
    if (shutting_down) break;
  }
  posts_running_.clear();
}

void Impl::FlushDirty() {
  ++flush_pass_;
  while (dirty_head_ != nullptr) {
    UvConn* conn = dirty_head_;
    // A stream re-dirtied by a callback during this pass (it sits behind all others) flushes
    // next turn: one gather write per stream per turn, and no unbounded loop here.
    if (conn->flushed_pass == flush_pass_) break;
    Unlink(conn);
    conn->flushed_pass = flush_pass_;
    conn->Flush();
  }
}

void Impl::Run(uv_run_mode mode) {
  const bool was_running = running_;
  WPSIM_ASSERT(!was_running || mode == UV_RUN_NOWAIT);  // uv_run is not reentrant
  running_ = true;
  uv_run(loop, mode);
  running_ = was_running;
}

void Impl::OnRunTimer(uv_timer_t* handle) {
  auto* rt = static_cast<Impl*>(handle->data);
  const Nanos now = rt->Now();
  if (now >= rt->run_deadline_ || (rt->run_until_ != nullptr && (*rt->run_until_)())) {
    uv_stop(rt->loop);
    return;
  }
  // The loop's millisecond clock can fire a timer a little before our nanosecond deadline.
  if (uv_timer_get_repeat(handle) == 0) {
    uv_timer_start(handle, &Impl::OnRunTimer,
                   std::max<uint64_t>(1, MillisUntil(rt->run_deadline_, now)), 0);
  }
}

void Impl::RunFor(Nanos duration, const std::function<bool()>* done) {
  WPSIM_ASSERT(!running_);
  running_ = true;
  run_until_ = done;
  run_deadline_ = Now() + duration;
  // With a predicate, also wake up every kRunUntilPollMillis: a condition such as "no progress
  // for a while" must be noticed even when no I/O makes the loop turn.
  const uint64_t ms = MillisUntil(duration, 0);
  uv_timer_start(&run_timer_, &Impl::OnRunTimer,
                 done != nullptr ? std::min(ms, kRunUntilPollMillis) : ms,
                 done != nullptr ? kRunUntilPollMillis : 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_timer_stop(&run_timer_);
  run_until_ = nullptr;
  running_ = false;
}

Status Impl::OnSignal(int signum, std::function<void(int)> fn) {
  WPSIM_ASSERT(fn != nullptr);
  auto* s = new SignalState;
  s->rt = this;
  s->fn = std::move(fn);
  s->handle.data = s;
  int rc = uv_signal_init(loop, &s->handle);
  if (rc != 0) {
    delete s;
    return MakeError("signal_failed", UvErrorText(rc));
  }
  ++open_handles;
  rc = uv_signal_start(
      &s->handle, [](uv_signal_t* h, int signo) { static_cast<SignalState*>(h->data)->fn(signo); },
      signum);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), [](uv_handle_t* h) {
      auto* state = static_cast<SignalState*>(h->data);
      --state->rt->open_handles;
      delete state;
    });
    return MakeError("signal_failed", "signal " + std::to_string(signum) + ": " + UvErrorText(rc));
  }
  // A signal watcher alone must not keep Run() from returning.
  uv_unref(reinterpret_cast<uv_handle_t*>(&s->handle));
  signals.push_back(s);
  return Status::Ok();
}

}  // namespace uv_internal

uint64_t NondeterministicSeed() {
  uint64_t seed = 0;
  if (uv_random(nullptr, nullptr, &seed, sizeof(seed), 0, nullptr) != 0) {
    // No OS entropy: fall back to the time, which is still not reproducible.
    uint64_t t = uv_hrtime();
    seed = SplitMix64(t) ^ static_cast<uint64_t>(uv_os_getpid());
  }
  return seed;
}

UvRuntime::UvRuntime(UvRuntimeOptions options, uv_loop_s* loop)
    : impl_(std::make_unique<uv_internal::Impl>(std::move(options), loop)) {}

UvRuntime::~UvRuntime() = default;

Nanos UvRuntime::Now() const { return impl_->Now(); }

Nanos UvRuntime::UnixNow() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

TimerId UvRuntime::SetTimer(Nanos deadline, std::function<void()> fn) {
  return impl_->SetTimer(deadline, std::move(fn));
}

void UvRuntime::CancelTimer(TimerId id) { impl_->CancelTimer(id); }

void UvRuntime::Post(std::function<void()> fn) { impl_->Post(std::move(fn)); }

Rng UvRuntime::ForkRng(std::string_view name) { return Rng::Derive(impl_->options.seed, name); }

Result<std::unique_ptr<Listener>> UvRuntime::Listen(const Address& address, AcceptFn on_accept) {
  return impl_->Listen(address, std::move(on_accept));
}

void UvRuntime::Dial(const Address& address, DialFn on_done) {
  impl_->Dial(address, std::move(on_done));
}

std::string_view UvRuntime::HostName() const { return impl_->options.host_name; }

Trace* UvRuntime::trace() { return impl_->options.trace; }

uv_loop_s* UvRuntime::loop() const { return impl_->loop; }

void UvRuntime::Run() { impl_->Run(UV_RUN_DEFAULT); }

void UvRuntime::RunFor(Nanos duration) { impl_->RunFor(duration, nullptr); }

bool UvRuntime::RunUntil(const std::function<bool()>& done, Nanos timeout) {
  if (done()) return true;
  impl_->RunFor(timeout, &done);
  return done();
}

void UvRuntime::Stop() { uv_stop(impl_->loop); }

Status UvRuntime::OnSignal(int signum, std::function<void(int)> fn) {
  return impl_->OnSignal(signum, std::move(fn));
}

Status UvRuntime::OnTerminationSignal(std::function<void(int)> fn) {
  Status st = impl_->OnSignal(SIGINT, fn);
  if (!st.ok()) return st;
  return impl_->OnSignal(SIGTERM, std::move(fn));
}

const UvStats& UvRuntime::stats() const { return impl_->stats; }

size_t UvRuntime::open_connections() const { return impl_->conns.size(); }

}  // namespace wpsim::sim
