// TlsStream: mbedTLS over any sim::Stream. The theory of operation is in tls.h.
//
// Rules this file keeps:
//  * The user's handler is called only from runtime callbacks (the inner stream's handler
//    calls, posted functions, the handshake timer), never from inside a user call.
//  * After any call into user code (handler, handshake callback) the stream may be gone: the
//    code checks the `alive` token before touching members again.
//  * mbedTLS's send callback never blocks (the inner stream buffers), so mbedtls_ssl_write
//    and the handshake only ever wait for input.
#include <mbedtls/net_sockets.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

#include "sim/tls/tls_internal.h"
#include "sim/trace.h"

namespace wpsim::sim {
namespace tls_internal {

// The runtime whose clock mbedTLS reads during the current call into it; see time() below.
thread_local const Runtime* mbedtls_clock = nullptr;

// Marks a call into mbedTLS on behalf of a stream on `runtime` (nests).
class MbedClockScope {
 public:
  explicit MbedClockScope(const Runtime& runtime) : previous_(mbedtls_clock) {
    mbedtls_clock = &runtime;
  }
  ~MbedClockScope() { mbedtls_clock = previous_; }
  MbedClockScope(const MbedClockScope&) = delete;
  MbedClockScope& operator=(const MbedClockScope&) = delete;

 private:
  const Runtime* previous_;
};

}  // namespace tls_internal

using tls_internal::MbedClockScope;
using tls_internal::MbedError;

namespace {

// Keeps the plaintext buffer's capacity between turns up to this size.
constexpr size_t kRetainPlainBytes = size_t{64} << 10;
// Compacts the ciphertext input buffer once this much of it has been consumed.
constexpr size_t kCompactCipherBytes = size_t{64} << 10;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t UnixSeconds(const mbedtls_x509_time& t) {
  return DaysFromCivil(t.year, t.mon, t.day) * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
}

enum class InnerAction { kNone, kClose, kReset };

}  // namespace

struct TlsStream::Impl final : public StreamHandler {
  enum class State { kHandshaking, kOpen, kClosing, kDead };

  Impl(Runtime& runtime, std::unique_ptr<Stream> inner_stream, std::shared_ptr<const TlsConfig> cfg,
       Rng rng);
  ~Impl() override;

  // Inner stream events.
  void OnData(std::span<const uint8_t> data) override;
  void OnEnd() override;
  void OnWritable() override;
  void OnClosed(CloseReason reason, std::string_view detail) override;

  static int Send(void* self, const unsigned char* buf, size_t len);
  static int Recv(void* self, unsigned char* buf, size_t len);
  static int Verify(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags);

  bool Write(std::span<const uint8_t> data);
  bool Writable() const;
  size_t BufferedBytes() const { return plain_out.size() + inner->BufferedBytes(); }
  void Shutdown();
  void Close();
  void Reset();
  void SetReadPaused(bool paused);
  void SetHandler(StreamHandler* h);

  // Runtime-side work.
  void Pump();
  void Deliver();
  void HandshakeDone();
  void ScheduleService();
  void Service();
  // Encrypts queued plaintext into the inner stream; false (after scheduling the failure) if
  // mbedTLS fails.
  bool EncryptPending();
  void SendCloseNotify();
  void Fail(CloseReason reason, const std::string& detail, InnerAction action);
  // The user destroyed the stream after Close() during the handshake: this record owns itself
  // until the queued plaintext went out (or the handshake failed), then deletes itself.
  void ReleaseIfOrphaned();

  Runtime& rt;
  std::unique_ptr<Stream> inner;
  std::shared_ptr<const TlsConfig> config;
  tls_internal::Drbg drbg;
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  State state = State::kHandshaking;
  StreamHandler* handler = nullptr;
  std::function<void(const Status&)> on_handshake;
  std::vector<uint8_t> cipher_in;
  size_t cipher_pos = 0;
  std::vector<uint8_t> plain_out;
  bool user_closed = false;      // Close() or Reset(): no more handler calls
  bool close_wanted = false;     // Close() during the handshake, with plaintext queued
  bool shutdown_wanted = false;  // Shutdown(): close_notify after the queued plaintext
  bool close_notify_sent = false;
  bool read_paused = false;
  bool inner_eof = false;
  bool end_delivered = false;
  bool want_writable = false;
  bool ip_san_missing = false;  // Verify(): an IP-literal server name not among the iPAddress SANs
  bool service_posted = false;
  bool orphaned = false;
  bool release_posted = false;
  TimerId handshake_timer = 0;
  std::string alpn_selected;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

TlsStream::Impl::Impl(Runtime& runtime, std::unique_ptr<Stream> inner_stream,
                      std::shared_ptr<const TlsConfig> cfg, Rng rng)
    : rt(runtime), inner(std::move(inner_stream)), config(std::move(cfg)), drbg(rng) {
  WPSIM_ASSERT(inner != nullptr && config != nullptr);
  const TlsConfig::Impl& c = config->impl();
  mbedtls_ssl_config_init(&conf);
  mbedtls_ssl_init(&ssl);
  // One mbedtls_ssl_config per stream: mbedTLS keeps the RNG in the config, and each stream
  // has its own deterministic DRBG. Certificates and keys are shared, read-only.
  int rc =
      mbedtls_ssl_config_defaults(&conf, c.server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  WPSIM_ASSERT(rc == 0);
  mbedtls_ssl_conf_rng(&conf, &tls_internal::Drbg::Random, &drbg);
  if (c.server) {
    rc = mbedtls_ssl_conf_own_cert(&conf, const_cast<mbedtls_x509_crt*>(&c.own_cert),
                                   const_cast<mbedtls_pk_context*>(&c.own_key));
    WPSIM_ASSERT(rc == 0);
  } else if (c.verify) {
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, const_cast<mbedtls_x509_crt*>(&c.ca_chain), nullptr);
    mbedtls_ssl_conf_verify(&conf, &Impl::Verify, this);
  } else {
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
  }
  if (!c.alpn.empty()) {
    rc = mbedtls_ssl_conf_alpn_protocols(&conf, const_cast<const char**>(c.alpn_ptrs.data()));
    WPSIM_ASSERT(rc == 0);
  }
  rc = mbedtls_ssl_setup(&ssl, &conf);
  WPSIM_ASSERT(rc == 0);
  // An IP literal is neither sent as SNI (RFC 6066 §3) nor given to mbedTLS to check: 2.28
  // matches it only against the CN and dNSNames. Verify() checks the iPAddress SANs instead.
  if (!c.server && !c.server_name.empty() && !c.server_ip) {
    rc = mbedtls_ssl_set_hostname(&ssl, c.server_name.c_str());
    WPSIM_ASSERT(rc == 0);
  }
  mbedtls_ssl_set_bio(&ssl, this, &Impl::Send, &Impl::Recv, nullptr);
  inner->SetHandler(this);
  handshake_timer = rt.SetTimer(rt.Now() + c.handshake_timeout, [this] {
    handshake_timer = 0;
    if (state == State::kHandshaking) {
      Fail(CloseReason::kTimeout, "tls: handshake timed out", InnerAction::kReset);
    }
  });
  ScheduleService();  // the client's hello goes out on the next turn, never inside this call
}

TlsStream::Impl::~Impl() {
  alive.reset();
  if (handshake_timer != 0) rt.CancelTimer(handshake_timer);
  inner.reset();  // resets it, unless a graceful close is under way
  mbedtls_ssl_free(&ssl);
  mbedtls_ssl_config_free(&conf);
}

int TlsStream::Impl::Send(void* self, const unsigned char* buf, size_t len) {
  auto* impl = static_cast<Impl*>(self);
  if (!impl->inner->Write(std::span<const uint8_t>(buf, len))) return MBEDTLS_ERR_NET_SEND_FAILED;
  return static_cast<int>(len);
}

int TlsStream::Impl::Recv(void* self, unsigned char* buf, size_t len) {
  auto* impl = static_cast<Impl*>(self);
  const size_t avail = impl->cipher_in.size() - impl->cipher_pos;
  if (avail == 0) return impl->inner_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
  const size_t n = std::min(avail, len);
  std::memcpy(buf, impl->cipher_in.data() + impl->cipher_pos, n);
  impl->cipher_pos += n;
  if (impl->cipher_pos == impl->cipher_in.size()) {
    impl->cipher_in.clear();
    impl->cipher_pos = 0;
  }
  return static_cast<int>(n);
}

int TlsStream::Impl::Verify(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
  // mbedTLS judged validity periods by the real clock; judge them by the runtime's clock
  // instead, so simulated time (and its skew) decides, deterministically.
  auto* impl = static_cast<Impl*>(self);
  *flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
  const int64_t now = impl->rt.UnixNow() / kSecond;
  if (now < UnixSeconds(crt->valid_from)) *flags |= MBEDTLS_X509_BADCERT_FUTURE;
  if (now > UnixSeconds(crt->valid_to)) *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
  const TlsConfig::Impl& c = impl->config->impl();
  if (depth == 0 && c.server_ip && !tls_internal::CertHasIpSan(*crt, *c.server_ip)) {
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    impl->ip_san_missing = true;
  }
  return 0;
}

void TlsStream::Impl::OnData(std::span<const uint8_t> data) {
  MbedClockScope clock(rt);
  if (cipher_pos >= kCompactCipherBytes) {
    cipher_in.erase(cipher_in.begin(), cipher_in.begin() + static_cast<ptrdiff_t>(cipher_pos));
    cipher_pos = 0;
  }
  cipher_in.insert(cipher_in.end(), data.begin(), data.end());
  Pump();
}

void TlsStream::Impl::OnEnd() {
  MbedClockScope clock(rt);
  inner_eof = true;
  Pump();
}

void TlsStream::Impl::OnWritable() {
  if (want_writable && state == State::kOpen && plain_out.empty() && inner->Writable()) {
    want_writable = false;
    if (handler != nullptr) handler->OnWritable();
  }
}

void TlsStream::Impl::OnClosed(CloseReason reason, std::string_view detail) {
  Fail(reason, std::string(detail), InnerAction::kNone);
}

void TlsStream::Impl::Pump() {
  if (state == State::kHandshaking) {
    const int rc = mbedtls_ssl_handshake(&ssl);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
    if (rc != 0) {
      std::string detail = "tls: handshake failed: " + MbedError(rc);
      const uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
      if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0) {
        char info[512];
        mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
        std::string text(info);
        std::replace(text.begin(), text.end(), '\n', ';');
        detail += " (" + text + ")";
        if (ip_san_missing) {
          detail += "; the certificate has no iPAddress subjectAltName for " +
                    config->impl().server_name +
                    " (an IP address never matches the CN or a DNS name: reissue the certificate "
                    "with subjectAltName IP:" +
                    config->impl().server_name + ", or connect by a name it carries)";
        }
      }
      // Close, not reset: the alert mbedTLS queued tells the peer why.
      Fail(CloseReason::kError, detail, InnerAction::kClose);
      return;
    }
    std::weak_ptr<bool> guard = alive;
    HandshakeDone();
    if (guard.expired()) return;
  }
  Deliver();
}

void TlsStream::Impl::HandshakeDone() {
  state = State::kOpen;
  if (handshake_timer != 0) {
    rt.CancelTimer(handshake_timer);
    handshake_timer = 0;
  }
  const char* alpn = mbedtls_ssl_get_alpn_protocol(&ssl);
  alpn_selected = alpn != nullptr ? alpn : "";
  if (rt.trace() != nullptr) {
    rt.trace()->Record(TraceEvent{rt.Now(), std::string(rt.HostName()), inner->Id(),
                                  "tls.handshake", 0, 0, alpn_selected});
  }
  inner->SetReadPaused(read_paused);
  if (!plain_out.empty() && !EncryptPending()) return;
  if (close_wanted) {
    SendCloseNotify();
    state = State::kClosing;
    inner->Close();
    ReleaseIfOrphaned();
  } else if (shutdown_wanted) {
    SendCloseNotify();
    inner->Shutdown();
  }
  if (on_handshake) {
    auto fn = std::move(on_handshake);
    on_handshake = nullptr;
    fn(Status::Ok());  // may destroy this stream; the caller checks
  }
}

void TlsStream::Impl::Deliver() {
  static thread_local std::array<unsigned char, 16384> buf;
  std::weak_ptr<bool> guard = alive;
  while (state == State::kOpen && handler != nullptr && !read_paused) {
    const int rc = mbedtls_ssl_read(&ssl, buf.data(), buf.size());
    if (rc > 0) {
      handler->OnData(std::span<const uint8_t>(buf.data(), static_cast<size_t>(rc)));
      if (guard.expired()) return;
      continue;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
    if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == 0) {
      // close_notify, or the transport's EOF without one (a truncation the layer above can
      // detect by its own framing; many servers skip close_notify).
      if (!end_delivered) {
        end_delivered = true;
        handler->OnEnd();
      }
      return;
    }
    Fail(CloseReason::kError, "tls: " + MbedError(rc), InnerAction::kReset);
    return;
  }
}

void TlsStream::Impl::ScheduleService() {
  if (service_posted) return;
  service_posted = true;
  std::weak_ptr<bool> guard = alive;
  rt.Post([this, guard] {
    if (guard.expired()) return;
    service_posted = false;
    Service();
  });
}

void TlsStream::Impl::Service() {
  MbedClockScope clock(rt);
  if (state == State::kHandshaking) {
    Pump();
    return;
  }
  if (state != State::kOpen) return;
  if (!plain_out.empty() && !EncryptPending()) return;
  std::weak_ptr<bool> guard = alive;
  if (want_writable && inner->Writable() && handler != nullptr) {
    want_writable = false;
    handler->OnWritable();
    if (guard.expired()) return;
  }
  Deliver();
}

bool TlsStream::Impl::EncryptPending() {
  size_t off = 0;
  while (off < plain_out.size()) {
    const int rc = mbedtls_ssl_write(&ssl, plain_out.data() + off, plain_out.size() - off);
    if (rc > 0) {
      off += static_cast<size_t>(rc);
      continue;
    }
    // The send callback never blocks, so any error is fatal. Report it from the loop.
    plain_out.clear();
    const std::string detail = "tls: write failed: " + MbedError(rc);
    std::weak_ptr<bool> guard = alive;
    rt.Post([this, guard, detail] {
      if (!guard.expired()) Fail(CloseReason::kError, detail, InnerAction::kReset);
    });
    return false;
  }
  if (plain_out.capacity() > kRetainPlainBytes) {
    std::vector<uint8_t>().swap(plain_out);
  } else {
    plain_out.clear();
  }
  return true;
}

void TlsStream::Impl::SendCloseNotify() {
  if (close_notify_sent) return;
  close_notify_sent = true;
  mbedtls_ssl_close_notify(&ssl);  // a failure here only loses the alert; the FIN follows
}

void TlsStream::Impl::Fail(CloseReason reason, const std::string& detail, InnerAction action) {
  if (state == State::kDead) return;
  const bool handshaking = state == State::kHandshaking;
  state = State::kDead;
  if (handshake_timer != 0) {
    rt.CancelTimer(handshake_timer);
    handshake_timer = 0;
  }
  if (rt.trace() != nullptr) {
    rt.trace()->Record(TraceEvent{rt.Now(), std::string(rt.HostName()), inner->Id(),
                                  handshaking ? "tls.handshake_failed" : "tls.closed", 0, 0,
                                  detail});
  }
  if (action == InnerAction::kClose) inner->Close();
  if (action == InnerAction::kReset) inner->Reset();
  ReleaseIfOrphaned();
  StreamHandler* h = user_closed ? nullptr : handler;
  handler = nullptr;
  std::weak_ptr<bool> guard = alive;
  if (on_handshake) {
    auto fn = std::move(on_handshake);
    on_handshake = nullptr;
    fn(Status(MakeError("tls_handshake_failed", detail)));
    if (guard.expired()) return;
  }
  if (h != nullptr) h->OnClosed(reason, detail);
}

void TlsStream::Impl::ReleaseIfOrphaned() {
  if (!orphaned || release_posted) return;
  release_posted = true;
  // Not now: we may be deep inside this record's own callbacks.
  rt.Post([this] { delete this; });
}

bool TlsStream::Impl::Write(std::span<const uint8_t> data) {
  if (state == State::kDead || state == State::kClosing || user_closed || shutdown_wanted) {
    return false;
  }
  if (data.empty()) return true;
  plain_out.insert(plain_out.end(), data.begin(), data.end());
  if (BufferedBytes() > kTlsHighWaterBytes) want_writable = true;
  if (state == State::kOpen) ScheduleService();
  return true;
}

bool TlsStream::Impl::Writable() const {
  // Hysteresis as in the inner stream: unwritable from crossing the high-water mark until
  // OnWritable.
  return (state == State::kHandshaking || state == State::kOpen) && !user_closed &&
         !shutdown_wanted && !want_writable && BufferedBytes() <= kTlsHighWaterBytes;
}

void TlsStream::Impl::Shutdown() {
  if (state == State::kDead || state == State::kClosing || user_closed || shutdown_wanted) return;
  shutdown_wanted = true;
  if (state != State::kOpen) return;  // done when the handshake completes
  MbedClockScope clock(rt);
  if (!EncryptPending()) return;
  SendCloseNotify();
  inner->Shutdown();
}

void TlsStream::Impl::Close() {
  if (user_closed) return;
  user_closed = true;
  handler = nullptr;
  on_handshake = nullptr;
  if (state == State::kOpen) {
    MbedClockScope clock(rt);
    if (!EncryptPending()) return;
    SendCloseNotify();
    state = State::kClosing;
    inner->Close();
  } else if (state == State::kHandshaking) {
    if (plain_out.empty()) {
      state = State::kDead;
      inner->Close();
    } else {
      close_wanted = true;  // finish the handshake so the queued plaintext can go out
    }
  }
}

void TlsStream::Impl::Reset() {
  user_closed = true;
  handler = nullptr;
  on_handshake = nullptr;
  if (state == State::kDead) return;
  state = State::kDead;
  plain_out.clear();
  if (handshake_timer != 0) {
    rt.CancelTimer(handshake_timer);
    handshake_timer = 0;
  }
  inner->Reset();
}

void TlsStream::Impl::SetReadPaused(bool paused) {
  read_paused = paused;
  if (state == State::kOpen) {
    inner->SetReadPaused(paused);
    // Records already received (or decrypted) wait in our buffers: deliver them from the loop.
    if (!paused) ScheduleService();
  }
}

void TlsStream::Impl::SetHandler(StreamHandler* h) {
  if (user_closed) return;
  handler = h;
  if (h != nullptr && state == State::kOpen) ScheduleService();
}

// ---- TlsStream ----

TlsStream::TlsStream(Runtime& runtime, std::unique_ptr<Stream> inner,
                     std::shared_ptr<const TlsConfig> config, Rng rng)
    : impl_(std::make_unique<Impl>(runtime, std::move(inner), std::move(config), rng)) {}

TlsStream::~TlsStream() {
  if (impl_->state == Impl::State::kHandshaking && impl_->close_wanted) {
    // Close() promised to deliver the queued plaintext (seam.h); that needs the handshake.
    impl_->orphaned = true;
    impl_.release();  // owned by itself now; see ReleaseIfOrphaned()
  }
}

void TlsStream::SetHandler(StreamHandler* handler) { impl_->SetHandler(handler); }
bool TlsStream::Write(std::span<const uint8_t> data) { return impl_->Write(data); }
bool TlsStream::Write(SharedBytes data) { return impl_->Write(data.span()); }
bool TlsStream::Writable() const { return impl_->Writable(); }
size_t TlsStream::BufferedBytes() const { return impl_->BufferedBytes(); }
void TlsStream::Shutdown() { impl_->Shutdown(); }
void TlsStream::Close() { impl_->Close(); }
void TlsStream::Reset() { impl_->Reset(); }
void TlsStream::SetReadPaused(bool paused) { impl_->SetReadPaused(paused); }
const Address& TlsStream::LocalAddress() const { return impl_->inner->LocalAddress(); }
const Address& TlsStream::PeerAddress() const { return impl_->inner->PeerAddress(); }
uint64_t TlsStream::Id() const { return impl_->inner->Id(); }
bool TlsStream::handshake_done() const {
  return impl_->state == Impl::State::kOpen || impl_->state == Impl::State::kClosing;
}
std::string_view TlsStream::alpn_protocol() const { return impl_->alpn_selected; }
void TlsStream::SetHandshakeCallback(std::function<void(const Status&)> fn) {
  impl_->on_handshake = std::move(fn);
}

Rng TlsRngFor(Runtime& runtime, const Stream& inner) {
  return runtime.ForkRng("tls/" + std::string(runtime.HostName()) + "/" +
                         std::to_string(inner.Id()));
}

}  // namespace wpsim::sim

// mbedTLS 2.28 as built by Debian (MBEDTLS_HAVE_TIME, no MBEDTLS_PLATFORM_TIME_ALT) calls time()
// directly: for the first 4 bytes of every hello random, session timestamps and certificate
// validity. Read there, the wall clock would make simulated TLS bytes (and trace hashes) differ
// between runs. This definition interposes libc's time() for the process (an executable's
// definition takes precedence over libc's for the mbedTLS shared libraries): inside a call
// into mbedTLS made by a TlsStream it returns that stream's Runtime::UnixNow(); everywhere else
// it returns the wall clock, exactly like libc's.
extern "C" time_t time(time_t* out) noexcept {
  time_t now;
  if (const wpsim::sim::Runtime* rt = wpsim::sim::tls_internal::mbedtls_clock; rt != nullptr) {
    now = static_cast<time_t>(rt->UnixNow() / wpsim::sim::kSecond);
  } else {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    now = ts.tv_sec;
  }
  if (out != nullptr) *out = now;
  return now;
}
