// The development CA of `wpsim serve --tls` (app/dev_tls.h): made once, reused, repaired when a
// file is missing, and refused with a fix when the CA itself is broken.
#include "app/dev_tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/tls/tls.h"

namespace wpsim::app {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class DevTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wpsim-dev-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data/wpsim/dev-tls";
  }
  void TearDown() override { fs::remove_all(root_); }

  DevTlsFiles Ensure(uint64_t seed) {
    sim::Rng rng(seed);
    Result<DevTlsFiles> files = EnsureDevTls(dir_, rng);
    EXPECT_TRUE(files.ok()) << files.error().message;
    return files.ok() ? files.value() : DevTlsFiles{};
  }

  std::string root_;
  std::string dir_;
};

TEST_F(DevTlsTest, FirstCallMakesACaAndAServerCertificateForEveryLocalName) {
  const DevTlsFiles files = Ensure(1);
  EXPECT_TRUE(files.created_ca);
  EXPECT_EQ(files.ca_cert, dir_ + "/ca.pem");
  const std::string ca = Read(files.ca_cert);
  const std::string server = Read(files.server_cert);
  for (const char* name : {"localhost", "127.0.0.1", "::1"}) {
    Status st = sim::VerifyCertificate(server, ca, name);
    EXPECT_TRUE(st.ok()) << name << ": " << st.error().message;
  }
  EXPECT_FALSE(sim::VerifyCertificate(server, ca, "example.org").ok());
  // The bundle holds the CA after the system store; keys are private to the user.
  const std::string bundle = Read(files.ca_bundle);
  EXPECT_NE(bundle.find(ca), std::string::npos);
  EXPECT_GT(bundle.size(), ca.size());
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/ca-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(DevTlsTest, LaterCallsReuseTheCaAndTheServerCertificate) {
  const DevTlsFiles first = Ensure(1);
  const std::string ca = Read(first.ca_cert);
  const std::string server = Read(first.server_cert);
  const DevTlsFiles second = Ensure(2);
  EXPECT_FALSE(second.created_ca);
  EXPECT_EQ(Read(second.ca_cert), ca);
  EXPECT_EQ(Read(second.server_cert), server);
}

TEST_F(DevTlsTest, AMissingServerCertificateIsIssuedAgainByTheSameCa) {
  const DevTlsFiles first = Ensure(1);
  const std::string ca = Read(first.ca_cert);
  const std::string server = Read(first.server_cert);
  fs::remove(first.server_cert);
  const DevTlsFiles second = Ensure(2);
  EXPECT_FALSE(second.created_ca);
  EXPECT_EQ(Read(second.ca_cert), ca);
  EXPECT_NE(Read(second.server_cert), server);
  EXPECT_TRUE(sim::VerifyCertificate(Read(second.server_cert), ca, "127.0.0.1").ok());
}

TEST_F(DevTlsTest, AServerCertificateOfAnotherCaIsReplaced) {
  const DevTlsFiles first = Ensure(1);
  sim::Rng rng(7);
  auto other_ca = sim::IssueCertificate({.common_name = "other", .is_ca = true}, nullptr, rng);
  ASSERT_TRUE(other_ca.ok());
  auto foreign = sim::IssueCertificate({.common_name = "localhost",
                                        .dns_names = {"localhost"},
                                        .ip_addresses = {"127.0.0.1", "::1"}},
                                       &other_ca.value(), rng);
  ASSERT_TRUE(foreign.ok());
  std::ofstream(first.server_cert) << foreign->cert_pem;
  std::ofstream(first.server_key) << foreign->key_pem;
  const DevTlsFiles second = Ensure(2);
  EXPECT_TRUE(sim::VerifyCertificate(Read(second.server_cert), Read(second.ca_cert), "::1").ok());
}

TEST_F(DevTlsTest, ABrokenCaIsRefusedWithTheFix) {
  const DevTlsFiles first = Ensure(1);
  std::ofstream(dir_ + "/ca-key.pem") << "not a key";
  sim::Rng rng(3);
  Result<DevTlsFiles> again = EnsureDevTls(dir_, rng);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "dev_tls");
  EXPECT_NE(again.error().message.find("delete " + dir_), std::string::npos)
      << again.error().message;
}

TEST(DevTlsDirectory, FollowsXdgDataHomeThenHome) {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  const std::string saved_xdg = xdg ? xdg : "";
  const std::string saved_home = home ? home : "";
  setenv("XDG_DATA_HOME", "/x/data", 1);
  EXPECT_EQ(DevTlsDirectory().value(), "/x/data/wpsim/dev-tls");
  setenv("XDG_DATA_HOME", "relative/ignored", 1);  // the XDG spec: relative paths are invalid
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(DevTlsDirectory().value(), "/home/u/.local/share/wpsim/dev-tls");
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  EXPECT_FALSE(DevTlsDirectory().ok());
  if (xdg) setenv("XDG_DATA_HOME", saved_xdg.c_str(), 1);
  if (home) setenv("HOME", saved_home.c_str(), 1);
}

TEST(DevTlsTrustLine, NamesTheCaForNodeAndTheBundleForPython) {
  DevTlsFiles files{.directory = "/d",
                    .ca_cert = "/d/ca.pem",
                    .server_cert = "/d/server.pem",
                    .server_key = "/d/server-key.pem",
                    .ca_bundle = "/d/my bundle.pem"};
  EXPECT_EQ(DevTlsTrustLine(files),
            "export NODE_EXTRA_CA_CERTS=/d/ca.pem SSL_CERT_FILE='/d/my bundle.pem' "
            "REQUESTS_CA_BUNDLE='/d/my bundle.pem'");
}

}  // namespace
}  // namespace wpsim::app
