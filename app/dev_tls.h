// The local development certificate authority behind `wpsim serve --tls` (no files given).
//
// Made once per user and reused: a CA ("wpsim local development CA") and a server certificate
// it signed for localhost, 127.0.0.1 and ::1, both EC P-256 (sim/tls IssueCertificate). They
// live in DevTlsDirectory(): $XDG_DATA_HOME/wpsim/dev-tls, or ~/.local/share/wpsim/dev-tls when
// XDG_DATA_HOME is unset or not absolute (the XDG Base Directory rule). Files:
//   ca.pem            the CA certificate: what Node's NODE_EXTRA_CA_CERTS names
//   ca-key.pem        its private key (mode 0600)
//   server.pem        the server certificate (localhost, 127.0.0.1, ::1)
//   server-key.pem    its private key (mode 0600)
//   ca-bundle.pem     the system CA store plus ca.pem: what SSL_CERT_FILE (Python's ssl) and
//                     REQUESTS_CA_BUNDLE (requests, the Python SDKs) name, so other https
//                     connections of the same process keep working. Rewritten on every start.
// The key never leaves the machine and signs nothing else; delete the directory to start over.
#pragma once

#include <string>

#include "base/result.h"
#include "sim/rng.h"

namespace wpsim::app {

struct DevTlsFiles {
  std::string directory;
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string ca_bundle;
  bool created_ca = false;  // this call made a new CA (the user must trust it again)
};

// The per-user directory described above; an error when neither XDG_DATA_HOME nor HOME is set.
Result<std::string> DevTlsDirectory();

// Loads the CA and server certificate from `directory`, making whatever is missing or unusable
// (creating the directory with mode 0700). A server certificate not signed by the current CA is
// replaced. Files are written to a temporary name and renamed, so a concurrent `wpsim serve`
// never reads half a file. Errors ("dev_tls") name the file and the fix.
Result<DevTlsFiles> EnsureDevTls(const std::string& directory, sim::Rng& rng);

// The line `wpsim serve --tls` prints so Node and Python trust the CA:
// "export NODE_EXTRA_CA_CERTS=<ca.pem> SSL_CERT_FILE=<bundle> REQUESTS_CA_BUNDLE=<bundle>".
std::string DevTlsTrustLine(const DevTlsFiles& files);

}  // namespace wpsim::app
