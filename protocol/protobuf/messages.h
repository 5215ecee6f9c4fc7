// The Web PubSub protobuf subprotocols, protobuf.webpubsub.azure.v1 and
// protobuf.reliable.webpubsub.azure.v1 (PROTOCOL.md §7): UpstreamMessage (client → service)
// and DownstreamMessage (service → client), one per WebSocket binary frame, with the newest
// documented field numbers (the docs' page and the Microsoft emulator's webpubsub.client.proto):
//
//   UpstreamMessage   oneof { send_to_group_message = 1; event_message = 5;
//                             join_group_message = 6; leave_group_message = 7;
//                             sequence_ack_message = 8; ping_message = 9;
//                             stream_data_message = 13; stream_end_message = 14; }
//     SendToGroupMessage { string group = 1; optional uint64 ack_id = 2; MessageData data = 3;
//                          optional bool no_echo = 4; [optional uint32 ttl_seconds = 5;
//                          map<string,string> metadata = 6;] StreamStartInfo stream = 7; }
//     StreamStartInfo    { string stream_id = 1; optional uint32 idle_timeout_ms = 2; }
//     EventMessage       { string event = 1; MessageData data = 2; optional uint64 ack_id = 3;
//                          [map<string,string> metadata = 4;] StreamStartInfo stream = 5; }
//     JoinGroupMessage / LeaveGroupMessage { string group = 1; optional uint64 ack_id = 2; }
//     SequenceAckMessage { uint64 sequence_id = 1; }   PingMessage {}
//     StreamDataMessage  { string stream_id = 1; optional uint64 stream_sequence_id = 2;
//                          MessageData data = 3; }
//     StreamEndMessage   { string stream_id = 1; optional StreamEndError error = 2; }
//                        StreamEndError { optional string message = 1;
//                                         optional string user_error_code = 2; }
//   DownstreamMessage oneof { ack_message = 1; data_message = 2; system_message = 3;
//                             pong_message = 4; stream_ack_message = 6;
//                             stream_nack_message = 7; stream_closed_message = 8; }
//     AckMessage  { uint64 ack_id = 1; bool success = 2; optional ErrorMessage error = 3; }
//                 ErrorMessage { string name = 1; string message = 2; }
//     DataMessage { string from = 1; optional string group = 2; MessageData data = 3;
//                   optional uint64 sequence_id = 4; map<string,string> metadata = 5;
//                   StreamInfo stream = 6; }
//     SystemMessage oneof { ConnectedMessage connected_message = 1
//                             { string connection_id = 1; string user_id = 2;
//                               optional string reconnection_token = 3; }
//                           DisconnectedMessage disconnected_message = 2 { string reason = 2; } }
//     StreamAckMessage    { string stream_id = 1; uint64 expected_sequence_id = 2; }
//     StreamNackMessage   { string stream_id = 1; string name = 2; string message = 3;
//                           uint64 expected_sequence_id = 4; }
//     StreamClosedMessage { string stream_id = 1; optional StreamClosedError error = 2; }
//                         StreamClosedError { string name = 1; string message = 2; }
//   StreamInfo  { string stream_id = 1; uint64 stream_sequence_id = 2;
//                 optional bool end_of_stream = 3; optional StreamError error = 4; }
//               StreamError { string name = 1; string message = 2; string user_error_code = 3; }
//   MessageData oneof { string text_data = 1; bytes binary_data = 2;
//                       google.protobuf.Any protobuf_data = 3; string json_data = 4; }
//
// Decoding an UpstreamMessage (service side) yields the same webpubsub::Request the JSON
// subprotocol decodes to, so the service runs one request handler for both. Rules (each
// violation is webpubsub::kInvalidMessage, which the service answers by closing the WebSocket
// with 1007 and kInvalidMessageCloseReason):
//   * the wire format is valid (protocol/protobuf/wire.h); unknown fields are skipped;
//   * a known field has the wire type its declaration implies; strings are valid UTF-8;
//   * exactly the oneof member that appears last counts; a member that appears twice is
//     merged field by field (proto3 merge semantics for messages of scalars);
//   * no oneof member at all (an empty frame), or a member this service does not know (such
//     as the newer streaming messages) appearing last, is webpubsub::kUnknownType (also 1007);
//   * group and event names follow PROTOCOL.md §13 (as in JSON; DecodeOptions can switch
//     this off);
//   * sendToGroup and event need `data` with one MessageData member set. text_data → text
//     payload; binary_data → binary; protobuf_data → protobuf payload holding the Any message's
//     encoding, which must itself parse as an Any (string type_url = 1; bytes value = 2);
//     json_data (emulator extension) → json payload, which must be one valid JSON value;
//   * group streams (PROTOCOL.md §9.1, the docs' newest .proto): a send_to_group_message with
//     `stream` is a StreamStartRequest (no data allowed; stream_id non-empty; idle_timeout_ms,
//     when present, > 0); stream_data_message needs a non-empty stream_id and either both a
//     positive stream_sequence_id and data or neither (a keepalive); stream_end_message an
//     optional error. An event_message with `stream` is refused (event streams are not
//     documented for the service);
//   * ttl_seconds (0..300) and metadata (emulator extensions, PROTOCOL.md §9.4) follow the
//     JSON rules (client_requests.h): metadata rides on the payload and must pass
//     webpubsub::ValidateMetadata (a map key given twice keeps its last value, protobuf map
//     semantics); metadata without data is an empty text payload; a DataMessage carries the
//     payload's metadata as field 5.
//
// Encoding a DownstreamMessage (service side) writes fields in field-number order with proto3
// defaults omitted (ack_id 0, success false, an empty user_id), as protobufjs and the C#
// runtime do, so the bytes are canonical. Payloads for protobuf receivers: text → text_data,
// binary → binary_data, protobuf → protobuf_data (the Any bytes verbatim), json → text_data
// holding the JSON text (the docs' rule; json_data is never sent).
//
// Fan-out: a data message is encoded once. For the reliable subprotocol each receiver needs its
// own sequence_id; SequencedMessage keeps the DataMessage fields 1-3 as one shared body and per
// receiver writes only the 1-3 byte DownstreamMessage head, the body (memcpy) and the trailing
// `sequence_id` field (fields may appear in any order on the wire, and 4 stays last anyway).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/webpubsub/payload.h"
#include "protocol/webpubsub/service_messages.h"

namespace wpsim::protocol::protobuf {

inline constexpr std::string_view kProtobufSubprotocol = "protobuf.webpubsub.azure.v1";
inline constexpr std::string_view kReliableProtobufSubprotocol =
    "protobuf.reliable.webpubsub.azure.v1";
// The close reason sent with 1007 for a malformed UpstreamMessage.
inline constexpr std::string_view kInvalidMessageCloseReason =
    "The client message is not a valid protobuf protocol message.";

// ---- Client → service -------------------------------------------------------------------

struct DecodeOptions {
  bool validate_names = true;
};

// Decodes one UpstreamMessage (the payload of one WebSocket binary frame).
Result<webpubsub::Request> DecodeUpstreamMessage(std::span<const uint8_t> bytes,
                                                 const DecodeOptions& options = {});

// Client-side encoders (simulated clients, tests, benchmarks). Optional fields are written when
// set, as protobufjs does; no_echo is always written (like the JS SDK's JSON requests).
SharedBytes EncodeJoinGroupRequest(std::string_view group, std::optional<uint64_t> ack_id);
SharedBytes EncodeLeaveGroupRequest(std::string_view group, std::optional<uint64_t> ack_id);
// ttl_seconds (field 5) when set; the payload's metadata as map entries (6; event: 4).
SharedBytes EncodeSendToGroupRequest(std::string_view group, const webpubsub::Payload& payload,
                                     std::optional<uint64_t> ack_id, bool no_echo,
                                     std::optional<uint32_t> ttl_seconds = std::nullopt);
SharedBytes EncodeEventRequest(std::string_view event, const webpubsub::Payload& payload,
                               std::optional<uint64_t> ack_id);
SharedBytes EncodeSequenceAckRequest(uint64_t sequence_id);
SharedBytes EncodePingRequest();
SharedBytes EncodeStreamStartRequest(const webpubsub::StreamStartRequest& request);
SharedBytes EncodeStreamDataRequest(const webpubsub::StreamDataRequest& request);
SharedBytes EncodeStreamEndRequest(const webpubsub::StreamEndRequest& request);
// Any request DecodeUpstreamMessage can produce. Invocations have no protobuf form: passing one
// is a programmer error (asserted).
SharedBytes EncodeUpstreamMessage(const webpubsub::Request& request);

// ---- Service → client -------------------------------------------------------------------

SharedBytes EncodeAck(uint64_t ack_id);
SharedBytes EncodeAckError(uint64_t ack_id, std::string_view name, std::string_view message);
// The Duplicate ack, with the JSON protocol's message text.
SharedBytes EncodeDuplicateAck(uint64_t ack_id);
SharedBytes EncodeConnected(std::string_view connection_id, std::optional<std::string_view> user_id,
                            std::optional<std::string_view> reconnection_token);
SharedBytes EncodeDisconnected(std::string_view reason);
SharedBytes EncodePong();
// DataMessage{from:"group", group, data} — protobuf has no fromUserId.
SharedBytes EncodeGroupMessage(std::string_view group, const webpubsub::Payload& payload);
// DataMessage{from:"server", data}.
SharedBytes EncodeServerMessage(const webpubsub::Payload& payload);

// Head: DownstreamMessage tag (1 byte) + DataMessage length (≤ 10 bytes); tail: sequence_id
// tag (1 byte) + varint (≤ 10 bytes).
inline constexpr size_t kSequencedOverheadMax = 22;

// A reliable-protocol DataMessage encoded once for all receivers (see the header comment).
class SequencedMessage {
 public:
  SequencedMessage() = default;
  // `body` must be DataMessage fields without sequence_id.
  explicit SequencedMessage(SharedBytes body) : body_(std::move(body)) {}

  const SharedBytes& body() const { return body_; }
  size_t RenderedSize(uint64_t sequence_id) const;
  // The complete DownstreamMessage for one receiver, into a reusable buffer (cleared first).
  void RenderInto(uint64_t sequence_id, std::string& out) const;
  SharedBytes Render(uint64_t sequence_id) const;

 private:
  SharedBytes body_;
};

SequencedMessage EncodeSequencedGroupMessage(std::string_view group,
                                             const webpubsub::Payload& payload);
SequencedMessage EncodeSequencedServerMessage(const webpubsub::Payload& payload);

// Group streams (PROTOCOL.md §9.1): a group DataMessage with StreamInfo (field 6); without a
// payload (a bare end-of-stream) it has no `data` member.
SharedBytes EncodeGroupStreamMessage(std::string_view group,
                                     const std::optional<webpubsub::Payload>& payload,
                                     const webpubsub::StreamInfo& stream);
SequencedMessage EncodeSequencedGroupStreamMessage(std::string_view group,
                                                   const std::optional<webpubsub::Payload>& payload,
                                                   const webpubsub::StreamInfo& stream);
SharedBytes EncodeStreamAck(std::string_view stream_id, uint64_t expected_sequence_id);
SharedBytes EncodeStreamNack(std::string_view stream_id, std::string_view name,
                             std::string_view message, uint64_t expected_sequence_id);
SharedBytes EncodeStreamClosed(std::string_view stream_id,
                               const std::optional<webpubsub::AckError>& error);

// ---- Client side: decoder ---------------------------------------------------------------

// Decodes one DownstreamMessage into the JSON protocol's message types (GroupDataMessage has no
// from_user_id; json_data becomes a json payload; a stream's DataMessage without data has an
// empty json payload, as in JSON; stream ack/nack/closed become StreamAck/Nack/ClosedMessage). A
// DownstreamMessage member this decoder does not know is UnknownMessage (type "field <n>"), like an
// unknown JSON type; an empty user_id is nullopt. Wire-format errors, wrong wire types and invalid
// UTF-8 are kInvalidMessage.
Result<webpubsub::ServiceMessage> DecodeDownstreamMessage(std::span<const uint8_t> bytes);

}  // namespace wpsim::protocol::protobuf
