// The json family (json.webpubsub.azure.v1 requests, also sent by reliable clients): the join,
// leave, send_to_group and event steps with their ackIds, the ack expectation, and the client
// SDK 1.1 requests (PROTOCOL.md §9.1, §9.2): invoke, cancel_invocation, stream_start,
// stream_data and stream_end. Their answers (invokeResponse, streamAck, streamNack,
// streamClosed, `stream` info on group messages) are matched by receive/never_receive.
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/json.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

// ackId handling for client requests.
struct AckSpec {
  enum class Mode { kNone, kAuto, kExplicit };
  Mode mode = Mode::kNone;
  uint64_t id = 0;  // kExplicit only. kAuto: the runner allocates per connection from 1 upward
                    // (skipping ids the scenario uses explicitly for that client).
};

struct GroupStep {  // join / leave
  ClientRef clients;
  std::string group;
  AckSpec ack;
};

struct JoinStep : GroupStep {};

struct LeaveStep : GroupStep {};

// Generated message metadata (PROTOCOL.md §9.4) for boundary cases: `entries` pairs whose keys
// are `key_bytes` long (the index in decimal, then 'k' padding) and values `value_bytes` of 'v'.
struct MetadataFill {
  uint64_t entries = 1;
  uint64_t key_bytes = 1;
  uint64_t value_bytes = 0;
};

// Message metadata of a send_to_group or event step: the listed pairs, then the fill.
struct MetadataSpec {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::optional<MetadataFill> fill;
  bool empty() const { return pairs.empty() && !fill; }
};

struct SendToGroupStep {
  ClientRef clients;
  std::string group;
  Payload payload;
  std::optional<bool> no_echo;
  AckSpec ack;
  MetadataSpec metadata;                // `metadata` on the request (§9.4)
  std::optional<uint64_t> ttl_seconds;  // `ttlSeconds` on the request (§9.4), any value
};

struct EventStep {
  ClientRef clients;
  std::string event;
  Payload payload;
  AckSpec ack;
  MetadataSpec metadata;
};

// invoke: {"type":"invoke","invocationId","target","event"[,"dataType","data"]}. Completes on
// the invokeResponse with its invocationId.
struct InvokeStep {
  ClientRef clients;
  std::string invocation_id;
  std::string target = "event";
  std::string event;
  Payload payload;  // has_data false: no dataType/data
};

struct CancelInvocationStep {
  ClientRef clients;
  std::string invocation_id;
};

// stream_start: a sendToGroup carrying `stream`. Completes on the first answer for the stream
// (streamAck, streamNack or streamClosed).
struct StreamStartStep {
  ClientRef clients;
  std::string group;
  std::string stream_id;
  uint64_t idle_timeout_ms = 300000;
  bool no_echo = false;
};

// stream_data: fragment `sequence` with a payload, or (no sequence) a keepalive. A fragment
// completes on the next answer for its stream; a keepalive on issue.
struct StreamDataStep {
  ClientRef clients;
  std::string stream_id;
  std::optional<uint64_t> sequence;
  Payload payload;
};

// stream_end: streamEnd, with the publisher's error when a message or code is given. Completes
// on the streamClosed for the stream.
struct StreamEndStep {
  ClientRef clients;
  std::string stream_id;
  std::optional<std::string> error_message;
  std::optional<std::string> user_error_code;
};

struct AckExpect {
  std::optional<uint32_t> step;    // the step that sent the request (all its members)
  std::optional<ClientRef> client;  // or client + ack_id
  std::optional<uint64_t> ack_id;
  bool success = true;
  std::optional<std::string> error;    // error name (implies success false)
  std::optional<std::string> message;  // error message, exact
  std::optional<std::string> message_contains;
  TimeWindow window;
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterJsonFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
