// A runtime-agnostic echo / ping-pong test body: the same code runs on SimRuntime
// (sim_network_test.cc) and can run on UvRuntime over 127.0.0.1, with or without a TLS wrapper
// (pass `wrap`). It only uses the seam, so whatever passes here behaves the same on both.
//
//   Status s = contract::EchoPingPong(server_rt, client_rt, Address{"127.0.0.1", 0},
//                                     [&](const std::function<bool()>& done) { ...run loop... });
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "sim/seam.h"

namespace wpsim::sim::contract {

// Runs the loop until done() is true; returns false if it gave up (time or event budget).
using RunUntilFn = std::function<bool(const std::function<bool()>& done)>;
// Wraps a freshly connected stream (e.g. in TLS); is_server tells which end it is.
using WrapFn = std::function<std::unique_ptr<Stream>(std::unique_ptr<Stream>, bool is_server)>;

struct EchoOptions {
  int rounds = 50;                 // ping-pong round trips, message size grows each round
  size_t bulk_bytes = 1 << 20;     // then one bulk transfer echoed back in full
  WrapFn wrap;                     // optional
};

namespace detail {

class EchoServer : public StreamHandler {
 public:
  std::unique_ptr<Stream> stream;
  bool ended = false;
  void OnData(std::span<const uint8_t> data) override { stream->Write(data); }
  void OnEnd() override {
    ended = true;
    stream->Close();
  }
  void OnClosed(CloseReason, std::string_view) override {}
};

class EchoClient : public StreamHandler {
 public:
  std::unique_ptr<Stream> stream;
  std::string received;
  bool ended = false;
  bool closed = false;
  std::string close_detail;
  void OnData(std::span<const uint8_t> data) override { received.append(AsString(data)); }
  void OnEnd() override { ended = true; }
  void OnClosed(CloseReason reason, std::string_view detail) override {
    closed = true;
    close_detail = std::string(CloseReasonName(reason)) + ": " + std::string(detail);
  }
};

}  // namespace detail

inline Status EchoPingPong(Runtime& server_rt, Runtime& client_rt, const Address& listen_at,
                           const RunUntilFn& run_until, const EchoOptions& options = {}) {
  detail::EchoServer server;
  detail::EchoClient client;
  auto listener = server_rt.Listen(listen_at, [&](std::unique_ptr<Stream> s) {
    server.stream = options.wrap ? options.wrap(std::move(s), true) : std::move(s);
    server.stream->SetHandler(&server);
  });
  if (!listener.ok()) return listener.error();
  std::optional<Error> dial_error;
  client_rt.Dial((*listener)->address(), [&](Result<std::unique_ptr<Stream>> r) {
    if (!r.ok()) {
      dial_error = r.error();
      return;
    }
    client.stream = options.wrap ? options.wrap(std::move(r).value(), false) : std::move(r).value();
    client.stream->SetHandler(&client);
  });
  if (!run_until([&] { return dial_error.has_value() || (client.stream && server.stream); })) {
    return MakeError("echo_timeout", "connection was not established");
  }
  if (dial_error.has_value()) return *dial_error;

  std::string expected;
  for (int round = 0; round < options.rounds; ++round) {
    std::string msg = "ping " + std::to_string(round) + " ";
    msg.append(static_cast<size_t>(round) * 37, static_cast<char>('a' + round % 26));
    expected += msg;
    if (!client.stream->Write(AsBytes(msg))) return MakeError("echo_write", "write refused");
    if (!run_until([&] { return client.closed || client.received.size() >= expected.size(); })) {
      return MakeError("echo_timeout", "round " + std::to_string(round) + " never came back");
    }
    if (client.closed) return MakeError("echo_closed", client.close_detail);
    if (client.received != expected) {
      return MakeError("echo_mismatch", "round " + std::to_string(round) + " came back altered");
    }
  }
  std::string bulk(options.bulk_bytes, '\0');
  for (size_t i = 0; i < bulk.size(); ++i) bulk[i] = static_cast<char>((i * 131) >> 3);
  expected += bulk;
  if (!client.stream->Write(SharedBytes::Copy(bulk))) return MakeError("echo_write", "refused");
  client.stream->Shutdown();
  if (!run_until([&] { return client.closed || client.ended; })) {
    return MakeError("echo_timeout", "bulk echo did not finish");
  }
  if (client.closed) return MakeError("echo_closed", client.close_detail);
  if (client.received != expected) {
    return MakeError("echo_mismatch", "bulk echo came back altered (" +
                                          std::to_string(client.received.size()) + " of " +
                                          std::to_string(expected.size()) + " bytes)");
  }
  if (!server.ended) return MakeError("echo_end", "server never saw the client's EOF");
  client.stream->Close();
  return Status::Ok();
}

}  // namespace wpsim::sim::contract
