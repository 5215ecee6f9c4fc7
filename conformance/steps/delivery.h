// The delivery family: the message expectations every client kind shares (receive,
// never_receive, with their message matcher) and the invariants (no_duplicates,
// sequence_ids_contiguous, per_publisher_order, no_delivery_outside_group), all judged online
// from the observation stream.
//
// The family's types are part of the scenario model (conformance/scenario.h includes this
// header); their evaluation lives in conformance/steps/delivery.cc, their YAML shape (the
// expectations' and invariants' sections) in conformance/shape/expect.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

struct SequenceIdMatch {
  bool present = true;               // false: the message must not carry a sequenceId
  std::optional<uint64_t> value;
};

// What a received message must look like. Unset fields match anything. Which fields apply
// depends on the receiving client's kind (the loader rejects fields that cannot apply):
//  json/reliable: type, from, group, data_type, data, data_contains, user_id, from_user_id,
//                 event, connection_id, message, ack_id, success, error, error_message,
//                 sequence_id, reconnection_token, invocation_id, stream_id,
//                 stream_sequence_id, end_of_stream, expected_sequence_id, user_error_code,
//                 metadata
//  websocket:     frame, text, binary, data (JSON-parsed text frame), data_contains
//  mqtt:          topic, qos, retain, payload, data (JSON-parsed payload), data_contains,
//                 content_type, message_expiry, response_topic, correlation_data,
//                 user_properties, subscription_identifier, payload_format_indicator
struct MessageMatcher {
  SourcePos pos;
  std::optional<std::string> type;   // message | ack | system | pong | ...
  std::optional<std::string> from;   // group | server
  std::optional<std::string> group;
  std::optional<DataType> data_type;
  std::optional<nlohmann::json> data;  // exact (JSON equality; text: string; binary: base64)
  std::optional<std::string> data_contains;
  std::optional<NullableString> user_id;
  std::optional<NullableString> from_user_id;
  std::optional<std::string> event;  // system event name
  std::optional<ClientRef> connection_id;  // must equal that member's connection id
  std::optional<std::string> message;      // system/disconnected message (exact)
  std::optional<uint64_t> ack_id;
  std::optional<bool> success;  // ack, invokeResponse, streamClosed (false: an error)
  // The error's name: of an ack, invokeResponse, streamClosed, streamNack (its name) or a
  // stream's terminal group message.
  std::optional<std::string> error;
  std::optional<std::string> error_message;  // that error's message, exactly
  // Client SDK 1.1 answers (PROTOCOL.md §9.1, §9.2).
  std::optional<std::string> invocation_id;      // invokeResponse
  std::optional<std::string> stream_id;          // stream answers, stream group messages
  std::optional<uint64_t> stream_sequence_id;    // stream group message
  std::optional<bool> end_of_stream;             // stream group message
  std::optional<uint64_t> expected_sequence_id;  // streamAck, streamNack
  std::optional<std::string> user_error_code;    // stream's terminal group message
  // A data message's metadata (PROTOCOL.md §9.4), exactly these pairs in any order ({}: none).
  std::optional<std::vector<std::pair<std::string, std::string>>> metadata;
  std::optional<SequenceIdMatch> sequence_id;
  std::optional<bool> reconnection_token;  // present / absent
  // plain WebSocket
  enum class Frame { kText, kBinary };
  std::optional<Frame> frame;
  std::optional<std::string> text;
  std::optional<std::string> binary;  // raw bytes (written as base64)
  // MQTT
  std::optional<std::string> topic;
  std::optional<uint8_t> qos;
  std::optional<bool> retain;
  std::optional<std::string> payload;  // raw bytes
  std::optional<std::string> content_type;
  std::optional<uint32_t> message_expiry_s;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<MqttUserProperty> user_properties;  // each must be present
  std::optional<uint32_t> subscription_identifier;
  std::optional<uint8_t> payload_format_indicator;
};

struct ReceiveExpect {
  ClientRef clients;        // every member must satisfy the expectation
  MessageMatcher match;     // used when in_order is empty
  std::vector<MessageMatcher> in_order;  // a subsequence, in this order
  CountSpec count;          // per member; default at_least 1
  CountSpec total;          // summed over members; empty = no check
  TimeWindow window;
};

struct NeverReceiveExpect {
  ClientRef clients;
  MessageMatcher match;
  TimeWindow window;
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterDeliveryFamily(FamilyRegistry& r);

// The built-in liveness checks the scenario's `eventually:` section switches on
// (all_acked_delivered, recovered_caught_up), listening from now on; none without the section.
class Evaluator;
class RunContext;
std::vector<std::unique_ptr<Evaluator>> MakeLivenessChecks(RunContext& cx);

}  // namespace wpsim::conformance
