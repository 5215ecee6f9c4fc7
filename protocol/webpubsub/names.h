// Name rules of PROTOCOL.md §13, as the Microsoft emulator applies them
// (EMU:WebPubSubNameValidator.cs). Inputs are UTF-8; lengths count UTF-16 code units, as .NET
// string lengths do.
#pragma once

#include <cstddef>
#include <string_view>

namespace wpsim::protocol::webpubsub {

inline constexpr size_t kGroupNameLengthMax = 1024;  // UTF-16 code units
inline constexpr size_t kEventNameLengthMax = 128;

// 1..1024 UTF-16 code units, valid UTF-8, and not made only of white space (.NET
// char.IsWhiteSpace: Unicode White_Space). Case-sensitive; any other character is allowed.
bool IsValidGroupName(std::string_view group);
// `^[a-z][a-z0-9_.-]{0,127}$`, ASCII letters of either case.
bool IsValidEventName(std::string_view event);
// `^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$` (REST:routes.tsp). Hubs compare case-insensitively.
bool IsValidHubName(std::string_view hub);

}  // namespace wpsim::protocol::webpubsub
