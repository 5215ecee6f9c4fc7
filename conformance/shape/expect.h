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
// The expectation modifiers (as, case), documented.
const std::vector<FieldDoc>& ExpectModifierDocs();
// The JSON schemas of an invariant (`- no_duplicates`, `- no_duplicates: {client, case}`) and of
// a threshold (`- "p99 < 20ms"`, `- {check, case, client, step}`), for scenarios/schema.json.
nlohmann::json InvariantSchema();
nlohmann::json ThresholdSchema();

}  // namespace wpsim::conformance::shape
