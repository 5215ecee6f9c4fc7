#include "service/names.h"

#include <string>

namespace wpsim::service {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Names in messages are cut so a hostile 1 MB name cannot make a 1 MB error message.
constexpr size_t kQuotedNameMax = 128;

std::string Quote(std::string_view value) {
  std::string out = "'";
  out.append(value.substr(0, kQuotedNameMax));
  if (value.size() > kQuotedNameMax) out.append("...");
  out.push_back('\'');
  return out;
}

}  // namespace

bool IsValidMqttClientId(std::string_view client_id) {
  if (client_id.empty() || client_id.size() > kMqttClientIdLengthMax) return false;
  for (char c : client_id) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c)) return false;
  }
  return true;
}

bool IsValidUserId(std::string_view user_id) { return !user_id.empty(); }

Status ValidateName(NameKind kind, std::string_view value) {
  switch (kind) {
    case NameKind::kHub:
      if (IsValidHubName(value)) return Status::Ok();
      return MakeError("InvalidName", "Invalid hub name " + Quote(value) +
                                          ": must match ^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$.");
    case NameKind::kGroup:
      if (IsValidGroupName(value)) return Status::Ok();
      return MakeError("InvalidName",
                       "Invalid group name " + Quote(value) +
                           ": must be 1 to 1024 characters of valid UTF-8, not all white space.");
    case NameKind::kEvent:
      if (IsValidEventName(value)) return Status::Ok();
      return MakeError("InvalidName", "Invalid event name " + Quote(value) +
                                          ": must match ^[a-z][a-z0-9_.-]{0,127}$ "
                                          "(case-insensitive).");
    case NameKind::kMqttClientId:
      if (IsValidMqttClientId(value)) return Status::Ok();
      return MakeError("InvalidName", "Invalid MQTT client id " + Quote(value) +
                                          ": must be 1 to 128 characters of [0-9a-zA-Z].");
    case NameKind::kUserId:
      if (IsValidUserId(value)) return Status::Ok();
      return MakeError("InvalidName", "Invalid user id '': must not be empty.");
  }
  WPSIM_ASSERT(false);
  return Status::Ok();
}

}  // namespace wpsim::service
