#include "app/dev_tls.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sim/tls/tls.h"

namespace wpsim::app {
namespace {

constexpr char kCaName[] = "wpsim local development CA";
// The names a local client uses for the emulator: what the server certificate must carry.
const std::vector<std::string> kServerDnsNames = {"localhost"};
const std::vector<std::string> kServerIps = {"127.0.0.1", "::1"};

Error DevTlsError(const std::string& message) { return MakeError("dev_tls", message); }

// The file's contents, or nullopt when it does not exist; an error when it exists but cannot
// be read.
Result<std::optional<std::string>> ReadIfPresent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (access(path.c_str(), F_OK) != 0) return std::optional<std::string>();
    return DevTlsError("cannot read " + path + ": " + std::strerror(errno) +
                       " (fix its permissions, or delete it to have it made again)");
  }
  std::ostringstream out;
  out << in.rdbuf();
  return std::optional<std::string>(out.str());
}

// Writes `path` atomically (temporary file in the same directory, then rename) with `mode`.
Status WriteAtomically(const std::string& path, const std::string& contents, mode_t mode) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return DevTlsError("cannot write " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return DevTlsError("cannot write " + tmp + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    unlink(tmp.c_str());
    return DevTlsError("cannot write " + path + ": " + why);
  }
  return Status::Ok();
}

// mkdir -p with mode 0700 for the directories it creates.
Status MakeDirectories(const std::string& directory) {
  for (size_t slash = 1; slash <= directory.size(); ++slash) {
    if (slash != directory.size() && directory[slash] != '/') continue;
    const std::string prefix = directory.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return DevTlsError("cannot create directory " + prefix + ": " + std::strerror(errno));
    }
  }
  struct stat st {};
  if (stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return DevTlsError(directory + " is not a directory");
  }
  return Status::Ok();
}

// A single-quoted shell word when `text` holds anything beyond a safe set of characters.
std::string ShellWord(const std::string& text) {
  bool safe = !text.empty();
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/._-+=:,@%", c) != nullptr)) {
      safe = false;
    }
  }
  if (safe) return text;
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// 32 bytes from the OS for the keys: a CA that Node and Python trust must not be derivable from
// a 64-bit seed.
Result<std::string> OsEntropy() {
  std::string bytes(32, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + done, bytes.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return DevTlsError(std::string("no randomness from the OS (getrandom): ") +
                         std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return bytes;
}

}  // namespace

Result<std::string> DevTlsDirectory() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/wpsim/dev-tls";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/share/wpsim/dev-tls";
  return DevTlsError(
      "neither XDG_DATA_HOME nor HOME is an absolute path: set one, or pass --tls-cert and "
      "--tls-key");
}

Result<DevTlsFiles> EnsureDevTls(const std::string& directory, sim::Rng& rng) {
  DevTlsFiles files;
  files.directory = directory;
  files.ca_cert = directory + "/ca.pem";
  const std::string ca_key = directory + "/ca-key.pem";
  files.server_cert = directory + "/server.pem";
  files.server_key = directory + "/server-key.pem";
  files.ca_bundle = directory + "/ca-bundle.pem";
  if (Status st = MakeDirectories(directory); !st.ok()) return st.error();
  Result<std::string> entropy = OsEntropy();
  if (!entropy.ok()) return entropy.error();

  // The CA: reused when both files are there and belong together.
  auto ca_pem = ReadIfPresent(files.ca_cert);
  if (!ca_pem.ok()) return ca_pem.error();
  auto ca_key_pem = ReadIfPresent(ca_key);
  if (!ca_key_pem.ok()) return ca_key_pem.error();
  sim::CertAndKey ca;
  if (ca_pem->has_value() && ca_key_pem->has_value()) {
    ca = {.cert_pem = **ca_pem, .key_pem = **ca_key_pem};
    // Issuing a throwaway certificate checks that the key matches the CA certificate.
    sim::Rng probe = rng;
    auto check = sim::IssueCertificate({.common_name = "probe"}, &ca, probe);
    if (!check.ok()) {
      return DevTlsError("the development CA in " + directory + " is unusable (" +
                         check.error().message + "): delete " + directory +
                         " to have a new one made (and trust the new ca.pem)");
    }
  } else {
    auto made = sim::IssueCertificate(
        {.common_name = kCaName, .is_ca = true, .extra_entropy = *entropy}, nullptr, rng);
    if (!made.ok()) return made.error();
    ca = made.value();
    if (Status st = WriteAtomically(ca_key, ca.key_pem, 0600); !st.ok()) return st.error();
    if (Status st = WriteAtomically(files.ca_cert, ca.cert_pem, 0644); !st.ok()) return st.error();
    files.created_ca = true;
  }

  // The server certificate: reused when it was signed by this CA for every local name.
  auto server_pem = ReadIfPresent(files.server_cert);
  if (!server_pem.ok()) return server_pem.error();
  auto server_key_pem = ReadIfPresent(files.server_key);
  if (!server_key_pem.ok()) return server_key_pem.error();
  bool reuse = server_pem->has_value() && server_key_pem->has_value();
  if (reuse) {
    for (const auto* names : {&kServerDnsNames, &kServerIps}) {
      for (const std::string& name : *names) {
        if (!sim::VerifyCertificate(**server_pem, ca.cert_pem, name).ok()) reuse = false;
      }
    }
    if (reuse) {
      auto config = sim::TlsConfig::Server(
          {.cert_pem = **server_pem, .key_pem = **server_key_pem});  // the key matches
      reuse = config.ok();
    }
  }
  if (!reuse) {
    auto leaf = sim::IssueCertificate({.common_name = "localhost",
                                       .dns_names = kServerDnsNames,
                                       .ip_addresses = kServerIps,
                                       .extra_entropy = *entropy},
                                      &ca, rng);
    if (!leaf.ok()) return leaf.error();
    if (Status st = WriteAtomically(files.server_key, leaf->key_pem, 0600); !st.ok()) {
      return st.error();
    }
    if (Status st = WriteAtomically(files.server_cert, leaf->cert_pem, 0644); !st.ok()) {
      return st.error();
    }
  }

  // The bundle: the system store (when there is one) followed by the CA.
  auto system = ReadIfPresent(sim::kSystemCaFile);
  std::string bundle = system.ok() && system->has_value() ? **system : std::string();
  if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  bundle += ca.cert_pem;
  if (Status st = WriteAtomically(files.ca_bundle, bundle, 0644); !st.ok()) return st.error();
  return files;
}

std::string DevTlsTrustLine(const DevTlsFiles& files) {
  const std::string bundle = ShellWord(files.ca_bundle);
  return "export NODE_EXTRA_CA_CERTS=" + ShellWord(files.ca_cert) + " SSL_CERT_FILE=" + bundle +
         " REQUESTS_CA_BUNDLE=" + bundle;
}

}  // namespace wpsim::app
