// Client → service requests of json.webpubsub.azure.v1 and json.reliable.webpubsub.azure.v1
// (PROTOCOL.md §5.1, §6.2): typed decoding for the service, encoding for simulated clients.
//
// Decoding rules (each violation is kInvalidMessage, which the service answers by closing the
// WebSocket with 1007 and kInvalidMessageCloseReason, as the Microsoft emulator does):
//   * the frame is one JSON object (strict RFC 8259, valid UTF-8, depth ≤ 64); unknown members
//     are ignored; for a repeated member the last one counts (like JSON.parse);
//   * `type` is a string matched case-insensitively (emulator); unknown types are
//     kUnknownType (also 1007 in the emulator; the service may choose to ignore them instead);
//   * `group` (joinGroup/leaveGroup/sendToGroup) must be a valid group name, `event` a valid
//     event name (PROTOCOL.md §13; switchable off with DecodeOptions::validate_names);
//   * `ackId` and `sequenceId` are plain non-negative JSON integers < 2^64; `ackId`, `noEcho`
//     and `dataType` may be null, meaning absent;
//   * dataType (case-insensitive, default json): json → `data` any JSON value except null, kept
//     as its exact source text; text → `data` a string, payload = its UTF-8; binary and protobuf
//     → `data` a padded standard base64 string, payload = decoded bytes. protobuf is accepted
//     because @azure/web-pubsub-client can send it (§5.1 note); the docs list only the others.
//     `data` is required for sendToGroup and event, except that a request with `metadata` and
//     no `data` carries an empty text payload (the emulator's rule);
//   * `metadata` (§9.4, sendToGroup and event; null = absent) is an object of string values
//     with no key twice, within ValidateMetadata's limits (payload.h); it travels on the
//     Payload. `ttlSeconds` (sendToGroup; null = absent) is an integer 0..300;
//   * sequenceAck is decoded for both subprotocols; the non-reliable service simply ignores it;
//   * group streaming (§9.1, preview) only with DecodeOptions::enable_streaming: a sendToGroup
//     with a `stream` object is a StreamStartRequest (no data/dataType allowed; streamId a
//     non-empty string; idleTimeoutMs > 0, default 300000); streamData needs a positive
//     streamSequenceId and a payload, or neither (keepalive); streamEnd an optional error.
//   * invocations (§9.2, preview) only with DecodeOptions::enable_invocations: `invoke` needs
//     a non-empty string invocationId (≤ kInvocationIdMaxBytes), a string target (any value:
//     the service answers an unsupported target itself), for target "event" a valid event
//     name, and an optional payload (`data` with the usual dataType rules, dataType defaulting
//     to json; a dataType without data is invalid; @azure/web-pubsub-client writes both or
//     neither); `cancelInvocation` needs an invocationId. A client
//     `invokeResponse` stays kUnknownType: the service never invokes clients.
// Frames: text frames carry the JSON. Binary frames: the docs accept UTF-8 JSON in binary frames,
// the emulator closes with 1003 (PROTOCOL.md §5 CONFLICT). wpsim follows the docs by default
// (BinaryFramePolicy::kAcceptUtf8Json) and offers the emulator behaviour as an option.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/webpubsub/payload.h"

namespace wpsim::protocol::webpubsub {

inline constexpr std::string_view kJsonSubprotocol = "json.webpubsub.azure.v1";
inline constexpr std::string_view kReliableJsonSubprotocol = "json.reliable.webpubsub.azure.v1";

// Error.code values of DecodeRequest / DecodeRequestFrame.
inline constexpr char kInvalidMessage[] = "wps_invalid_message";   // close 1007
inline constexpr char kUnknownType[] = "wps_unknown_type";         // close 1007
inline constexpr char kBinaryFrame[] = "wps_binary_frame";         // close 1003
// The close reason the emulator sends with 1007.
inline constexpr std::string_view kInvalidMessageCloseReason =
    "The client message is not a valid JSON protocol message.";
inline constexpr uint16_t kCloseInvalidPayload = 1007;
inline constexpr uint16_t kCloseUnsupportedData = 1003;
// The WebSocket close code the service uses for a decode error (1007 or 1003).
uint16_t CloseCodeFor(const Error& error);

struct JoinGroupRequest {
  std::string group;
  std::optional<uint64_t> ack_id;
  bool operator==(const JoinGroupRequest&) const = default;
};
struct LeaveGroupRequest {
  std::string group;
  std::optional<uint64_t> ack_id;
  bool operator==(const LeaveGroupRequest&) const = default;
};
struct SendToGroupRequest {
  std::string group;
  std::optional<uint64_t> ack_id;
  bool no_echo = false;
  Payload payload;  // with the request's `metadata` (§9.4)
  // `ttlSeconds` (§9.4, 0..kMessageTtlSecondsMax; 0 or absent: no expiry).
  std::optional<uint32_t> ttl_seconds;
  bool operator==(const SendToGroupRequest&) const = default;
};
struct EventRequest {
  std::string event;
  std::optional<uint64_t> ack_id;
  Payload payload;  // with the request's `metadata` (§9.4)
  bool operator==(const EventRequest&) const = default;
};
struct SequenceAckRequest {
  uint64_t sequence_id = 0;
  bool operator==(const SequenceAckRequest&) const = default;
};
struct PingRequest {
  bool operator==(const PingRequest&) const = default;
};

// Group streaming (PROTOCOL.md §9.1, preview; decoded only with DecodeOptions::enable_streaming).
inline constexpr uint64_t kStreamIdleTimeoutMsDefault = 300000;

// sendToGroup carrying `stream:{streamId, idleTimeoutMs?}` and no data: opens a stream.
struct StreamStartRequest {
  std::string group;
  std::string stream_id;
  uint64_t idle_timeout_ms = kStreamIdleTimeoutMsDefault;  // > 0
  std::optional<uint64_t> ack_id;  // the spec sends none; kept if a client does
  bool no_echo = false;
  bool operator==(const StreamStartRequest&) const = default;
};
// {"type":"streamData","streamId":s,"streamSequenceId":n,"dataType":..,"data":..}; with only
// streamId it is a keepalive (no sequence id, no payload).
struct StreamDataRequest {
  std::string stream_id;
  std::optional<uint64_t> stream_sequence_id;  // ≥ 1 when present
  std::optional<Payload> payload;              // present exactly when the sequence id is
  bool IsKeepalive() const { return !stream_sequence_id.has_value(); }
  bool operator==(const StreamDataRequest&) const = default;
};
struct StreamEndError {
  std::optional<std::string> message;
  std::optional<std::string> user_error_code;
  bool operator==(const StreamEndError&) const = default;
};
// {"type":"streamEnd","streamId":s,"error?":{"message","userErrorCode"}}
struct StreamEndRequest {
  std::string stream_id;
  std::optional<StreamEndError> error;
  bool operator==(const StreamEndRequest&) const = default;
};

// Invocation (PROTOCOL.md §9.2, preview; decoded only with DecodeOptions::enable_invocations).
inline constexpr std::string_view kInvokeTargetEvent = "event";
inline constexpr size_t kInvocationIdMaxBytes = 128;
// {"type":"invoke","invocationId":"1","target":"event","event":"<name>"[,"dataType","data"]}
struct InvokeRequest {
  std::string invocation_id;
  std::string target;  // "event" is the only target @azure/web-pubsub-client 1.1.0 sends
  std::string event;   // required (and a valid event name) when target is "event"
  std::optional<Payload> payload;
  bool operator==(const InvokeRequest&) const = default;
};
// {"type":"cancelInvocation","invocationId":"1"}
struct CancelInvocationRequest {
  std::string invocation_id;
  bool operator==(const CancelInvocationRequest&) const = default;
};

using Request = std::variant<JoinGroupRequest, LeaveGroupRequest, SendToGroupRequest, EventRequest,
                             SequenceAckRequest, PingRequest, StreamStartRequest, StreamDataRequest,
                             StreamEndRequest, InvokeRequest, CancelInvocationRequest>;

enum class BinaryFramePolicy : uint8_t {
  kAcceptUtf8Json,  // docs: "text format ... or UTF8 encoded binaries" (default)
  kReject,          // Microsoft emulator: close 1003
};

struct DecodeOptions {
  BinaryFramePolicy binary_frames = BinaryFramePolicy::kAcceptUtf8Json;
  bool validate_names = true;
  // Off: streamData/streamEnd are kUnknownType and a sendToGroup without data is invalid,
  // as for a service without streaming support. On: the Stream*Request kinds are decoded.
  bool enable_streaming = false;
  // Off: invoke/cancelInvocation are kUnknownType. On: InvokeRequest/CancelInvocationRequest.
  bool enable_invocations = false;
};

// Decodes one complete message (the payload of one WebSocket text frame).
Result<Request> DecodeRequest(std::string_view text, const DecodeOptions& options = {});
// Decodes one complete WebSocket message given its frame type (see BinaryFramePolicy).
Result<Request> DecodeRequestFrame(FrameType frame_type, std::span<const uint8_t> bytes,
                                   const DecodeOptions& options = {});

// Client-side encoders, shaped like @azure/web-pubsub-client 1.1.0's output: sendToGroup always
// carries noEcho, event always carries dataType; ackId only when given.
SharedBytes EncodeJoinGroupRequest(std::string_view group, std::optional<uint64_t> ack_id);
SharedBytes EncodeLeaveGroupRequest(std::string_view group, std::optional<uint64_t> ack_id);
// `metadata` and `ttlSeconds` are written when the payload has metadata / ttl_seconds is set.
SharedBytes EncodeSendToGroupRequest(std::string_view group, const Payload& payload,
                                     std::optional<uint64_t> ack_id, bool no_echo,
                                     std::optional<uint32_t> ttl_seconds = std::nullopt);
SharedBytes EncodeEventRequest(std::string_view event, const Payload& payload,
                               std::optional<uint64_t> ack_id);
SharedBytes EncodeSequenceAckRequest(uint64_t sequence_id);
SharedBytes EncodePingRequest();
SharedBytes EncodeStreamStartRequest(const StreamStartRequest& request);
SharedBytes EncodeStreamDataRequest(const StreamDataRequest& request);
SharedBytes EncodeStreamEndRequest(const StreamEndRequest& request);
// Shaped like the SDK's writeMessage: dataType/data only with a payload.
SharedBytes EncodeInvokeRequest(const InvokeRequest& request);
SharedBytes EncodeCancelInvocationRequest(std::string_view invocation_id);
SharedBytes EncodeRequest(const Request& request);

}  // namespace wpsim::protocol::webpubsub
