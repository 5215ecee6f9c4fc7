// Name rules of PROTOCOL.md §13 as the JSON subprotocol applies them. The rules themselves
// live in protocol/rest/names.h (the REST router needs them too); this header re-exports them
// for code that speaks the client protocol.
#pragma once

#include "protocol/rest/names.h"

namespace wpsim::protocol::webpubsub {

using rest::IsValidEventName;
using rest::IsValidGroupName;
using rest::IsValidHubName;
using rest::kEventNameLengthMax;
using rest::kGroupNameLengthMax;

}  // namespace wpsim::protocol::webpubsub
