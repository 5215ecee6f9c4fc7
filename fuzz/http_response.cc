// libFuzzer: the client side of an HTTP/1.1 connection fed arbitrary responses. The first
// byte says which of four requests were HEAD (bodies differ) and how to split the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "protocol/http/client_connection.h"

using wpsim::protocol::http::ClientConnection;
using wpsim::protocol::http::ClientEvent;
using wpsim::protocol::http::Limits;
using wpsim::protocol::http::Request;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Limits limits;
  limits.header_bytes_max = 1024;
  limits.header_count_max = 16;
  limits.body_bytes_max = 4096;
  ClientConnection conn(limits);
  for (int i = 0; i < 4; ++i) {
    Request r;
    r.method = (data[0] >> i) & 1 ? "HEAD" : "GET";
    r.target = "/r" + std::to_string(i);
    r.headers.Add("Host", "fuzz");
    conn.SendRequest(r);
  }
  (void)conn.TakeOutput();
  const size_t step = 1 + (data[0] >> 4) * 7;
  std::span<const uint8_t> rest(data + 1, size - 1);
  size_t finals = 0;
  while (!rest.empty()) {
    const size_t n = std::min(step, rest.size());
    conn.Receive(rest.first(n));
    rest = rest.subspan(n);
    while (auto ev = conn.PollEvent()) {
      if (ev->kind == ClientEvent::Kind::kResponse) {
        WPSIM_ASSERT(ev->response.body.size() <= limits.body_bytes_max);
        if (ev->response.status >= 200 || ev->response.status == 101) ++finals;
      }
    }
  }
  conn.ReceiveEof();
  while (auto ev = conn.PollEvent()) {
    // A body delimited by EOF completes here.
    if (ev->kind == ClientEvent::Kind::kResponse && ev->response.status >= 200) ++finals;
  }
  WPSIM_ASSERT(conn.outstanding() + finals >= 4);
  (void)conn.TakeUpgradeBytes();
  return 0;
}
