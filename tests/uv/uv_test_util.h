// Helpers for UvRuntime tests: a recording stream handler and a connected loopback pair.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "sim/seam.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::sim::testing {

// Records everything a stream reports. Fails the test if a callback arrives while the test is
// inside a call on a seam object (callbacks must never be synchronous).
class Recorder : public StreamHandler {
 public:
  void OnData(std::span<const uint8_t> bytes) override {
    EXPECT_FALSE(in_user_call) << "OnData called synchronously";
    data.append(AsString(bytes));
    ++data_calls;
    if (on_data) on_data(bytes);
  }
  void OnEnd() override {
    EXPECT_FALSE(in_user_call) << "OnEnd called synchronously";
    EXPECT_FALSE(closed);
    ended = true;
    if (on_end) on_end();
  }
  void OnWritable() override {
    EXPECT_FALSE(in_user_call) << "OnWritable called synchronously";
    ++writable_calls;
    if (on_writable) on_writable();
  }
  void OnClosed(CloseReason r, std::string_view d) override {
    EXPECT_FALSE(in_user_call) << "OnClosed called synchronously";
    EXPECT_FALSE(closed) << "OnClosed called twice";
    closed = true;
    reason = r;
    detail = std::string(d);
    if (on_closed) on_closed();
  }

  std::string data;
  int data_calls = 0;
  bool ended = false;
  bool closed = false;
  CloseReason reason = CloseReason::kError;
  std::string detail;
  int writable_calls = 0;
  bool in_user_call = false;
  std::function<void(std::span<const uint8_t>)> on_data;
  std::function<void()> on_end;
  std::function<void()> on_writable;
  std::function<void()> on_closed;
};

struct StreamPair {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
  Recorder client_rec;
  Recorder server_rec;
};

// Listens on host:0, dials it, and runs the loop until both ends exist with handlers set.
inline std::unique_ptr<StreamPair> ConnectPair(UvRuntime& rt,
                                               const std::string& host = "127.0.0.1") {
  auto pair = std::make_unique<StreamPair>();
  StreamPair* p = pair.get();
  auto listener = rt.Listen(Address{host, 0}, [p](std::unique_ptr<Stream> s) {
    p->server = std::move(s);
    p->server->SetHandler(&p->server_rec);
  });
  if (!listener.ok()) {
    ADD_FAILURE() << listener.error().code << ": " << listener.error().message;
    return nullptr;
  }
  p->listener = std::move(listener.value());
  bool dial_failed = false;
  rt.Dial(p->listener->address(), [p, &dial_failed](Result<std::unique_ptr<Stream>> r) {
    if (!r.ok()) {
      ADD_FAILURE() << r.error().code << ": " << r.error().message;
      dial_failed = true;
      return;
    }
    p->client = std::move(r.value());
    p->client->SetHandler(&p->client_rec);
  });
  const bool ok = rt.RunUntil(
      [&] { return dial_failed || (p->client != nullptr && p->server != nullptr); }, 5 * kSecond);
  if (!ok || dial_failed) {
    ADD_FAILURE() << "could not connect a loopback pair on " << host;
    return nullptr;
  }
  return pair;
}

inline std::string PatternBytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  Rng rng(seed);
  for (auto& c : s) c = static_cast<char>(rng.Next() & 0xff);
  return s;
}

}  // namespace wpsim::sim::testing
