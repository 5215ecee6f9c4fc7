// Helpers for the simulated network tests: a handler that records what it sees and a function
// that connects two hosts.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::sim::testing {

class Recorder : public StreamHandler {
 public:
  void OnData(std::span<const uint8_t> data) override {
    ++chunks;
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (on_data) on_data(data);
  }
  void OnEnd() override {
    ++ends;
    if (on_end) on_end();
  }
  void OnWritable() override {
    ++writables;
    if (on_writable) on_writable();
  }
  void OnClosed(CloseReason reason, std::string_view detail) override {
    ++closes;
    closed = reason;
    close_detail = std::string(detail);
    if (on_closed) on_closed(reason);
  }

  std::string received;
  int chunks = 0;
  int ends = 0;
  int writables = 0;
  int closes = 0;
  std::optional<CloseReason> closed;
  std::string close_detail;
  std::function<void(std::span<const uint8_t>)> on_data;
  std::function<void()> on_end;
  std::function<void()> on_writable;
  std::function<void(CloseReason)> on_closed;
};

struct StreamPair {
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
};

// Listens on server:port, dials it from client and runs the network until both ends exist.
inline StreamPair Connect(SimNetwork& net, SimRuntime& client, SimRuntime& server,
                          uint16_t port) {
  StreamPair pair;
  auto listener = server.Listen(Address{std::string(server.HostName()), port},
                                [&pair](std::unique_ptr<Stream> s) { pair.server = std::move(s); });
  EXPECT_TRUE(listener.ok());
  bool failed = false;
  client.Dial(Address{std::string(server.HostName()), port},
              [&pair, &failed](Result<std::unique_ptr<Stream>> r) {
                if (r.ok()) {
                  pair.client = std::move(r).value();
                } else {
                  failed = true;
                }
              });
  for (int i = 0; i < 1000 && !failed && (pair.client == nullptr || pair.server == nullptr); ++i) {
    if (!net.RunOne()) break;
  }
  EXPECT_NE(pair.client, nullptr);
  EXPECT_NE(pair.server, nullptr);
  return pair;
}

inline std::span<const uint8_t> Bytes(std::string_view s) { return AsBytes(s); }

}  // namespace wpsim::sim::testing
