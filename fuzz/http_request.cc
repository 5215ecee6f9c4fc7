// libFuzzer: the server side of an HTTP/1.1 connection fed arbitrary bytes. The first byte
// picks how the input is split into reads; every request is answered (pipelined ones newest
// first), upgrades are accepted, and EOF follows. Invariants: the connection never asserts,
// every error carries a status we answer, and output only grows by whole responses.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/http/server_connection.h"

using wpsim::protocol::http::Limits;
using wpsim::protocol::http::Response;
using wpsim::protocol::http::ServerConnection;
using wpsim::protocol::http::ServerEvent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  Limits limits;
  limits.url_bytes_max = 256;
  limits.header_bytes_max = 1024;
  limits.header_count_max = 16;
  limits.body_bytes_max = 512;
  limits.pipelined_requests_max = 4;
  limits.upgrade_buffer_bytes_max = 256;
  ServerConnection conn(limits);
  std::vector<uint64_t> pending;
  auto poll = [&] {
    while (auto ev = conn.PollEvent()) {
      switch (ev->kind) {
        case ServerEvent::Kind::kRequest:
          if (ev->request.upgrade && (ev->request.id & 1)) {
            Response r;
            r.status = 101;
            (void)conn.AcceptUpgrade(ev->request.id, r);
          } else {
            pending.push_back(ev->request.id);
          }
          break;
        case ServerEvent::Kind::kContinue:
          conn.Continue(ev->request.id);
          break;
        case ServerEvent::Kind::kError: {
          const int s = ev->error.status;
          WPSIM_ASSERT(s == 400 || s == 413 || s == 414 || s == 429 || s == 431 || s == 505);
          break;
        }
      }
    }
    while (!pending.empty()) {
      Response r;
      r.body = "ok";
      conn.Respond(pending.back(), r);
      pending.pop_back();
    }
    while (conn.HasOutput()) conn.ConsumeOutput(conn.PeekOutput().size());
  };
  std::span<const uint8_t> rest(data + 1, size - 1);
  while (!rest.empty()) {
    const size_t n = std::min(step, rest.size());
    conn.Receive(rest.first(n));
    rest = rest.subspan(n);
    poll();
  }
  conn.ReceiveEof();
  poll();
  return 0;
}
