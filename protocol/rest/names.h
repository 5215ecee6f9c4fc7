// Name rules of the REST data plane that the router must enforce before an operation runs
// (PROTOCOL.md §11.2, §13): hub names and group names. They live here rather than in service/
// because the router (a protocol module) needs them and protocol/ must not depend on service/;
// service/names.h re-exports them next to the service-only rules (event names, MQTT client ids).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wpsim::protocol::rest {

inline constexpr size_t kHubNameLengthMax = 128;
inline constexpr size_t kGroupNameLengthMax = 1024;  // in UTF-16 code units, as .NET counts

// `^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$` (REST:routes.tsp).
bool IsValidHubName(std::string_view hub);
// Hubs are case-insensitive: the key under which a hub's state is stored. ASCII lower-case
// (a valid hub name is pure ASCII).
std::string HubKey(std::string_view hub);
// 1..1024 UTF-16 code units of valid UTF-8, not whitespace only (REST:routes.tsp `^(?!\s+$).+$`,
// EMU:WebPubSubNameValidator.cs IsNullOrWhiteSpace). Case-sensitive; any other character is fine.
bool IsValidGroupName(std::string_view group);

inline constexpr size_t kEventNameLengthMax = 128;
// `^[a-z][a-z0-9_.-]{0,127}$`, ASCII letters of either case (EMU:WebPubSubNameValidator.cs).
bool IsValidEventName(std::string_view event);

// Length of valid UTF-8 text in UTF-16 code units (the unit .NET's string.Length counts), or
// nullopt if `text` is not valid UTF-8.
std::optional<size_t> Utf16Length(std::string_view text);
// True when every character of valid UTF-8 `text` is Unicode white space (.NET
// char.IsWhiteSpace); true for the empty string.
bool IsAllWhiteSpace(std::string_view text);

}  // namespace wpsim::protocol::rest
