// WebSocket frame vocabulary (RFC 6455 §5, §7.4) and stand-alone frame encoding.
//
// EncodeServerFrame is the fan-out primitive: server-to-client frames are unmasked, so one
// encoded frame (header + payload in a single allocation) can be queued on every subscriber's
// session with Session::SendEncoded, sharing the bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/shared_bytes.h"

namespace wpsim::protocol::websocket {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};
std::string_view OpcodeName(Opcode opcode);
inline bool IsControl(Opcode opcode) { return (static_cast<uint8_t>(opcode) & 0x8) != 0; }

// Close status codes (RFC 6455 §7.4.1, IANA registry).
namespace close_code {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
inline constexpr uint16_t kNoStatus = 1005;        // never sent: "the close frame had no code"
inline constexpr uint16_t kAbnormal = 1006;        // never sent: "no close frame at all"
inline constexpr uint16_t kInvalidPayload = 1007;  // e.g. text that is not UTF-8
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kMandatoryExtension = 1010;
inline constexpr uint16_t kInternalError = 1011;
}  // namespace close_code

// True for codes an endpoint may put in a Close frame: 1000-1003, 1007-1014 (registered),
// 3000-4999 (libraries/applications). 1004-1006, 1015 and everything else are invalid on the
// wire (RFC 6455 §7.4.1-2; Autobahn|Testsuite 7.7.x / 7.9.x).
bool IsValidCloseCode(uint16_t code);

// Largest message reassembled by default: PROTOCOL.md §13 (1 MB client message limit; the
// emulator closes with 1009 beyond 1 MiB).
inline constexpr size_t kMessageBytesMaxDefault = 1024 * 1024;
// Largest control-frame payload (RFC 6455 §5.5).
inline constexpr size_t kControlPayloadMax = 125;
// Largest reason a Close frame can carry: the payload less its 2-byte status code.
inline constexpr size_t kCloseReasonMax = kControlPayloadMax - 2;

// The part of `reason` a Close frame carries: its longest prefix that is valid UTF-8, ends on a
// code point boundary and is at most kCloseReasonMax bytes. Reasons come from outside (REST
// `reason` parameters, event-handler answers, validation errors), so the cut happens where the
// frame is built rather than on each path that closes; the service's `disconnected` message and
// event keep the full reason.
std::string_view CloseReasonForFrame(std::string_view reason);

// Size of a frame header for a payload of `payload_size` bytes.
size_t FrameHeaderSize(size_t payload_size, bool masked);

// One unmasked, final frame (header + payload) in one SharedBytes allocation.
SharedBytes EncodeServerFrame(Opcode opcode, std::span<const uint8_t> payload);
inline SharedBytes EncodeServerFrame(Opcode opcode, std::string_view payload) {
  return EncodeServerFrame(opcode, AsBytes(payload));
}

// Any frame, valid or not, written without wslay (tests and tools): `masked` means a client
// frame masked with `mask`.
struct FrameSpec {
  Opcode opcode = Opcode::kText;
  bool fin = true;
  uint8_t rsv = 0;  // RSV1..3 as bits 2..0
  bool masked = false;
  std::array<uint8_t, 4> mask{};
};
void AppendFrame(std::string& out, const FrameSpec& spec, std::span<const uint8_t> payload);

}  // namespace wpsim::protocol::websocket
