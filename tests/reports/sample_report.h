// A fixed, deterministic sample report used by the writer tests, the docs generator and the
// headless-browser test: a passing quickstart, a failing scenario with several case IDs and a
// sequence diagram, a skipped scenario, and an open-loop load scenario with throughput.
#pragma once

#include <cstdint>

#include "reports/model.h"

namespace wpsim::reports::testing {

// `seed` changes the recorded latencies (and hashes) but not the structure.
RunReport MakeSampleReport(uint64_t seed = 42);

}  // namespace wpsim::reports::testing
