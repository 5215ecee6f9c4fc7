// The REST family: `rest` steps (every operation of the service's REST API, a hand-made
// request, all_pages paging) and the http_status expectation (also on a connect step: the
// WebSocket upgrade's status).
#pragma once

#include "conformance/driver.h"

namespace wpsim::conformance {

void RegisterRestFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
