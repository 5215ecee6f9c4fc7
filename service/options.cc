#include "service/options.h"

namespace wpsim::service {

const std::vector<std::pair<Bug, std::string_view>>& AllBugs() {
  static const std::vector<std::pair<Bug, std::string_view>> kBugs = {
      {Bug::kSkipRoleCheck, "joins, leaves and sends are allowed without the needed role"},
      {Bug::kAckBeforeApply,
       "sendToGroup is acknowledged before the message is fanned out (2 ms later; the fan-out is "
       "lost if the connection ends meanwhile)"},
      {Bug::kDropNoEcho, "noEcho is ignored, so publishers receive their own messages"},
      {Bug::kResetSequenceOnRecover, "reliable sequence ids restart at 1 after a recovery"},
      {Bug::kDuplicateOnReplay, "recovery replays every un-acked message twice"},
      {Bug::kFanoutSkipLast, "every fan-out skips its last receiver"},
      {Bug::kIgnoreTokenExpiry, "expired client access tokens are accepted"},
      {Bug::kLateJoinAck,
       "joinGroup is applied at once but acknowledged 2 ms later, so a message sent meanwhile "
       "reaches the joiner before its ack"},
      {Bug::kLeaveAckBeforeApply,
       "leaveGroup is acknowledged at once but applied 2 ms later, so a message sent meanwhile "
       "reaches the leaver after its ack"},
      {Bug::kUnorderedFanout,
       "every other group message a client sends is fanned out 2 ms late, so one publisher's "
       "messages can overtake each other"},
      {Bug::kAckIdsLostOnRecover,
       "a recovery forgets the connection's ackIds, so a send retried after it is applied twice"},
      {Bug::kReplayFromLastSent,
       "a recovery replays from the last message written to the old transport, not the last "
       "one acked: what was in flight when it dropped is lost"},
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
    case Bug::kLateJoinAck: return "late-join-ack";
    case Bug::kLeaveAckBeforeApply: return "leave-ack-before-apply";
    case Bug::kUnorderedFanout: return "unordered-fanout";
    case Bug::kAckIdsLostOnRecover: return "ack-ids-lost-on-recover";
    case Bug::kReplayFromLastSent: return "replay-from-last-sent";
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
