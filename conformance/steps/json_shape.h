// The JSON subprotocol family's YAML shape: join, leave, send_to_group, event and their acks.
#pragma once

#include "conformance/shape/binding.h"

namespace wpsim::conformance::shape {

// The fields of an ack check (the ack expectation and expect_ack): success, error, message,
// message_contains.
const Table<AckExpect>& AckFieldsTable();
void ReadAckFields(Context& c, const Map& m, AckExpect& a);

}  // namespace wpsim::conformance::shape
