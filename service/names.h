// Name rules the service enforces (PROTOCOL.md §13): hubs and groups (shared with the REST
// router, defined in protocol/rest/names.h), event names, MQTT client ids and user ids.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/result.h"
#include "protocol/rest/names.h"

namespace wpsim::service {

using protocol::rest::HubKey;
using protocol::rest::IsValidEventName;
using protocol::rest::IsValidGroupName;
using protocol::rest::IsValidHubName;
using protocol::rest::kGroupNameLengthMax;
using protocol::rest::kHubNameLengthMax;

using protocol::rest::kEventNameLengthMax;
inline constexpr size_t kMqttClientIdLengthMax = 128;

// `[0-9a-zA-Z]{1,128}` (DOC-INC:mqtt-connection-parameters.md).
bool IsValidMqttClientId(std::string_view client_id);
// Min length 1; no documented character set (REST:routes.tsp).
bool IsValidUserId(std::string_view user_id);

enum class NameKind { kHub, kGroup, kEvent, kMqttClientId, kUserId };

// The same rules as the predicates above, as a Status whose error carries code
// "InvalidName" and a message naming the kind and the rule, e.g.
// "Invalid event name 'a b': must match ^[a-z][a-z0-9_.-]{0,127}$ (case-insensitive)."
Status ValidateName(NameKind kind, std::string_view value);

}  // namespace wpsim::service
