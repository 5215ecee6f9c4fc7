// Fuzzes connection-string parsing. Invariants: Parse never crashes; whatever parses prints to
// a string that parses back to the same value; derived URLs start with the expected schemes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "protocol/auth/connection_string.h"

namespace auth = wpsim::protocol::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cs = auth::ParseConnectionString(text);
  if (!cs.ok()) return 0;
  auto again = auth::ParseConnectionString(auth::PrintConnectionString(*cs));
  WPSIM_ASSERT(again.ok());
  WPSIM_ASSERT(*again == *cs);
  const std::string url = auth::ClientBaseUrl(*cs, "hub", auth::ClientType::kMqtt);
  WPSIM_ASSERT(url.rfind("ws://", 0) == 0 || url.rfind("wss://", 0) == 0);
  const std::string aud = auth::ClientAudience(*cs, "hub", auth::ClientType::kDefault);
  WPSIM_ASSERT(aud.rfind("http://", 0) == 0 || aud.rfind("https://", 0) == 0);
  return 0;
}
