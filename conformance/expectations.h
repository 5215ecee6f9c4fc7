// Matching what a client observed against the scenario's message matchers, and describing both
// for "expected ... but got ..." messages. Pure functions over copies of observations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clients/observation.h"
#include "conformance/scenario.h"

namespace wpsim::conformance {

// One thing a member observed, stamped with the run clock and its transport generation (a
// recovery or reconnect starts a new generation): a view of the observation while the client
// reports it. `serial` numbers every observation of a run (across members) in order.
struct ObservedEvent {
  const clients::Observation& observation;
  int64_t time_ns = 0;
  uint32_t transport = 0;
  uint64_t serial = 0;
};

// An observation kept beyond the moment it was made (evaluators keep only the few their
// verdict or failure message needs).
struct KeptEvent {
  clients::Observation observation;
  int64_t time_ns = 0;
  uint32_t transport = 0;
  uint64_t serial = 0;

  explicit KeptEvent(const ObservedEvent& e)
      : observation(e.observation), time_ns(e.time_ns), transport(e.transport), serial(e.serial) {}
  ObservedEvent view() const { return ObservedEvent{observation, time_ns, transport, serial}; }
};

// True when `event` is a message in the sense of receive/never_receive for a client of `kind`
// (JSON messages, system messages, acks and pongs for json/reliable; frames for websocket).
bool IsMessage(const ObservedEvent& event, ClientKind kind);

// Whether `event` satisfies every field of `matcher`. `connection_ids[m]` is member m's
// connection id (for `connection_id:` references).
bool MatchMessage(const MessageMatcher& matcher, const ObservedEvent& event, ClientKind kind,
                  const std::vector<std::string>& connection_ids);

// "type=message from=group group=g data=\"x\"" (only the fields that are set).
std::string DescribeMatcher(const MessageMatcher& matcher);
// A short rendering of an observation, e.g. "message from group g: text \"hi\" (seq 3)".
std::string DescribeObservation(const clients::Observation& observation);

// The payload as the matcher's `data` sees it: JSON value for json payloads, the string for
// text, base64 for binary/protobuf. For raw frames, text frames parsed as JSON when possible.
nlohmann::json PayloadAsJson(const clients::Observation& observation, bool* ok);
// The text `data_contains` searches: JSON text, the text, or base64.
std::string PayloadText(const clients::Observation& observation);

}  // namespace wpsim::conformance
