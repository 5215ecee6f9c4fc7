// Incremental MQTT 3.1.1 / 5.0 decoder for one network connection.
//
// Theory of operation. The decoder is fed the connection's bytes in whatever chunks the
// transport delivers (a WebSocket frame may carry several packets or part of one,
// [MQTT-6.0.0-2]); Decode consumes bytes from the front of the caller's span until one packet
// is complete, the span is exhausted, or the input is found to break the spec. States:
//
//   kFixedHeader  collecting byte 1 and the Remaining Length (1-4 bytes). As soon as the
//                 length is known it is checked against the maximum packet size, so an
//                 oversized packet is refused before any of its body is buffered.
//   kBody         collecting Remaining Length bytes. When the whole body is inside the
//                 caller's span it is parsed in place (no copy); otherwise the partial body
//                 is copied into an internal buffer that never exceeds the maximum packet
//                 size.
//   kFailed       sticky: after an error every call returns kError with the same error.
//
// Rules the decoder enforces beyond single-packet syntax, because they decide how to parse:
// a server-side decoder accepts CONNECT first and only once ([MQTT-3.1.0-1], [MQTT-3.1.0-2])
// and, when configured with ProtocolVersion::kUnknown, takes the protocol version from that
// CONNECT; a client-side decoder accepts CONNACK (or 5.0 AUTH) first and CONNACK only once.
// Each side refuses packet types that only travel the other way.
//
// Every error carries what the spec says the receiver must do (close; CONNACK then close;
// 5.0 DISCONNECT then close), the reason code for that reply, and the normative statement
// ([MQTT-x.y.z-n], or a section where the rule has no number) that was broken.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/mqtt/types.h"

namespace wpsim::protocol::mqtt {

// Which end of the connection decodes: a kServer decoder reads what clients send.
enum class Role : uint8_t { kServer, kClient };

// What the receiver must do about a decoding error.
enum class Reaction : uint8_t {
  // Close the network connection without sending anything (all 3.1.1 errors except the two
  // CONNACK cases; any error before the protocol version is known).
  kCloseConnection,
  // Send CONNACK with `reason_code` encoded for `reply_version` (mapped to a return code for
  // 3.1.1), then close. Only for errors in CONNECT on the server side.
  kSendConnackAndClose,
  // 5.0: send DISCONNECT with `reason_code`, then close ([MQTT-4.13.1-1]).
  kSendDisconnectAndClose,
};
std::string_view ReactionName(Reaction reaction);

struct DecodeError {
  // 0x81 Malformed Packet, 0x82 Protocol Error, 0x84 Unsupported Protocol Version,
  // 0x85 Client Identifier not valid (3.1.1 return code 2), 0x95 Packet too large.
  ReasonCode reason_code = ReasonCode::kMalformedPacket;
  Reaction reaction = Reaction::kCloseConnection;
  // The version in which to encode the CONNACK or DISCONNECT reply.
  ProtocolVersion reply_version = ProtocolVersion::kUnknown;
  // "MQTT-3.3.1-4" style identifier, or "§2.2.2.2"-style section where no identifier exists.
  std::string_view statement;
  std::string message;
  // Offset in the connection's byte stream of the first byte of the offending packet.
  uint64_t stream_offset = 0;
  // Packet type byte 1 >> 4 of the offending packet (0 when not yet known).
  uint8_t packet_type = 0;

  // As a wpsim::Error: code "mqtt.malformed_packet", "mqtt.protocol_error",
  // "mqtt.unsupported_protocol_version", "mqtt.client_identifier_not_valid" or
  // "mqtt.packet_too_large"; message "[statement] message".
  Error ToError() const;
};

// The largest packet a decoder accepts unless told otherwise: the Web PubSub client message
// limit (PROTOCOL.md §13, 1 MB), which also bounds the decoder's buffer.
inline constexpr uint32_t kDefaultMaxPacketSize = 1024 * 1024;

struct DecoderOptions {
  Role role = Role::kServer;
  // kUnknown (server only): accept 3.1.1 or 5.0, as the CONNECT says. Otherwise only this.
  ProtocolVersion version = ProtocolVersion::kUnknown;
  // Largest total packet (fixed header included) accepted; 5.0 "Maximum Packet Size".
  uint32_t max_packet_size = kDefaultMaxPacketSize;
  // Skip the CONNECT-first / CONNACK-first ordering (tests, fuzzing, resumed streams).
  // The version must then be known.
  bool handshake_done = false;
};

enum class DecodeStatus : uint8_t { kPacket, kNeedMore, kError };

// A PUBACK, PUBREC, PUBREL or PUBCOMP without properties, as Decoder::DecodeSimpleAck
// reports it (the same packet Decode would produce, minus the empty Properties).
struct SimpleAck {
  PacketType type = PacketType::kPuback;
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
};

class Decoder {
 public:
  explicit Decoder(DecoderOptions options = {});

  // Consumes bytes from the front of *input. kPacket: *out holds the next packet and *input
  // starts after it (call again: more packets may follow). kNeedMore: *input was consumed
  // entirely; a partial packet is kept. kError: see error(); the decoder stays failed.
  // When *out already holds the decoded packet's type, its strings and vectors are reused,
  // so a steady stream of PUBLISH packets decodes without allocating.
  DecodeStatus Decode(std::span<const uint8_t>* input, Packet* out);
  // Fast path for the most frequent packet a QoS 1 fan-out brings back (one PUBACK per
  // delivery). When nothing is buffered and *input starts with a complete, valid PUBACK,
  // PUBREC, PUBREL or PUBCOMP whose body is the Packet Identifier (5.0: plus an allowed reason
  // code, no properties), the packet is consumed and returned in *out without touching a
  // Packet or parsing properties. In every other case (another type, a longer or split
  // packet, anything Decode would refuse) nothing is consumed and false is returned: call
  // Decode, which decides exactly as before.
  bool DecodeSimpleAck(std::span<const uint8_t>* input, SimpleAck* out);

  bool failed() const { return state_ == State::kFailed; }
  const DecodeError& error() const { return error_; }
  // kUnknown until a server-side decoder has seen CONNECT.
  ProtocolVersion version() const { return version_; }
  Role role() const { return options_.role; }
  uint32_t max_packet_size() const { return options_.max_packet_size; }
  // E.g. after CONNACK announced a smaller Maximum Packet Size. Applies from the next packet.
  void set_max_packet_size(uint32_t max_packet_size) {
    options_.max_packet_size = max_packet_size;
  }
  // Bytes consumed since construction.
  uint64_t stream_offset() const { return stream_offset_; }
  // Bytes of an incomplete packet held internally (0 between packets).
  size_t buffered_bytes() const { return header_size_ + body_.size(); }

 private:
  enum class State : uint8_t { kFixedHeader, kBody, kFailed };

  DecodeStatus ParseBody(std::span<const uint8_t> body, Packet* out);
  DecodeStatus Fail(DecodeError error);

  DecoderOptions options_;
  ProtocolVersion version_;
  State state_ = State::kFixedHeader;
  bool connect_seen_ = false;  // server: CONNECT decoded; client: CONNACK decoded
  uint8_t header_[5] = {};
  size_t header_size_ = 0;
  uint32_t remaining_length_ = 0;
  bool non_minimal_length_ = false;  // 3.1.1 allows it; a 5.0 CONNECT is refused after all
  uint64_t stream_offset_ = 0;
  uint64_t packet_start_ = 0;
  std::vector<uint8_t> body_;
  DecodeError error_;
};

// Decodes exactly one complete packet (tests, tools). Trailing bytes are an error.
Result<Packet> DecodePacket(std::span<const uint8_t> bytes, DecoderOptions options);

}  // namespace wpsim::protocol::mqtt
