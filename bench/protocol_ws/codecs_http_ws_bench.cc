// Micro-benchmarks of the HTTP/1.1 and WebSocket codecs (results: docs/performance.md,
// "HTTP and WebSocket codecs").
#include <benchmark/benchmark.h>

#include <string>

#include "protocol/http/parser.h"
#include "protocol/http/server_connection.h"
#include "protocol/websocket/frame.h"
#include "protocol/websocket/session.h"

namespace {

using namespace wpsim::protocol;

const std::string kPayload64(64, 'm');  // a 64-byte group message body

// Server -> client: one 64-byte text frame, header + payload in one SharedBytes.
void BM_WsEncodeServerFrame64(benchmark::State& state) {
  for (auto _ : state) {
    wpsim::SharedBytes f = websocket::EncodeServerFrame(websocket::Opcode::kText, kPayload64);
    benchmark::DoNotOptimize(f.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WsEncodeServerFrame64);

// The per-subscriber fan-out cost: queue a pre-encoded frame on a session and write it out.
void BM_WsFanOutSendEncoded64(benchmark::State& state) {
  websocket::Session s(websocket::Role::kServer, websocket::SessionOptions{});
  const wpsim::SharedBytes f = websocket::EncodeServerFrame(websocket::Opcode::kText, kPayload64);
  for (auto _ : state) {
    (void)s.SendEncoded(f);
    benchmark::DoNotOptimize(s.output().FrontShared());
    s.output().Consume(s.output().bytes());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WsFanOutSendEncoded64);

// A session encoding its own 64-byte text frame into its output queue (server: unmasked).
void BM_WsSessionSendText64(benchmark::State& state) {
  websocket::Session s(websocket::Role::kServer, websocket::SessionOptions{});
  for (auto _ : state) {
    (void)s.Send(websocket::Opcode::kText, wpsim::AsBytes(kPayload64));
    s.output().Consume(s.output().bytes());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WsSessionSendText64);

// Client -> server direction, encode side: the client masks with a key from its Rng.
void BM_WsClientEncodeMasked64(benchmark::State& state) {
  websocket::Session s(websocket::Role::kClient, websocket::SessionOptions{}, wpsim::sim::Rng(1));
  for (auto _ : state) {
    (void)s.Send(websocket::Opcode::kText, wpsim::AsBytes(kPayload64));
    s.output().Consume(s.output().bytes());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WsClientEncodeMasked64);

// Server decode of a client-masked 64-byte text frame: Receive, unmask, UTF-8 check, event.
void BM_WsServerDecodeMasked64(benchmark::State& state) {
  std::string frame;
  websocket::FrameSpec spec;
  spec.masked = true;
  spec.mask = {0x12, 0x34, 0x56, 0x78};
  websocket::AppendFrame(frame, spec, wpsim::AsBytes(kPayload64));
  websocket::Session s(websocket::Role::kServer, websocket::SessionOptions{});
  size_t bytes = 0;
  for (auto _ : state) {
    s.Receive(0, wpsim::AsBytes(frame));
    auto ev = s.PollEvent();
    benchmark::DoNotOptimize(ev->payload.data());
    bytes += ev->payload.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_WsServerDecodeMasked64);

// A typical REST call as the JS server SDK sends it (sendToGroup with a JSON body).
const std::string kRestRequest =
    "POST /api/hubs/chat/groups/group1/:send?api-version=2024-12-01 HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "Content-Type: application/json\r\n"
    "Accept: application/json\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0"
    "OjgwODAvYXBpL2h1YnMvY2hhdC9ncm91cHMvZ3JvdXAxLzpzZW5kIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAw"
    "MDM2MDB9.2gTqYvE0pT2w3mU8n8sF1v3aG0lZrQ4hK9cXy5bN7e0\r\n"
    "User-Agent: azsdk-js-web-pubsub/1.2.0 core-rest-pipeline/1.16.0 Node/20.11.0 OS/(x64-Linux)\r\n"
    "x-ms-client-request-id: 5e0c4a0e-9d0b-4c55-9a7b-1f1c0b9d2e11\r\n"
    "Content-Length: 64\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    R"({"type":"message","data":"012345678901234567890123456789012345"})";  // 64 bytes

static_assert(sizeof(R"({"type":"message","data":"012345678901234567890123456789012345"})") == 65);

// Parse only: llhttp plus our header/body accumulation, keep-alive requests back to back.
void BM_HttpParseRestRequest(benchmark::State& state) {
  http::Parser p(http::Parser::Type::kRequest, http::Limits{});
  for (auto _ : state) {
    p.Feed(wpsim::AsBytes(kRestRequest));
    http::ParserEvent ev = p.Next();
    benchmark::DoNotOptimize(ev.message.body.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRestRequest.size()));
}
BENCHMARK(BM_HttpParseRestRequest);

// The whole server round: parse, event, answer 202, take the output.
void BM_HttpServerRoundTripRest(benchmark::State& state) {
  http::ServerConnection c;
  for (auto _ : state) {
    c.Receive(wpsim::AsBytes(kRestRequest));
    auto ev = c.PollEvent();
    http::Response r;
    r.status = 202;
    c.Respond(ev->request.id, std::move(r));
    benchmark::DoNotOptimize(c.PeekOutput().data());
    c.ConsumeOutput(c.PeekOutput().size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpServerRoundTripRest);

}  // namespace
