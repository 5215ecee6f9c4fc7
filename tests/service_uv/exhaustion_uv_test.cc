// Exhaustion over real loopback sockets (issue 20): while one address (127.0.0.2) holds 1,000
// slowloris connections and sits at its per-peer connection cap, a legitimate client from
// another address (127.0.0.1) connects, joins, sends and calls REST; the flood's connections
// over the cap get 503 and the slowloris ones are reaped with 408 at the read deadline. The
// flood is made of plain non-blocking POSIX sockets bound to 127.0.0.2 (the service and the
// legitimate client run on the UvRuntime loop in this process). Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "service/service.h"
#include "sim/uv/uv_runtime.h"

namespace wpsim::service {
namespace {

using clients::Observation;
using clients::WsClient;
namespace wps = protocol::webpubsub;

constexpr size_t kSlowloris = 1000;
constexpr size_t kSilent = 50;  // with the slowloris ones: exactly the per-peer cap
constexpr size_t kOverCap = 10;
constexpr size_t kPeerCap = kSlowloris + kSilent;

// A raw socket from 127.0.0.2 (closed with the object).
class FloodSocket {
 public:
  explicit FloodSocket(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000002);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) {
      Reset();
      return;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 &&
        errno != EINPROGRESS) {
      Reset();
    }
  }
  ~FloodSocket() { Reset(); }
  FloodSocket(const FloodSocket&) = delete;
  FloodSocket& operator=(const FloodSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool Send(std::string_view bytes) {
    return fd_ >= 0 && write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  }
  // Reads what has arrived (non-blocking); records end of stream.
  void Poll() {
    if (fd_ < 0 || ended_) return;
    char buffer[1024];
    for (;;) {
      const ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n > 0) {
        received_.append(buffer, static_cast<size_t>(n));
      } else {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) ended_ = true;
        if (n < 0 && errno == EINTR) continue;
        return;
      }
    }
  }
  const std::string& received() const { return received_; }
  bool ended() const { return ended_; }

 private:
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
  std::string received_;
  bool ended_ = false;
};

class ExhaustionUv : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::UvRuntimeOptions ro;
    ro.seed = 20;
    runtime_ = std::make_unique<sim::UvRuntime>(ro);
    ServiceOptions options;
    options.limits.connections_per_peer_max = kPeerCap;
    // Long enough that a loaded 2-core machine (ctest -j 2 beside a build) accepts the flood and
    // serves the legitimate client before the first slowloris connection is reaped.
    options.limits.request_read_timeout = 12 * sim::kSecond;
    service_ = std::make_unique<Service>(*runtime_, options);
    ASSERT_TRUE(service_->Listen(sim::Address{"127.0.0.1", 0}).ok());
    address_ = *service_->listen_address();
    cs_.scheme = "http";
    cs_.host = "127.0.0.1";
    cs_.port = address_.port;
    cs_.access_key = std::string(kDefaultAccessKey);
  }

  void TearDown() override {
    flood_.clear();
    legit_.reset();
    rest_.reset();
    service_.reset();
    if (runtime_) runtime_->RunFor(50 * sim::kMillisecond);
  }

  bool Await(const std::function<bool()>& done, sim::Nanos timeout) {
    return runtime_->RunUntil(done, timeout);
  }

  // Opens n sockets in batches smaller than the listen backlog (kUvListenBacklog, 511), letting
  // the loop accept each batch: a burst beyond the backlog leaves SYNs to the kernel's
  // retransmission back-off (1 s, 3 s, 7 s, 15 s), which made the accepts take longer than any
  // bound here on a loaded machine.
  void Flood(size_t n) {
    constexpr size_t kBatch = 200;
    for (size_t i = 0; i < n; ++i) {
      flood_.push_back(std::make_unique<FloodSocket>(address_.port));
      ASSERT_TRUE(flood_.back()->ok()) << "socket " << flood_.size() << ": errno " << errno;
      if ((i + 1) % kBatch == 0) {
        const size_t want = std::min(flood_.size(), kPeerCap);
        Await([&] { return service_->front_count() >= want; }, 5 * sim::kSecond);
      }
    }
  }

  int Call(std::string method, std::string path, std::string type, std::string body) {
    if (!rest_) {
      clients::RestClientOptions o;
      o.service = address_;
      o.connection_string = cs_;
      rest_ = std::make_unique<clients::RestClient>(*runtime_, "rest", o);
    }
    int status = -1;
    rest_->Call(std::move(method), std::move(path), std::move(type), std::move(body), "call",
                [&status](const protocol::http::Response& r) { status = r.status; });
    EXPECT_TRUE(Await([&] { return status != -1; }, 5 * sim::kSecond)) << "REST answer";
    return status;
  }

  size_t Count(Observation::Kind kind) const {
    size_t n = 0;
    for (const Observation& o : legit_->observations()) n += o.kind == kind;
    return n;
  }

  std::unique_ptr<sim::UvRuntime> runtime_;
  std::unique_ptr<Service> service_;
  sim::Address address_;
  protocol::auth::ConnectionString cs_;
  std::vector<std::unique_ptr<FloodSocket>> flood_;
  std::unique_ptr<WsClient> legit_;
  std::unique_ptr<clients::RestClient> rest_;
};

TEST_F(ExhaustionUv, ThousandSlowlorisAndAPeerAtItsCapDoNotStopALegitimateClientOverLoopback) {
  const auto wall0 = std::chrono::steady_clock::now();
  // 1,050 connections from 127.0.0.2: the per-peer cap. 1,000 send half a request line.
  Flood(kPeerCap);
  ASSERT_TRUE(Await([&] { return service_->front_count() == kPeerCap; }, 20 * sim::kSecond))
      << "accepted " << service_->front_count() << " of " << kPeerCap;
  for (size_t i = 0; i < kSlowloris; ++i) ASSERT_TRUE(flood_[i]->Send("GET /api/hea"));
  // 10 more from the same address: each answered 503 and closed, nothing else allocated.
  Flood(kOverCap);
  auto over_cap_answered = [&] {
    size_t n = 0;
    for (size_t i = kPeerCap; i < flood_.size(); ++i) {
      flood_[i]->Poll();
      n += flood_[i]->ended();
    }
    return n == kOverCap;
  };
  ASSERT_TRUE(Await(over_cap_answered, 10 * sim::kSecond)) << [&] {
    std::string s = "front_count " + std::to_string(service_->front_count()) + ", refused " +
                    std::to_string(service_->refused_connections()) + "; over-cap sockets:";
    for (size_t i = kPeerCap; i < flood_.size(); ++i) {
      s += " [" + std::to_string(flood_[i]->ended()) + " '" + flood_[i]->received().substr(0, 12) +
           "']";
    }
    return s;
  }();
  for (size_t i = kPeerCap; i < flood_.size(); ++i) {
    EXPECT_TRUE(flood_[i]->received().starts_with("HTTP/1.1 503 ")) << flood_[i]->received();
    EXPECT_NE(flood_[i]->received().find("Retry-After: 1"), std::string::npos);
  }
  EXPECT_EQ(service_->refused_connections(), kOverCap);
  EXPECT_EQ(service_->front_count(), kPeerCap);

  // The legitimate client from 127.0.0.1, while all of that is held.
  protocol::auth::ClientTokenOptions t;
  t.user_id = "legit";
  t.roles = {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"};
  t.issued_at = runtime_->UnixNow() / sim::kSecond;
  t.expires_at = t.issued_at + 3600;
  clients::WsClientOptions o;
  o.kind = clients::WsClientKind::kJson;
  o.service = address_;
  o.hub = "hub";
  o.access_token = protocol::auth::BuildClientToken(cs_, "hub", t);
  legit_ = std::make_unique<WsClient>(*runtime_, "legit", o);
  legit_->Connect();
  ASSERT_TRUE(Await([&] { return Count(Observation::Kind::kConnected) == 1; }, 5 * sim::kSecond));
  ASSERT_TRUE(legit_->JoinGroup("g", 1).ok());
  ASSERT_TRUE(legit_->SendToGroup("g", wps::Payload::Text("self"), 2, /*no_echo=*/false).ok());
  ASSERT_TRUE(Await(
      [&] {
        return Count(Observation::Kind::kAck) == 2 && Count(Observation::Kind::kGroupMessage) == 1;
      },
      5 * sim::kSecond));
  for (const Observation& a : legit_->observations()) {
    if (a.kind == Observation::Kind::kAck) {
      EXPECT_TRUE(a.success) << a.error_name;
    }
  }
  EXPECT_EQ(Call("HEAD", "/api/health", "", ""), 200);
  EXPECT_EQ(Call("POST", "/api/hubs/hub/groups/g/:send", "text/plain", "rest"), 202);
  ASSERT_TRUE(
      Await([&] { return Count(Observation::Kind::kGroupMessage) == 2; }, 5 * sim::kSecond));
  // All of it happened while the flood was still held (the read deadline is 12 s).
  EXPECT_EQ(service_->front_count(), kPeerCap + 2);  // + the WebSocket and the REST connection

  // At the read deadline every slowloris connection is answered 408 and closed; the silent ones
  // stay (they wait for the idle deadline) and the legitimate client is untouched.
  auto reaped = [&] {
    size_t n = 0;
    for (size_t i = 0; i < kSlowloris; ++i) {
      flood_[i]->Poll();
      n += flood_[i]->ended();
    }
    return n == kSlowloris;
  };
  ASSERT_TRUE(Await(reaped, 30 * sim::kSecond));
  size_t got_408 = 0;
  for (size_t i = 0; i < kSlowloris; ++i) {
    got_408 += flood_[i]->received().starts_with("HTTP/1.1 408 ");
  }
  EXPECT_EQ(got_408, kSlowloris);
  for (size_t i = kSlowloris; i < kPeerCap; ++i) {
    flood_[i]->Poll();
    EXPECT_FALSE(flood_[i]->ended());
  }
  EXPECT_TRUE(legit_->open());
  EXPECT_LT(std::chrono::steady_clock::now() - wall0, std::chrono::seconds(60));
}

}  // namespace
}  // namespace wpsim::service
