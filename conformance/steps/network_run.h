// The network family (sim only): partition, heal, delay, reset and set_clock_skew steps, and the
// scenario's scheduled partitions (network.partitions), applied when the run starts.
#pragma once

#include "conformance/driver.h"

namespace wpsim::conformance {

void RegisterNetworkFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
