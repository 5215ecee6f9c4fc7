// The upstream family: the scripted application server (the scenario's `upstream` responses
// decide each reply to the service's event-handler requests) and the upstream_event expectation.
#pragma once

#include "conformance/driver.h"

namespace wpsim::conformance {

void RegisterUpstreamFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
