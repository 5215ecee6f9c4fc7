#include "service/options.h"

namespace wpsim::service {

const std::vector<std::pair<Bug, std::string_view>>& AllBugs() {
  static const std::vector<std::pair<Bug, std::string_view>> kBugs = {
      {Bug::kSkipRoleCheck, "joins, leaves and sends are allowed without the needed role"},
      {Bug::kAckBeforeApply, "sendToGroup is acknowledged before the message is fanned out"},
      {Bug::kDropNoEcho, "noEcho is ignored, so publishers receive their own messages"},
      {Bug::kResetSequenceOnRecover, "reliable sequence ids restart at 1 after a recovery"},
      {Bug::kDuplicateOnReplay, "recovery replays every un-acked message twice"},
      {Bug::kFanoutSkipLast, "every fan-out skips its last receiver"},
      {Bug::kIgnoreTokenExpiry, "expired client access tokens are accepted"},
  };
  return kBugs;
}

std::string_view BugName(Bug bug) {
  switch (bug) {
    case Bug::kSkipRoleCheck: return "skip-role-check";
    case Bug::kAckBeforeApply: return "ack-before-apply";
    case Bug::kDropNoEcho: return "drop-noecho";
    case Bug::kResetSequenceOnRecover: return "reset-sequence-on-recover";
    case Bug::kDuplicateOnReplay: return "duplicate-on-replay";
    case Bug::kFanoutSkipLast: return "fanout-skip-last";
    case Bug::kIgnoreTokenExpiry: return "ignore-token-expiry";
  }
  return "unknown";
}

std::optional<Bug> ParseBug(std::string_view name) {
  for (const auto& [bug, description] : AllBugs()) {
    if (BugName(bug) == name) return bug;
  }
  return std::nullopt;
}

}  // namespace wpsim::service
