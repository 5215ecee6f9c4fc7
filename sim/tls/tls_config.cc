// TLS configuration parsing, the Rng-seeded DRBG, and self-signed certificate generation.
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509.h>

#include <cstdio>
#include <cstring>

#include "sim/tls/tls_internal.h"

namespace wpsim::sim {
namespace tls_internal {

std::string MbedError(int code) {
  char buf[200];
  mbedtls_strerror(code, buf, sizeof(buf));
  char head[32];
  std::snprintf(head, sizeof(head), "-0x%04x ", static_cast<unsigned>(-code));
  return std::string(head) + buf;
}

Drbg::Drbg(Rng rng) : rng_(rng) {
  mbedtls_ctr_drbg_init(&ctx_);
  static constexpr unsigned char kPersonalization[] = "wpsim-tls-drbg";
  // Cannot fail with our entropy callback and a short personalization string.
  const int rc = mbedtls_ctr_drbg_seed(&ctx_, &Drbg::Entropy, this, kPersonalization,
                                       sizeof(kPersonalization) - 1);
  WPSIM_ASSERT(rc == 0);
}

Drbg::~Drbg() { mbedtls_ctr_drbg_free(&ctx_); }

int Drbg::Entropy(void* self, unsigned char* out, size_t len) {
  auto* d = static_cast<Drbg*>(self);
  while (len > 0) {
    const uint64_t word = d->rng_.Next();
    const size_t n = len < 8 ? len : 8;
    std::memcpy(out, &word, n);
    out += n;
    len -= n;
  }
  return 0;
}

int Drbg::Random(void* self, unsigned char* out, size_t len) {
  return mbedtls_ctr_drbg_random(&static_cast<Drbg*>(self)->ctx_, out, len);
}

}  // namespace tls_internal

using tls_internal::MbedError;

namespace {

// PEM parsing needs a NUL-terminated buffer whose length includes the NUL.
Status ParseCerts(mbedtls_x509_crt* chain, const std::string& pem, const std::string& what) {
  const int rc = mbedtls_x509_crt_parse(chain, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                        pem.size() + 1);
  if (rc < 0) return MakeError("tls_config", "cannot parse " + what + ": " + MbedError(rc));
  if (chain->version == 0) return MakeError("tls_config", what + " holds no certificate");
  return Status::Ok();
}

Status ParseCertFile(mbedtls_x509_crt* chain, const std::string& path, const std::string& what) {
  // Returns the number of certificates that failed to parse; a bundle with a few exotic
  // entries is still usable if some parsed.
  const int rc = mbedtls_x509_crt_parse_file(chain, path.c_str());
  if (rc < 0) {
    return MakeError("tls_config", "cannot read " + what + " '" + path + "': " + MbedError(rc));
  }
  if (chain->version == 0) return MakeError("tls_config", what + " '" + path + "' is empty");
  return Status::Ok();
}

void SetAlpn(TlsConfig::Impl& impl, const std::vector<std::string>& alpn) {
  impl.alpn = alpn;
  impl.alpn_ptrs.clear();
  for (const auto& p : impl.alpn) impl.alpn_ptrs.push_back(p.c_str());
  impl.alpn_ptrs.push_back(nullptr);
}

}  // namespace

TlsConfig::Impl::Impl() {
  mbedtls_x509_crt_init(&ca_chain);
  mbedtls_x509_crt_init(&own_cert);
  mbedtls_pk_init(&own_key);
}

TlsConfig::Impl::~Impl() {
  mbedtls_x509_crt_free(&ca_chain);
  mbedtls_x509_crt_free(&own_cert);
  mbedtls_pk_free(&own_key);
}

TlsConfig::TlsConfig(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsConfig::~TlsConfig() = default;
bool TlsConfig::is_server() const { return impl_->server; }

Result<std::shared_ptr<const TlsConfig>> TlsConfig::Client(const TlsClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->server = false;
  impl->verify = options.verify;
  impl->server_name = options.server_name;
  impl->handshake_timeout = options.handshake_timeout;
  if (options.verify) {
    if (options.server_name.empty()) {
      return MakeError("tls_config", "verification needs a server_name to check");
    }
    Status st = options.ca_pem.empty()
                    ? ParseCertFile(&impl->ca_chain, options.ca_file, "CA file")
                    : ParseCerts(&impl->ca_chain, options.ca_pem, "CA certificates");
    if (!st.ok()) return st.error();
  }
  SetAlpn(*impl, options.alpn);
  return std::shared_ptr<const TlsConfig>(new TlsConfig(std::move(impl)));
}

Result<std::shared_ptr<const TlsConfig>> TlsConfig::Server(const TlsServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->server = true;
  impl->handshake_timeout = options.handshake_timeout;
  Status st = !options.cert_pem.empty()
                  ? ParseCerts(&impl->own_cert, options.cert_pem, "certificate")
                  : (!options.cert_file.empty()
                         ? ParseCertFile(&impl->own_cert, options.cert_file, "certificate file")
                         : Status(MakeError("tls_config", "a server needs a certificate")));
  if (!st.ok()) return st.error();
  int rc = 0;
  if (!options.key_pem.empty()) {
    rc = mbedtls_pk_parse_key(&impl->own_key,
                              reinterpret_cast<const unsigned char*>(options.key_pem.c_str()),
                              options.key_pem.size() + 1, nullptr, 0);
  } else if (!options.key_file.empty()) {
    rc = mbedtls_pk_parse_keyfile(&impl->own_key, options.key_file.c_str(), nullptr);
  } else {
    return MakeError("tls_config", "a server needs a private key");
  }
  if (rc != 0) return MakeError("tls_config", "cannot parse private key: " + MbedError(rc));
  rc = mbedtls_pk_check_pair(&impl->own_cert.pk, &impl->own_key);
  if (rc != 0) {
    return MakeError("tls_config", "private key does not match certificate: " + MbedError(rc));
  }
  SetAlpn(*impl, options.alpn);
  return std::shared_ptr<const TlsConfig>(new TlsConfig(std::move(impl)));
}

// ---- Self-signed certificates ----

namespace {

// subjectAltName value: SEQUENCE OF [2] IA5String dNSName. asn1write writes backwards from the
// end of the buffer.
Result<std::vector<unsigned char>> EncodeDnsSan(const std::vector<std::string>& dns_names) {
  std::vector<unsigned char> buf(64 + dns_names.size() * 300);
  unsigned char* start = buf.data();
  unsigned char* p = buf.data() + buf.size();
  size_t len = 0;
  for (auto it = dns_names.rbegin(); it != dns_names.rend(); ++it) {
    if (it->empty() || it->size() > 253) return MakeError("bad_name", "bad DNS name '" + *it + "'");
    size_t n = 0;
    int rc = mbedtls_asn1_write_raw_buffer(
        &p, start, reinterpret_cast<const unsigned char*>(it->data()), it->size());
    if (rc < 0) return MakeError("cert_generation", MbedError(rc));
    n += static_cast<size_t>(rc);
    rc = mbedtls_asn1_write_len(&p, start, n);
    if (rc < 0) return MakeError("cert_generation", MbedError(rc));
    n += static_cast<size_t>(rc);
    rc = mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);
    if (rc < 0) return MakeError("cert_generation", MbedError(rc));
    n += static_cast<size_t>(rc);
    len += n;
  }
  int rc = mbedtls_asn1_write_len(&p, start, len);
  if (rc < 0) return MakeError("cert_generation", MbedError(rc));
  len += static_cast<size_t>(rc);
  rc = mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  if (rc < 0) return MakeError("cert_generation", MbedError(rc));
  len += static_cast<size_t>(rc);
  return std::vector<unsigned char>(p, p + len);
}

bool ValidNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == ' ' || c == '*';
}

}  // namespace

Result<CertAndKey> GenerateSelfSignedCert(std::string_view common_name,
                                          std::vector<std::string> dns_names, Rng& rng) {
  if (common_name.empty()) return MakeError("bad_name", "empty common name");
  for (char c : common_name) {
    // The subject is given to mbedTLS as "CN=<name>": no separators or escapes allowed.
    if (!ValidNameChar(c)) {
      return MakeError("bad_name",
                       "unsupported character in common name '" + std::string(common_name) + "'");
    }
  }
  tls_internal::Drbg drbg(rng);
  rng.Next();  // the caller's stream moves on, so a second call gives another certificate
  mbedtls_pk_context key;
  mbedtls_pk_init(&key);
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  auto cleanup = [&] {
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
  };
  auto fail = [&](const char* step, int rc) -> Result<CertAndKey> {
    cleanup();
    return MakeError("cert_generation", std::string(step) + ": " + MbedError(rc));
  };

  int rc = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc != 0) return fail("pk_setup", rc);
  rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                           &tls_internal::Drbg::Random, &drbg);
  if (rc != 0) return fail("ecp_gen_key", rc);

  const std::string subject = "CN=" + std::string(common_name);
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, &key);
  mbedtls_x509write_crt_set_issuer_key(&crt, &key);
  if ((rc = mbedtls_x509write_crt_set_subject_name(&crt, subject.c_str())) != 0) {
    return fail("subject", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_issuer_name(&crt, subject.c_str())) != 0) {
    return fail("issuer", rc);
  }
  unsigned char serial_bytes[16];
  tls_internal::Drbg::Random(&drbg, serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;  // positive
  serial_bytes[0] |= 0x01;  // and not zero
  if ((rc = mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof(serial_bytes))) != 0) {
    return fail("serial", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_serial(&crt, &serial)) != 0) return fail("serial", rc);
  if ((rc = mbedtls_x509write_crt_set_validity(&crt, "19700101000000", "20991231235959")) != 0) {
    return fail("validity", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0)) != 0) {
    return fail("basic_constraints", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_key_usage(
           &crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_CERT_SIGN)) != 0) {
    return fail("key_usage", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0) {
    return fail("subject_key_identifier", rc);
  }
  if (!dns_names.empty()) {
    auto san = EncodeDnsSan(dns_names);
    if (!san.ok()) {
      cleanup();
      return san.error();
    }
    rc = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                             san->data(), san->size());
    if (rc != 0) return fail("subject_alt_name", rc);
  }

  std::vector<unsigned char> pem(8192);
  rc = mbedtls_x509write_crt_pem(&crt, pem.data(), pem.size(), &tls_internal::Drbg::Random, &drbg);
  if (rc != 0) return fail("write certificate", rc);
  CertAndKey out;
  out.cert_pem = reinterpret_cast<const char*>(pem.data());
  std::fill(pem.begin(), pem.end(), 0);
  rc = mbedtls_pk_write_key_pem(&key, pem.data(), pem.size());
  if (rc != 0) return fail("write key", rc);
  out.key_pem = reinterpret_cast<const char*>(pem.data());
  cleanup();
  return out;
}

}  // namespace wpsim::sim
