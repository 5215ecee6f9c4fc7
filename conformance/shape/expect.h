// The expect section's shape, for the reference docs and the schema.
#pragma once

#include <vector>

#include "conformance/shape/binding.h"

namespace wpsim::conformance::shape {

// Every expectation kind with its keys (without the modifiers as and case), in ExpectKind order.
std::vector<ShapeDoc> ExpectationDocs();
// The message matcher keys (receive, never_receive, in_order items), with the client kinds each
// applies to.
std::vector<FieldDoc> MatcherDocs();

}  // namespace wpsim::conformance::shape
