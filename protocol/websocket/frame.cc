#include "protocol/websocket/frame.h"

#include <wslay/wslay.h>

#include <algorithm>
#include <cstring>

#include "base/encoding.h"
#include "base/result.h"

namespace wpsim::protocol::websocket {
namespace {

// wslay's frame encoder, pointed at a caller-owned buffer. The context is created once per
// thread and reused: wslay_frame_send keeps no state between complete frames.
struct FrameWriter {
  uint8_t* cursor = nullptr;
  uint8_t* limit = nullptr;
  const std::array<uint8_t, 4>* mask = nullptr;

  static ssize_t Send(const uint8_t* data, size_t len, int /*flags*/, void* user) {
    auto* w = static_cast<FrameWriter*>(user);
    WPSIM_ASSERT(static_cast<size_t>(w->limit - w->cursor) >= len);
    std::memcpy(w->cursor, data, len);
    w->cursor += len;
    return static_cast<ssize_t>(len);
  }
  static int GenMask(uint8_t* buf, size_t len, void* user) {
    auto* w = static_cast<FrameWriter*>(user);
    WPSIM_ASSERT(len == 4 && w->mask != nullptr);
    std::memcpy(buf, w->mask->data(), 4);
    return 0;
  }
};

struct ThreadFrameContext {
  FrameWriter writer;
  wslay_frame_context_ptr ctx = nullptr;
  ThreadFrameContext() {
    const wslay_frame_callbacks cb{FrameWriter::Send, nullptr, FrameWriter::GenMask};
    WPSIM_ASSERT(wslay_frame_context_init(&ctx, &cb, &writer) == 0);
  }
  ~ThreadFrameContext() { wslay_frame_context_free(ctx); }
};

ThreadFrameContext& Context() {
  thread_local ThreadFrameContext c;
  return c;
}

void Send(ThreadFrameContext& c, const FrameSpec& spec, std::span<const uint8_t> payload) {
  wslay_frame_iocb iocb{};
  iocb.fin = spec.fin ? 1 : 0;
  iocb.rsv = spec.rsv;
  iocb.opcode = static_cast<uint8_t>(spec.opcode);
  iocb.payload_length = payload.size();
  iocb.mask = spec.masked ? 1 : 0;
  iocb.data = payload.data();
  iocb.data_length = payload.size();
  c.writer.mask = &spec.mask;
  const ssize_t r = wslay_frame_send(c.ctx, &iocb);
  WPSIM_ASSERT(r >= 0 && static_cast<size_t>(r) == payload.size());
}

}  // namespace

std::string_view OpcodeName(Opcode opcode) {
  switch (opcode) {
    case Opcode::kContinuation: return "continuation";
    case Opcode::kText: return "text";
    case Opcode::kBinary: return "binary";
    case Opcode::kClose: return "close";
    case Opcode::kPing: return "ping";
    case Opcode::kPong: return "pong";
  }
  return "reserved";
}

bool IsValidCloseCode(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code >= 1000 && code <= 1003) return true;
  return code >= 1007 && code <= 1014;
}

std::string_view CloseReasonForFrame(std::string_view reason) {
  Utf8Validator validator;
  size_t boundary = 0;  // end of the last complete code point fed
  const size_t limit = std::min(reason.size(), kCloseReasonMax);
  for (size_t i = 0; i < limit; ++i) {
    const uint8_t b = static_cast<uint8_t>(reason[i]);
    if (!validator.Feed(std::span<const uint8_t>(&b, 1))) break;
    if (validator.Complete()) boundary = i + 1;
  }
  return reason.substr(0, boundary);
}

size_t FrameHeaderSize(size_t payload_size, bool masked) {
  size_t n = 2;
  if (payload_size >= (1u << 16)) {
    n += 8;
  } else if (payload_size >= 126) {
    n += 2;
  }
  return n + (masked ? 4 : 0);
}

SharedBytes EncodeServerFrame(Opcode opcode, std::span<const uint8_t> payload) {
  // Control frames carry at most 125 bytes (asserted by wslay returning an error).
  WPSIM_ASSERT(!IsControl(opcode) || payload.size() <= kControlPayloadMax);
  const size_t total = FrameHeaderSize(payload.size(), false) + payload.size();
  SharedBytes frame = SharedBytes::Allocate(total);
  ThreadFrameContext& c = Context();
  c.writer.cursor = frame.mutable_data();
  c.writer.limit = c.writer.cursor + total;
  FrameSpec spec;
  spec.opcode = opcode;
  Send(c, spec, payload);
  WPSIM_ASSERT(c.writer.cursor == c.writer.limit);
  return frame;
}

void AppendFrame(std::string& out, const FrameSpec& spec, std::span<const uint8_t> payload) {
  // Written by hand rather than through wslay so that tests can build frames wslay refuses to
  // send (oversized or fragmented control frames, reserved opcodes, RSV bits).
  out += static_cast<char>((spec.fin ? 0x80 : 0) | ((spec.rsv & 7) << 4) |
                           (static_cast<uint8_t>(spec.opcode) & 0xF));
  const uint8_t mask_bit = spec.masked ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(mask_bit | n);
  } else if (n < (1u << 16)) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  }
  if (spec.masked) {
    for (uint8_t b : spec.mask) out += static_cast<char>(b);
  }
  for (size_t i = 0; i < payload.size(); ++i) {
    out += static_cast<char>(spec.masked ? payload[i] ^ spec.mask[i % 4] : payload[i]);
  }
}

}  // namespace wpsim::protocol::websocket
