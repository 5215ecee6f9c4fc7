// Service → client messages of json.webpubsub.azure.v1 and json.reliable.webpubsub.azure.v1
// (PROTOCOL.md §5.2, §5.3, §6.1): encoders for the service, a decoder for simulated clients.
//
// Fan-out: a group or server message is encoded once and shared. For the non-reliable protocol
// every receiver gets the same bytes (EncodeGroupMessage → one SharedBytes). For the reliable
// protocol each receiver needs its own `sequenceId`, so the message is encoded once as a
// SequencedMessage: `sequenceId` is the first member, and everything after it (the shared tail,
// `"type":"message",...}`) is one SharedBytes. Per receiver only the head
// `{"sequenceId":<n>,` (≤ kSequenceHeadBytesMax bytes) is written — into a caller buffer, or
// gathered with the tail without copying it. No JSON is re-serialised per receiver.
//
// Decoding (client side) follows @azure/web-pubsub-client 1.1.0: unknown `type`, unknown
// `from`, unknown system `event` and unknown `dataType` are not errors but UnknownMessage (the
// SDK ignores them); only a frame that is not a JSON object, or a known message missing a
// required member, is an error (kInvalidMessage).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/webpubsub/payload.h"

namespace wpsim::protocol::webpubsub {

// Ack error names (PROTOCOL.md §5.2); clients must tolerate others.
inline constexpr std::string_view kAckErrorForbidden = "Forbidden";
inline constexpr std::string_view kAckErrorInternalServerError = "InternalServerError";
inline constexpr std::string_view kAckErrorDuplicate = "Duplicate";
inline constexpr std::string_view kAckErrorBadRequest = "BadRequest";

// The error of an ack (and of a streamClosed message).
struct AckError {
  std::string name;
  std::string message;
  bool operator==(const AckError&) const = default;
};

// ---- Service side: encoders -------------------------------------------------------------

// {"type":"ack","ackId":N,"success":true}
SharedBytes EncodeAck(uint64_t ack_id);
// {"type":"ack","ackId":N,"success":false,"error":{"name":"<name>","message":"<message>"}}
SharedBytes EncodeAckError(uint64_t ack_id, std::string_view name, std::string_view message);
// The Duplicate ack: message "Message with ack-id: N has been processed".
SharedBytes EncodeDuplicateAck(uint64_t ack_id);
std::string DuplicateAckMessage(uint64_t ack_id);

// {"type":"message","from":"group","fromUserId":<"uid"|null>,"group":"<g>","dataType":..,"data":..}
SharedBytes EncodeGroupMessage(std::string_view group, std::optional<std::string_view> from_user_id,
                               const Payload& payload);
// {"type":"message","from":"server","dataType":..,"data":..}
SharedBytes EncodeServerMessage(const Payload& payload);
// {"type":"system","event":"connected","userId":<"uid"|null>,"connectionId":"<id>"
//  [,"reconnectionToken":"<t>"]}  (the token only for reliable connections)
SharedBytes EncodeConnected(std::string_view connection_id,
                            std::optional<std::string_view> user_id,
                            std::optional<std::string_view> reconnection_token);
// {"type":"system","event":"disconnected","message":"<message>"}
SharedBytes EncodeDisconnected(std::string_view message);
// {"type":"pong"}
SharedBytes EncodePong();

// `{"sequenceId":` + 20 digits + `,`.
inline constexpr size_t kSequenceHeadBytesMax = 35;

// A reliable-protocol data message encoded once for all receivers.
class SequencedMessage {
 public:
  SequencedMessage() = default;
  // `tail` must be the message after its sequenceId member: `"type":...}`.
  explicit SequencedMessage(SharedBytes tail) : tail_(std::move(tail)) {}

  const SharedBytes& tail() const { return tail_; }
  // Writes `{"sequenceId":<n>,` into head[0..kSequenceHeadBytesMax); returns its length.
  static size_t WriteHead(uint64_t sequence_id, char* head);
  // The complete message for one receiver, written into a reusable caller buffer (cleared
  // first; no allocation once the buffer has grown to the message size).
  void RenderInto(uint64_t sequence_id, std::string& out) const;
  // The complete message for one receiver in its own exactly-sized buffer.
  SharedBytes Render(uint64_t sequence_id) const;
  size_t RenderedSize(uint64_t sequence_id) const;

 private:
  SharedBytes tail_;
};

SequencedMessage EncodeSequencedGroupMessage(std::string_view group,
                                             std::optional<std::string_view> from_user_id,
                                             const Payload& payload);
SequencedMessage EncodeSequencedServerMessage(const Payload& payload);

// ---- Group streaming (PROTOCOL.md §9.1, preview) ------------------------------------------

// streamNack names.
inline constexpr std::string_view kStreamNackInvalidSequenceId = "InvalidSequenceId";
inline constexpr std::string_view kStreamNackTransientError = "TransientError";
// streamClosed error names: StreamNotFound, Forbidden, BadRequest, InternalServerError,
// IdleTimeout. Subscriber-side stream error names: IdleTimeout, InternalServerError, Forbidden,
// Cancelled, UserError.

struct StreamDataError {
  std::string name;
  std::optional<std::string> message;
  std::optional<std::string> user_error_code;
  bool operator==(const StreamDataError&) const = default;
};
// The `stream` member of a group message delivered to subscribers.
struct StreamInfo {
  std::string stream_id;
  uint64_t stream_sequence_id = 0;
  bool end_of_stream = false;
  std::optional<StreamDataError> error;
  bool operator==(const StreamInfo&) const = default;
};

// A group message that belongs to a stream: the group-message members plus
// `"stream":{"streamId":..,"streamSequenceId":..[,"endOfStream":true][,"error":{..}]}`.
// Without a payload (a bare end-of-stream) it carries `"dataType":"json"` and no `data`, which
// @azure/web-pubsub-client 1.1.0 accepts as "no payload" [INFERRED from its parser].
SharedBytes EncodeGroupStreamMessage(std::string_view group,
                                     std::optional<std::string_view> from_user_id,
                                     const std::optional<Payload>& payload,
                                     const StreamInfo& stream);
SequencedMessage EncodeSequencedGroupStreamMessage(std::string_view group,
                                                   std::optional<std::string_view> from_user_id,
                                                   const std::optional<Payload>& payload,
                                                   const StreamInfo& stream);
// {"type":"streamAck","streamId":s,"expectedSequenceId":n}
SharedBytes EncodeStreamAck(std::string_view stream_id, uint64_t expected_sequence_id);
// {"type":"streamNack","streamId":s,"name":..,"message":..,"expectedSequenceId":n}
SharedBytes EncodeStreamNack(std::string_view stream_id, std::string_view name,
                             std::string_view message, uint64_t expected_sequence_id);
// {"type":"streamClosed","streamId":s[,"error":{"name":..,"message":..}]}
SharedBytes EncodeStreamClosed(std::string_view stream_id, const std::optional<AckError>& error);

// ---- Invocation (PROTOCOL.md §9.2, preview) -----------------------------------------------

// {"type":"invokeResponse","invocationId":"<id>","success":true[,"dataType":..,"data":..]} or
// {"type":"invokeResponse","invocationId":"<id>","success":false,"error":{"name","message"}}.
// Not a data message: it carries no sequenceId (the SDK matches it by invocationId only).
SharedBytes EncodeInvokeResponse(std::string_view invocation_id,
                                 const std::optional<Payload>& payload);
SharedBytes EncodeInvokeError(std::string_view invocation_id, std::string_view name,
                              std::string_view message);

// ---- Client side: decoder ---------------------------------------------------------------

struct AckMessage {
  uint64_t ack_id = 0;
  bool success = false;
  std::optional<AckError> error;
  bool operator==(const AckMessage&) const = default;
};
struct GroupDataMessage {
  std::string group;
  std::optional<std::string> from_user_id;  // nullopt for null or absent
  Payload payload;  // a stream message without `data` has an empty json payload
  std::optional<uint64_t> sequence_id;      // reliable protocol only
  std::optional<StreamInfo> stream;         // group streaming only
  bool operator==(const GroupDataMessage&) const = default;
};
struct ServerDataMessage {
  Payload payload;
  std::optional<uint64_t> sequence_id;
  bool operator==(const ServerDataMessage&) const = default;
};
struct ConnectedMessage {
  std::string connection_id;
  std::optional<std::string> user_id;
  std::optional<std::string> reconnection_token;
  bool operator==(const ConnectedMessage&) const = default;
};
struct DisconnectedMessage {
  std::string message;
  bool operator==(const DisconnectedMessage&) const = default;
};
struct PongMessage {
  bool operator==(const PongMessage&) const = default;
};
struct StreamAckMessage {
  std::string stream_id;
  uint64_t expected_sequence_id = 0;
  bool operator==(const StreamAckMessage&) const = default;
};
struct StreamNackMessage {
  std::string stream_id;
  std::string name;
  std::string message;
  uint64_t expected_sequence_id = 0;
  bool operator==(const StreamNackMessage&) const = default;
};
struct StreamClosedMessage {
  std::string stream_id;
  std::optional<AckError> error;
  bool operator==(const StreamClosedMessage&) const = default;
};
struct InvokeResponseMessage {
  std::string invocation_id;
  bool success = false;
  std::optional<Payload> payload;  // success with data only
  std::optional<AckError> error;
  bool operator==(const InvokeResponseMessage&) const = default;
};
// A well-formed JSON object the client does not understand (ignored by the JS SDK).
struct UnknownMessage {
  std::string type;    // the `type` member, "" if absent or not a string
  std::string reason;  // e.g. "unknown type", "unknown dataType"
  bool operator==(const UnknownMessage&) const = default;
};

using ServiceMessage =
    std::variant<AckMessage, GroupDataMessage, ServerDataMessage, ConnectedMessage,
                 DisconnectedMessage, PongMessage, StreamAckMessage, StreamNackMessage,
                 StreamClosedMessage, InvokeResponseMessage, UnknownMessage>;

Result<ServiceMessage> DecodeServiceMessage(std::string_view text);

}  // namespace wpsim::protocol::webpubsub
