// Internal to sim/tls: mbedTLS contexts behind the public TLS types.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <string>
#include <vector>

#include "sim/tls/tls.h"

namespace wpsim::sim {

namespace tls_internal {

// mbedTLS error code as text: "-0x2700 X509 - Certificate verification failed ...".
std::string MbedError(int code);

// A CTR-DRBG whose only entropy source is a sim::Rng: deterministic in simulation. The Rng is
// copied in and lives here, so reseeds draw from the same deterministic stream.
class Drbg {
 public:
  explicit Drbg(Rng rng);
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
  Nanos handshake_timeout = kTlsHandshakeTimeoutNanos;
  mbedtls_x509_crt ca_chain;  // client: trusted CAs
  mbedtls_x509_crt own_cert;  // server: certificate chain
  mbedtls_pk_context own_key;
  std::vector<std::string> alpn;
  std::vector<const char*> alpn_ptrs;  // nullptr-terminated, into alpn
};

}  // namespace wpsim::sim
