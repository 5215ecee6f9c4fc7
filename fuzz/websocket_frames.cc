// libFuzzer: a server WebSocket session fed arbitrary bytes, echoing messages like
// Autobahn's test server, with timers firing in between. Invariants: exactly one kClosed
// event at most, nothing after it, every delivered text message is UTF-8, no message exceeds
// the limit, and the session's output is a sequence of complete, unmasked frames.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/result.h"
#include "protocol/websocket/session.h"

using namespace wpsim::protocol::websocket;

namespace {
// Walks the output as frames; asserts they are complete and unmasked (server frames).
void CheckFrames(const std::vector<uint8_t>& out) {
  size_t p = 0;
  while (p < out.size()) {
    WPSIM_ASSERT(out.size() - p >= 2);
    WPSIM_ASSERT((out[p + 1] & 0x80) == 0);
    uint64_t len = out[p + 1] & 0x7F;
    size_t h = p + 2;
    if (len == 126) {
      WPSIM_ASSERT(out.size() >= h + 2);
      len = (uint64_t{out[h]} << 8) | out[h + 1];
      h += 2;
    } else if (len == 127) {
      WPSIM_ASSERT(out.size() >= h + 8);
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | out[h + i];
      h += 8;
    }
    WPSIM_ASSERT(out.size() - h >= len);
    p = h + len;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  SessionOptions options;
  options.message_bytes_max = 4096;
  options.keepalive_interval = 10;
  options.idle_timeout = 1000;
  options.fragment_bytes_max = data[1] % 2 ? 0 : 100;
  Session s(Role::kServer, options);
  s.Start(0);
  const size_t step = 1 + data[0] % 32;
  int closed = 0;
  Nanos now = 0;
  std::span<const uint8_t> rest(data + 2, size - 2);
  while (!rest.empty()) {
    const size_t n = std::min(step, rest.size());
    now += 3;
    s.Receive(now, rest.first(n));
    rest = rest.subspan(n);
    if (auto d = s.NextDeadline(); d && *d <= now) s.HandleTimeout(now);
    while (auto ev = s.PollEvent()) {
      WPSIM_ASSERT(closed == 0);
      if (ev->kind == Event::Kind::kClosed) {
        ++closed;
      } else if (ev->kind == Event::Kind::kMessage) {
        WPSIM_ASSERT(ev->payload.size() <= options.message_bytes_max);
        if (ev->opcode == Opcode::kText) WPSIM_ASSERT(wpsim::IsValidUtf8(ev->text()));
        (void)s.Send(ev->opcode, ev->payload);
      }
    }
  }
  s.ReceiveEof();
  while (auto ev = s.PollEvent()) {
    WPSIM_ASSERT(closed == 0 && ev->kind == Event::Kind::kClosed);
    ++closed;
  }
  WPSIM_ASSERT(closed == 1);
  std::vector<uint8_t> out;
  s.output().CopyTo(out);
  CheckFrames(out);
  return 0;
}
