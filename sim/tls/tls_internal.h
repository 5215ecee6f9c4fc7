// Internal to sim/tls: mbedTLS contexts behind the public TLS types.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/tls/tls.h"

namespace wpsim::sim {

namespace tls_internal {

// mbedTLS error code as text: "-0x2700 X509 - Certificate verification failed ...".
std::string MbedError(int code);

// The 4 (IPv4) or 16 (IPv6) address bytes when `host` is an IP literal ("127.0.0.1", "::1",
// "[::1]"); nullopt for a DNS name.
std::optional<std::vector<uint8_t>> ParseIpLiteral(std::string_view host);

// True when the certificate's subjectAltName extension holds an iPAddress entry equal to `ip`
// (RFC 5280 §4.2.1.6; compared byte for byte, as RFC 6125 §6.2.1 and RFC 9110 §4.3.4 require).
// Parses the raw extensions itself: mbedTLS 2.28 keeps only dNSName entries.
bool CertHasIpSan(const mbedtls_x509_crt& crt, const std::vector<uint8_t>& ip);

// A CTR-DRBG whose only entropy source is a sim::Rng: deterministic in simulation. The Rng is
// copied in and lives here, so reseeds draw from the same deterministic stream.
class Drbg {
 public:
  // `personalization` (at most 256 bytes) is mixed into the seed; see CertificateSpec.
  explicit Drbg(Rng rng, std::string_view personalization = "wpsim-tls-drbg");
  ~Drbg();
  Drbg(const Drbg&) = delete;
  Drbg& operator=(const Drbg&) = delete;
  // For mbedtls_*(f_rng, p_rng) parameters.
  static int Random(void* self, unsigned char* out, size_t len);

 private:
  static int Entropy(void* self, unsigned char* out, size_t len);
  Rng rng_;
  mbedtls_ctr_drbg_context ctx_;
};

}  // namespace tls_internal

struct TlsConfig::Impl {
  Impl();
  ~Impl();
  bool server = false;
  bool verify = true;
  std::string server_name;
  // Set when server_name is an IP literal: the certificate must then carry it as an iPAddress
  // subjectAltName (neither the CN nor a dNSName may match it), and no SNI is sent (RFC 6066 §3).
  std::optional<std::vector<uint8_t>> server_ip;
  Nanos handshake_timeout = kTlsHandshakeTimeoutNanos;
  mbedtls_x509_crt ca_chain;  // client: trusted CAs
  mbedtls_x509_crt own_cert;  // server: certificate chain
  mbedtls_pk_context own_key;
  std::vector<std::string> alpn;
  std::vector<const char*> alpn_ptrs;  // nullptr-terminated, into alpn
};

}  // namespace wpsim::sim
