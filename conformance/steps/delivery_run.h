// The delivery family: the message expectations every client kind shares (receive,
// never_receive) and the invariants (no_duplicates, sequence_ids_contiguous, per_publisher_order,
// no_delivery_outside_group), all judged online from the observation stream.
#pragma once

#include "conformance/driver.h"

namespace wpsim::conformance {

void RegisterDeliveryFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
