#include "sim/seam.h"

#include <charconv>

namespace wpsim::sim {

Result<Address> Address::Parse(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return MakeError("bad_address", "expected HOST:PORT, got '" + std::string(text) + "'");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return MakeError("bad_address", "invalid port in '" + std::string(text) + "'");
  }
  return Address{std::string(host), static_cast<uint16_t>(port)};
}

std::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kReset: return "reset";
    case CloseReason::kTimeout: return "timeout";
    case CloseReason::kError: return "error";
  }
  return "unknown";
}

}  // namespace wpsim::sim
