// TLS configuration parsing, the Rng-seeded DRBG, and self-signed certificate generation.
#include <arpa/inet.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/version.h>
#include <mbedtls/x509.h>

#include <algorithm>
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

Drbg::Drbg(Rng rng, std::string_view personalization) : rng_(rng) {
  WPSIM_ASSERT(personalization.size() <= 256);
  mbedtls_ctr_drbg_init(&ctx_);
  // Cannot fail with our entropy callback and a personalization string of at most 256 bytes.
  const int rc = mbedtls_ctr_drbg_seed(
      &ctx_, &Drbg::Entropy, this, reinterpret_cast<const unsigned char*>(personalization.data()),
      personalization.size());
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
  impl->server_ip = tls_internal::ParseIpLiteral(options.server_name);
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

std::string_view TlsLibraryVersion() { return MBEDTLS_VERSION_STRING; }

// ---- Certificates ----

namespace {

// Runs an mbedtls_asn1_write_* call (which writes backwards and returns the byte count or a
// negative error) and adds its count to `len`.
#define WPSIM_ASN1_CHECKED(len, call)                                         \
  do {                                                                        \
    const int asn1_rc = (call);                                               \
    if (asn1_rc < 0) return MakeError("cert_generation", MbedError(asn1_rc)); \
    (len) += static_cast<size_t>(asn1_rc);                                    \
  } while (0)

// subjectAltName value: SEQUENCE OF GeneralName, here [2] IA5String dNSName entries followed by
// [7] OCTET STRING iPAddress entries. asn1write writes backwards from the end of the buffer.
Result<std::vector<unsigned char>> EncodeSubjectAltName(
    const std::vector<std::string>& dns_names, const std::vector<std::vector<uint8_t>>& ips) {
  std::vector<unsigned char> buf(64 + dns_names.size() * 300 + ips.size() * 24);
  unsigned char* start = buf.data();
  unsigned char* p = buf.data() + buf.size();
  size_t len = 0;
  for (auto it = ips.rbegin(); it != ips.rend(); ++it) {
    size_t n = 0;
    WPSIM_ASN1_CHECKED(n, mbedtls_asn1_write_raw_buffer(&p, start, it->data(), it->size()));
    WPSIM_ASN1_CHECKED(n, mbedtls_asn1_write_len(&p, start, n));
    WPSIM_ASN1_CHECKED(n, mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
    len += n;
  }
  for (auto it = dns_names.rbegin(); it != dns_names.rend(); ++it) {
    if (it->empty() || it->size() > 253) return MakeError("bad_name", "bad DNS name '" + *it + "'");
    size_t n = 0;
    WPSIM_ASN1_CHECKED(
        n, mbedtls_asn1_write_raw_buffer(
               &p, start, reinterpret_cast<const unsigned char*>(it->data()), it->size()));
    WPSIM_ASN1_CHECKED(n, mbedtls_asn1_write_len(&p, start, n));
    WPSIM_ASN1_CHECKED(n, mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
    len += n;
  }
  WPSIM_ASN1_CHECKED(len, mbedtls_asn1_write_len(&p, start, len));
  WPSIM_ASN1_CHECKED(
      len, mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  return std::vector<unsigned char>(p, p + len);
}

#undef WPSIM_ASN1_CHECKED

// extKeyUsage value: SEQUENCE { id-kp-serverAuth (1.3.6.1.5.5.7.3.1) }.
constexpr unsigned char kExtKeyUsageServerAuth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                                    0x01, 0x05, 0x05, 0x07, 0x03, 0x01};

bool ValidNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == ' ' || c == '*';
}

}  // namespace

namespace tls_internal {

std::optional<std::vector<uint8_t>> ParseIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(host);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return std::vector<uint8_t>(bytes, bytes + 4);
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    return std::vector<uint8_t>(bytes, bytes + 16);
  }
  return std::nullopt;
}

bool CertHasIpSan(const mbedtls_x509_crt& crt, const std::vector<uint8_t>& ip) {
  // v3_ext points at Extensions ::= SEQUENCE OF Extension (some versions: at the [3] wrapper).
  unsigned char* p = crt.v3_ext.p;
  if (p == nullptr) return false;
  const unsigned char* end = p + crt.v3_ext.len;
  size_t len = 0;
  if (*p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
    if (mbedtls_asn1_get_tag(&p, end, &len,
                             MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3) != 0) {
      return false;
    }
    end = p + len;
  }
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
    return false;
  }
  end = p + len;
  while (p < end) {
    // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
        0) {
      return false;
    }
    const unsigned char* ext_end = p + len;
    size_t oid_len = 0;
    if (mbedtls_asn1_get_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID) != 0) return false;
    const bool is_san = oid_len == MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME) &&
                        std::memcmp(p, MBEDTLS_OID_SUBJECT_ALT_NAME, oid_len) == 0;
    p += oid_len;
    if (!is_san) {
      p = const_cast<unsigned char*>(ext_end);
      continue;
    }
    if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN) {
      int critical = 0;
      if (mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0) return false;
    }
    if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0) return false;
    const unsigned char* value_end = p + len;
    if (mbedtls_asn1_get_tag(&p, value_end, &len,
                             MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
      return false;
    }
    const unsigned char* names_end = p + len;
    while (p < names_end) {
      const unsigned char tag = *p++;
      size_t name_len = 0;
      if (mbedtls_asn1_get_len(&p, names_end, &name_len) != 0) return false;
      if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && name_len == ip.size() &&
          std::memcmp(p, ip.data(), name_len) == 0) {
        return true;
      }
      p += name_len;
    }
    return false;  // a certificate has at most one subjectAltName extension
  }
  return false;
}

}  // namespace tls_internal

Result<CertAndKey> IssueCertificate(const CertificateSpec& spec, const CertAndKey* issuer,
                                    Rng& rng) {
  const std::string& common_name = spec.common_name;
  if (common_name.empty()) return MakeError("bad_name", "empty common name");
  for (char c : common_name) {
    // The subject is given to mbedTLS as "CN=<name>": no separators or escapes allowed.
    if (!ValidNameChar(c)) {
      return MakeError("bad_name", "unsupported character in common name '" + common_name + "'");
    }
  }
  std::vector<std::vector<uint8_t>> ips;
  for (const std::string& text : spec.ip_addresses) {
    std::optional<std::vector<uint8_t>> ip = tls_internal::ParseIpLiteral(text);
    if (!ip) return MakeError("bad_name", "'" + text + "' is not an IPv4 or IPv6 address");
    ips.push_back(std::move(*ip));
  }
  if (spec.extra_entropy.size() > 256) {
    return MakeError("cert_generation", "extra_entropy is longer than 256 bytes");
  }
  tls_internal::Drbg drbg(rng, spec.extra_entropy.empty() ? std::string_view("wpsim-tls-drbg")
                                                          : std::string_view(spec.extra_entropy));
  rng.Next();  // the caller's stream moves on, so a second call gives another certificate
  mbedtls_pk_context key;
  mbedtls_pk_init(&key);
  mbedtls_pk_context issuer_key;
  mbedtls_pk_init(&issuer_key);
  mbedtls_x509_crt issuer_crt;
  mbedtls_x509_crt_init(&issuer_crt);
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  auto cleanup = [&] {
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_x509_crt_free(&issuer_crt);
    mbedtls_pk_free(&issuer_key);
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

  const std::string subject = "CN=" + common_name;
  std::string issuer_name = subject;
  mbedtls_pk_context* signing_key = &key;
  if (issuer != nullptr) {
    auto bad_issuer = [&](const std::string& what, int code) -> Result<CertAndKey> {
      cleanup();
      return MakeError("bad_issuer", what + ": " + MbedError(code));
    };
    rc = mbedtls_x509_crt_parse(&issuer_crt,
                                reinterpret_cast<const unsigned char*>(issuer->cert_pem.c_str()),
                                issuer->cert_pem.size() + 1);
    if (rc != 0) return bad_issuer("cannot parse the issuer certificate", rc);
    rc = mbedtls_pk_parse_key(&issuer_key,
                              reinterpret_cast<const unsigned char*>(issuer->key_pem.c_str()),
                              issuer->key_pem.size() + 1, nullptr, 0);
    if (rc != 0) return bad_issuer("cannot parse the issuer key", rc);
    rc = mbedtls_pk_check_pair(&issuer_crt.pk, &issuer_key);
    if (rc != 0) return bad_issuer("the issuer key does not match its certificate", rc);
    char dn[512];
    rc = mbedtls_x509_dn_gets(dn, sizeof(dn), &issuer_crt.subject);
    if (rc < 0) return bad_issuer("cannot read the issuer's subject", rc);
    issuer_name = dn;
    signing_key = &issuer_key;
  }

  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, &key);
  mbedtls_x509write_crt_set_issuer_key(&crt, signing_key);
  if ((rc = mbedtls_x509write_crt_set_subject_name(&crt, subject.c_str())) != 0) {
    return fail("subject", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_issuer_name(&crt, issuer_name.c_str())) != 0) {
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
  if ((rc = mbedtls_x509write_crt_set_basic_constraints(&crt, spec.is_ca ? 1 : 0,
                                                        spec.is_ca ? 0 : -1)) != 0) {
    return fail("basic_constraints", rc);
  }
  const unsigned int key_usage = spec.is_ca
                                     ? MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                           MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
                                     : MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
  if ((rc = mbedtls_x509write_crt_set_key_usage(&crt, key_usage)) != 0) {
    return fail("key_usage", rc);
  }
  if (!spec.is_ca) {
    rc = mbedtls_x509write_crt_set_extension(
        &crt, MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
        kExtKeyUsageServerAuth, sizeof(kExtKeyUsageServerAuth));
    if (rc != 0) return fail("ext_key_usage", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0) {
    return fail("subject_key_identifier", rc);
  }
  if ((rc = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) != 0) {
    return fail("authority_key_identifier", rc);
  }
  if (!spec.dns_names.empty() || !ips.empty()) {
    auto san = EncodeSubjectAltName(spec.dns_names, ips);
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

Status VerifyCertificate(const std::string& cert_pem, const std::string& ca_pem,
                         const std::string& name) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt ca;
  mbedtls_x509_crt_init(&crt);
  mbedtls_x509_crt_init(&ca);
  Status st = ParseCerts(&crt, cert_pem, "certificate");
  if (st.ok()) st = ParseCerts(&ca, ca_pem, "CA certificates");
  if (st.ok()) {
    const std::optional<std::vector<uint8_t>> ip = tls_internal::ParseIpLiteral(name);
    uint32_t flags = 0;
    const int rc = mbedtls_x509_crt_verify(&crt, &ca, nullptr, ip ? nullptr : name.c_str(), &flags,
                                           nullptr, nullptr);
    flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    if (ip && !tls_internal::CertHasIpSan(crt, *ip)) flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    if (flags != 0) {
      char info[512];
      mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
      std::string text(info);
      std::replace(text.begin(), text.end(), '\n', ';');
      st = MakeError("tls_verify", "certificate does not verify for '" + name + "': " + text);
    } else if (rc != 0 && rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
      st = MakeError("tls_verify",
                     "certificate does not verify for '" + name + "': " + MbedError(rc));
    }
  }
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&crt);
  return st;
}

Result<CertAndKey> GenerateSelfSignedCert(std::string_view common_name,
                                          std::vector<std::string> dns_names, Rng& rng) {
  return IssueCertificate(CertificateSpec{.common_name = std::string(common_name),
                                          .dns_names = std::move(dns_names),
                                          .is_ca = true},
                          nullptr, rng);
}

}  // namespace wpsim::sim
