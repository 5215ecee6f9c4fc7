// TLS streams on mbedTLS 2.28 (TLS 1.2), usable over any runtime: a TlsStream wraps any
// sim::Stream (a UvRuntime TCP stream or a SimRuntime simulated stream) and is a sim::Stream.
//
// Theory of operation. A TlsStream is the handler of its inner stream. Ciphertext from the inner
// stream is buffered and fed to mbedTLS through its receive callback; mbedTLS's send callback
// writes ciphertext straight into the inner stream (which buffers without limit and coalesces
// per turn). States: kHandshaking → kOpen → (Shutdown: close_notify + inner Shutdown) →
// kClosing (Close: close_notify + inner Close; no more calls) or kDead (error, peer reset, Reset).
// Plaintext written during a turn is collected and encrypted once, in a function posted to the
// runtime, so many small frames become one TLS record (up to 16 KiB each) instead of one each.
// Plaintext written before the handshake completes waits for it.
//
// Determinism. mbedTLS draws randomness from a per-stream CTR-DRBG seeded only from the sim::Rng
// the stream is given (never from the OS entropy source), and certificate validity is checked
// against Runtime::UnixNow(), not the wall clock. mbedTLS 2.28 also calls time() itself (the
// first 4 bytes of each TLS 1.2 hello random, session timestamps): tls_stream.cc interposes
// time() so that, during a TlsStream's calls into mbedTLS, it returns that stream's runtime
// clock (and the wall clock everywhere else, as libc's does). So a simulated TLS run is
// reproducible bit for bit, ciphertext included.
//
// Errors: a failed handshake or a broken record ends the stream with OnClosed(kError, detail),
// the detail starting with "tls:". DialTls reports errors with code "tls_handshake_failed" (or
// the TCP dial's error code).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sim/rng.h"
#include "sim/seam.h"

namespace wpsim::sim {

inline constexpr char kSystemCaFile[] = "/etc/ssl/certs/ca-certificates.crt";
// Writable() turns false above this many buffered bytes (plaintext plus inner ciphertext).
inline constexpr size_t kTlsHighWaterBytes = size_t{1} << 20;
// By default, a handshake that has not completed after this long fails with kTimeout.
inline constexpr Nanos kTlsHandshakeTimeoutNanos = 10 * kSecond;

struct TlsClientOptions {
  // The name the certificate must carry when verifying. A DNS name is sent as SNI and matched
  // against dNSName SANs (or the CN). An IP literal ("127.0.0.1", "::1") is not sent as SNI and
  // must appear as an iPAddress SAN (RFC 6125 §6.2.1, RFC 9110 §4.3.4): the CN and dNSNames never
  // match an address, as in browsers, Node, Python and curl.
  std::string server_name;
  // Trusted CA certificates as PEM (one or more). When empty, ca_file is read.
  std::string ca_pem;
  std::string ca_file = kSystemCaFile;
  // false accepts any certificate. Only for tests against throwaway endpoints.
  bool verify = true;
  std::vector<std::string> alpn;  // e.g. {"http/1.1"}; empty: no ALPN extension
  Nanos handshake_timeout = kTlsHandshakeTimeoutNanos;
};

struct TlsServerOptions {
  // Certificate chain (leaf first) and private key as PEM; when empty, read from the files.
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;
  std::string key_file;
  std::vector<std::string> alpn;  // protocols the server accepts, in preference order
  Nanos handshake_timeout = kTlsHandshakeTimeoutNanos;
};

// Parsed certificates, keys and options; immutable once made, shared by any number of streams.
class TlsConfig {
 public:
  static Result<std::shared_ptr<const TlsConfig>> Client(const TlsClientOptions& options);
  static Result<std::shared_ptr<const TlsConfig>> Server(const TlsServerOptions& options);
  ~TlsConfig();
  TlsConfig(const TlsConfig&) = delete;
  TlsConfig& operator=(const TlsConfig&) = delete;

  bool is_server() const;
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit TlsConfig(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class TlsStream final : public Stream {
 public:
  // Wraps `inner` (which must be open and have no handler yet). The handshake starts on the
  // runtime's next turn. `rng` seeds this stream's DRBG: pass runtime.ForkRng(<unique name>),
  // or use TlsRngFor() below.
  TlsStream(Runtime& runtime, std::unique_ptr<Stream> inner,
            std::shared_ptr<const TlsConfig> config, Rng rng);
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // sim::Stream
  void SetHandler(StreamHandler* handler) override;
  bool Write(std::span<const uint8_t> data) override;
  bool Write(SharedBytes data) override;
  bool Writable() const override;
  size_t BufferedBytes() const override;
  void Shutdown() override;
  void Close() override;
  void Reset() override;
  void SetReadPaused(bool paused) override;
  const Address& LocalAddress() const override;
  const Address& PeerAddress() const override;
  uint64_t Id() const override;

  bool handshake_done() const;
  // The protocol the peers agreed on with ALPN; empty when none.
  std::string_view alpn_protocol() const;
  // fn(status) runs once, on the loop, when the handshake completes or fails (before
  // OnClosed in the failure case). Replaces an earlier callback.
  void SetHandshakeCallback(std::function<void(const Status&)> fn);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The DRBG seed stream for a TLS stream over `inner` on `runtime`: unique per host and stream.
Rng TlsRngFor(Runtime& runtime, const Stream& inner);

// Dials `address`, then completes a TLS client handshake before calling on_done with the
// TlsStream. If the runtime is destroyed while the handshake is in progress, on_done is not
// called (and the half-made stream is leaked; do not destroy a runtime mid-handshake).
void DialTls(Runtime& runtime, const Address& address, std::shared_ptr<const TlsConfig> config,
             DialFn on_done);

// Listens on `address`; each accepted connection is handed to on_accept only after its TLS
// server handshake succeeded. Failed handshakes are dropped. Destroying the listener stops
// listening and drops connections still in their handshake; accepted streams live on.
Result<std::unique_ptr<Listener>> ListenTls(Runtime& runtime, const Address& address,
                                            std::shared_ptr<const TlsConfig> config,
                                            AcceptFn on_accept);

// The mbedTLS version linked in, e.g. "2.28.3" (for `wpsim --version`).
std::string_view TlsLibraryVersion();

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// What IssueCertificate puts in a certificate.
struct CertificateSpec {
  std::string common_name;                // the subject is "CN=<common_name>"
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries ("127.0.0.1", "::1")
  // true: a CA (basicConstraints CA:TRUE, keyUsage keyCertSign and cRLSign as well).
  // false: a server certificate (CA:FALSE, keyUsage digitalSignature, extKeyUsage serverAuth).
  bool is_ca = false;
  // Secret bytes mixed into the key generation on top of `rng` (the DRBG's personalization
  // string, at most 256 bytes): OS randomness for a key that guards something real, such as a
  // CA users trust. Empty: the certificate depends on `rng` alone (tests, simulation).
  std::string extra_entropy;
};

// A certificate for `spec` with a new EC P-256 key, signed with ECDSA-SHA256 by `issuer` (a CA
// certificate and its key, e.g. one made by this function) or, when `issuer` is null, by its own
// key. Valid from 1970-01-01 to 2099-12-31 (so it verifies at any simulated or real time); carries
// subject and authority key identifiers. All randomness (key, serial, signature) comes from `rng`:
// the same seed gives the same certificate. Errors: "bad_name", "bad_issuer", "cert_generation".
Result<CertAndKey> IssueCertificate(const CertificateSpec& spec, const CertAndKey* issuer,
                                    Rng& rng);

// Ok when `cert_pem` (its first certificate) is signed by a certificate in `ca_pem` and carries
// `name` under the client's rules (TlsClientOptions::server_name); validity dates are not
// judged. The error ("tls_verify") says what is wrong, in mbedTLS's words.
Status VerifyCertificate(const std::string& cert_pem, const std::string& ca_pem,
                         const std::string& name);

// A self-signed certificate for `common_name` with the DNS names as subjectAltName, marked as a CA
// so it can be its own trust anchor: IssueCertificate({common_name, dns_names, {}, true}).
// For tests and quick dev use.
Result<CertAndKey> GenerateSelfSignedCert(std::string_view common_name,
                                          std::vector<std::string> dns_names, Rng& rng);

}  // namespace wpsim::sim
