// Fuzzes the REST router (protocol/rest/router.h): the first byte picks the method, the rest is
// the request target. Every input must give a Route whose parameters satisfy the name rules, or
// an error with status 400/404/405 and a JSON body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/rest/names.h"
#include "protocol/rest/router.h"

namespace rest = wpsim::protocol::rest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                                  "OPTIONS", "head"};
  const std::string_view method = kMethods[data[0] % 8];
  const std::string_view target(reinterpret_cast<const char*>(data + 1), size - 1);
  for (bool strict : {false, true}) {
    rest::RouterOptions options;
    options.reject_operations_newer_than_version = strict;
    rest::RouteResult result = rest::RouteRequest(method, target, options);
    if (result.ok()) {
      const rest::Route& route = result.route();
      if (rest::OperationMethod(route.op) != method) std::abort();
      const bool has_hub = route.op != rest::Operation::kGetServiceStatus;
      if (has_hub && (!rest::IsValidHubName(route.hub) || route.hub_key != rest::HubKey(route.hub))) {
        std::abort();
      }
      if (!route.group.empty() && !rest::IsValidGroupName(route.group)) std::abort();
      if (route.message_ttl_seconds < 0 || route.message_ttl_seconds > 300) std::abort();
      if (route.max_page_size < 1 || route.max_page_size > 200) std::abort();
      if (route.minutes_to_expire < 1) std::abort();
    } else {
      const rest::RouteError& error = result.error();
      if (error.status != 400 && error.status != 404 && error.status != 405) std::abort();
      if ((error.status == 405) != !error.allow.empty()) std::abort();
      const std::string body = error.Body();
      if (body.empty() || body.front() != '{' || body.back() != '}') std::abort();
    }
  }
  return 0;
}
