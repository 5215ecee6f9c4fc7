// Server identity checks of the TLS client (sim/tls): DNS names, IP-literal hosts against
// iPAddress subjectAltNames (RFC 6125 §6.2.1, RFC 9110 §4.3.4), and certificates issued by a
// generated CA (what `wpsim serve --tls` makes), over UvRuntime loopback TCP.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sim/tls/tls.h"
#include "sim/tls/tls_internal.h"
#include "sim/uv/uv_runtime.h"
#include "tests/uv/uv_test_util.h"

namespace wpsim::sim {
namespace {

using testing::Recorder;

CertAndKey Issue(uint64_t seed, CertificateSpec spec, const CertAndKey* issuer) {
  Rng rng(seed);
  auto cert = IssueCertificate(spec, issuer, rng);
  EXPECT_TRUE(cert.ok()) << cert.error().message;
  return cert.ok() ? cert.value() : CertAndKey{};
}

CertAndKey DevCa(uint64_t seed = 1) {
  return Issue(seed, {.common_name = "wpsim test CA", .is_ca = true}, nullptr);
}

// Serves `leaf` on 127.0.0.1 and dials it, verifying against `ca_pem` under `server_name`.
// Returns the dial's status (its error message when the handshake failed).
Status HandshakeWith(const CertAndKey& leaf, const std::string& ca_pem,
                     const std::string& server_name) {
  UvRuntime rt(UvRuntimeOptions{.seed = 5});
  auto server_config =
      TlsConfig::Server(TlsServerOptions{.cert_pem = leaf.cert_pem, .key_pem = leaf.key_pem});
  if (!server_config.ok()) return server_config.error();
  std::vector<std::unique_ptr<Stream>> accepted;
  auto listener = ListenTls(rt, Address{"127.0.0.1", 0}, server_config.value(),
                            [&](std::unique_ptr<Stream> s) { accepted.push_back(std::move(s)); });
  if (!listener.ok()) return listener.error();
  auto client_config =
      TlsConfig::Client(TlsClientOptions{.server_name = server_name, .ca_pem = ca_pem});
  if (!client_config.ok()) return client_config.error();
  std::optional<Result<std::unique_ptr<Stream>>> result;
  DialTls(rt, (*listener)->address(), client_config.value(),
          [&](Result<std::unique_ptr<Stream>> r) { result.emplace(std::move(r)); });
  if (!rt.RunUntil([&] { return result.has_value(); }, 10 * kSecond)) {
    return MakeError("test_timeout", "dial did not finish");
  }
  if (!result->ok()) return result->error();
  return Status::Ok();
}

TEST(TlsIpLiteralHost, VerifiesAgainstAnIpAddressSubjectAltName) {
  // The ordinary development certificate of issue 18: CN=localhost, SAN IP:127.0.0.1.
  const CertAndKey ca = DevCa();
  const CertAndKey leaf = Issue(
      2, {.common_name = "localhost", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}},
      &ca);
  Status st = HandshakeWith(leaf, ca.cert_pem, "127.0.0.1");
  EXPECT_TRUE(st.ok()) << st.error().message;
  st = HandshakeWith(leaf, ca.cert_pem, "localhost");  // the DNS name still matches
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST(TlsIpLiteralHost, SelfSignedCertificateWithAnIpSanIsItsOwnTrustAnchor) {
  const CertAndKey self =
      Issue(3, {.common_name = "localhost", .ip_addresses = {"127.0.0.1"}, .is_ca = true}, nullptr);
  Status st = HandshakeWith(self, self.cert_pem, "127.0.0.1");
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST(TlsIpLiteralHost, IPv6LiteralsMatchWithOrWithoutBrackets) {
  const CertAndKey ca = DevCa();
  const CertAndKey leaf =
      Issue(4, {.common_name = "localhost", .ip_addresses = {"127.0.0.1", "::1"}}, &ca);
  // The dial goes to 127.0.0.1; the name checked is independent of the address dialled.
  Status st = HandshakeWith(leaf, ca.cert_pem, "::1");
  EXPECT_TRUE(st.ok()) << st.error().message;
  st = HandshakeWith(leaf, ca.cert_pem, "[::1]");
  EXPECT_TRUE(st.ok()) << st.error().message;
  st = HandshakeWith(leaf, ca.cert_pem, "::2");
  EXPECT_FALSE(st.ok());
}

TEST(TlsIpLiteralHost, CommonNameSpellingTheAddressDoesNotMatch) {
  const CertAndKey ca = DevCa();
  const CertAndKey leaf = Issue(5, {.common_name = "127.0.0.1"}, &ca);
  Status st = HandshakeWith(leaf, ca.cert_pem, "127.0.0.1");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "tls_handshake_failed");
  EXPECT_NE(st.error().message.find("no iPAddress subjectAltName for 127.0.0.1"), std::string::npos)
      << st.error().message;
}

TEST(TlsIpLiteralHost, DnsNameSpellingTheAddressDoesNotMatch) {
  const CertAndKey ca = DevCa();
  const CertAndKey leaf = Issue(6, {.common_name = "x", .dns_names = {"127.0.0.1"}}, &ca);
  Status st = HandshakeWith(leaf, ca.cert_pem, "127.0.0.1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("iPAddress"), std::string::npos) << st.error().message;
}

TEST(TlsIpLiteralHost, AnotherAddressDoesNotMatch) {
  const CertAndKey ca = DevCa();
  const CertAndKey leaf =
      Issue(7, {.common_name = "localhost", .ip_addresses = {"127.0.0.2", "::1"}}, &ca);
  Status st = HandshakeWith(leaf, ca.cert_pem, "127.0.0.1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("127.0.0.1"), std::string::npos) << st.error().message;
}

TEST(TlsIpLiteralHost, AnIpSanDoesNotStandInForAnUntrustedIssuer) {
  const CertAndKey ca = DevCa(1);
  const CertAndKey other_ca = DevCa(9);
  const CertAndKey leaf =
      Issue(8, {.common_name = "localhost", .ip_addresses = {"127.0.0.1"}}, &ca);
  Status st = HandshakeWith(leaf, other_ca.cert_pem, "127.0.0.1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not correctly signed"), std::string::npos)
      << st.error().message;
}

TEST(TlsIpLiteralHost, DnsNamesStillNeedADnsMatch) {
  const CertAndKey ca = DevCa();
  const CertAndKey leaf = Issue(10, {.common_name = "x", .ip_addresses = {"127.0.0.1"}}, &ca);
  Status st = HandshakeWith(leaf, ca.cert_pem, "localhost");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("CN"), std::string::npos) << st.error().message;
}

TEST(TlsIpLiteral, ParsesIPv4AndIPv6AndRejectsNames) {
  using tls_internal::ParseIpLiteral;
  EXPECT_EQ(ParseIpLiteral("127.0.0.1"), (std::vector<uint8_t>{127, 0, 0, 1}));
  std::vector<uint8_t> loopback6(16, 0);
  loopback6[15] = 1;
  EXPECT_EQ(ParseIpLiteral("::1"), loopback6);
  EXPECT_EQ(ParseIpLiteral("[::1]"), loopback6);
  EXPECT_EQ(ParseIpLiteral("localhost"), std::nullopt);
  EXPECT_EQ(ParseIpLiteral("127.0.0.1.example"), std::nullopt);
  EXPECT_EQ(ParseIpLiteral("127.1"), std::nullopt);  // inet_pton: dotted quads only
  EXPECT_EQ(ParseIpLiteral(""), std::nullopt);
  EXPECT_EQ(ParseIpLiteral("[]"), std::nullopt);
}

TEST(TlsIssueCertificate, LeafIsSignedByItsCaAndRejectsBadInput) {
  const CertAndKey ca = DevCa();
  Rng rng(11);
  EXPECT_EQ(IssueCertificate({.common_name = "localhost", .ip_addresses = {"not-an-ip"}}, &ca, rng)
                .error()
                .code,
            "bad_name");
  const CertAndKey garbage{.cert_pem = "garbage", .key_pem = ca.key_pem};
  EXPECT_EQ(IssueCertificate({.common_name = "localhost"}, &garbage, rng).error().code,
            "bad_issuer");
  const CertAndKey wrong_key{.cert_pem = ca.cert_pem, .key_pem = DevCa(12).key_pem};
  EXPECT_EQ(IssueCertificate({.common_name = "localhost"}, &wrong_key, rng).error().code,
            "bad_issuer");
  // Same seed, same issuer: the same certificate.
  const CertAndKey a = Issue(13, {.common_name = "localhost", .ip_addresses = {"::1"}}, &ca);
  const CertAndKey b = Issue(13, {.common_name = "localhost", .ip_addresses = {"::1"}}, &ca);
  EXPECT_EQ(a.cert_pem, b.cert_pem);
}

}  // namespace
}  // namespace wpsim::sim
