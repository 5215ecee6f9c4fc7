#include "sim/sim_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/sim_runtime.h"
#include "tests/sim/echo_body.h"
#include "tests/sim/sim_test_util.h"

namespace wpsim::sim {
namespace {

using testing::Bytes;
using testing::Connect;
using testing::Recorder;
using testing::StreamPair;

NetworkOptions Options(Nanos latency = 5 * kMillisecond) {
  NetworkOptions o;
  o.default_link.latency = Distribution::Constant(static_cast<double>(latency));
  return o;
}

struct TwoHosts {
  explicit TwoHosts(NetworkOptions options = Options()) : net(options) {
    a = net.AddHost("client").value();
    b = net.AddHost("service").value();
  }
  SimNetwork net;
  SimRuntime* a;
  SimRuntime* b;
};

TEST(SimNetworkStreams, DeliversBytesBothWaysAfterOneWayLatency) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  // SYN one way, SYN-ACK back.
  EXPECT_EQ(t.net.now(), 10 * kMillisecond);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  Nanos server_got_at = -1;
  rs.on_data = [&](std::span<const uint8_t>) { server_got_at = t.net.now(); };
  ASSERT_TRUE(p.client->Write(Bytes("hello")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, "hello");
  EXPECT_EQ(server_got_at, 15 * kMillisecond);
  ASSERT_TRUE(p.server->Write(Bytes("world")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rc.received, "world");
  EXPECT_EQ(p.client->LocalAddress().host, "client");
  EXPECT_EQ(p.client->PeerAddress(), (Address{"service", 80}));
  EXPECT_EQ(p.server->PeerAddress(), p.client->LocalAddress());
  EXPECT_NE(p.client->Id(), p.server->Id());
}

TEST(SimNetworkStreams, WritesOfOneTurnCoalesceIntoOneDelivery) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.client->Write(Bytes("0123456789")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received.size(), 100u);
  EXPECT_EQ(rs.chunks, 1);
}

TEST(SimNetworkStreams, CallbacksNeverRunInsideUserCalls) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  ASSERT_TRUE(p.server->Write(Bytes("x")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  ASSERT_EQ(rc.received, "x");
  // Writing past the high-water mark, shutting down and resetting call nothing synchronously.
  const int before = rc.chunks + rc.writables + rc.closes + rs.chunks + rs.ends + rs.closes;
  std::vector<uint8_t> big(t.net.options().high_water_bytes + 1, 7);
  ASSERT_TRUE(p.client->Write(big));
  EXPECT_FALSE(p.client->Writable());
  p.client->Shutdown();
  p.client->SetReadPaused(true);
  p.client->SetReadPaused(false);
  EXPECT_EQ(rc.chunks + rc.writables + rc.closes + rs.chunks + rs.ends + rs.closes, before);
  p.server->Reset();
  EXPECT_EQ(rs.closes, 0);
  EXPECT_EQ(rc.closes, 0);
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  // The resetting side hears nothing; the other side learns of the reset.
  EXPECT_EQ(rs.closes, 0);
  EXPECT_EQ(rc.closes, 1);
  EXPECT_EQ(rc.closed, CloseReason::kReset);
}

TEST(SimNetworkDial, RefusedAsynchronouslyWhenNothingListens) {
  TwoHosts t;
  bool called = false;
  Error error;
  Nanos when = -1;
  t.a->Dial(Address{"service", 81}, [&](Result<std::unique_ptr<Stream>> r) {
    called = true;
    ASSERT_FALSE(r.ok());
    error = r.error();
    when = t.net.now();
  });
  EXPECT_FALSE(called);
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_TRUE(called);
  EXPECT_EQ(error.code, "connection_refused");
  EXPECT_NE(error.message.find("service:81"), std::string::npos);
  EXPECT_EQ(when, 10 * kMillisecond);  // SYN there, RST back
  EXPECT_EQ(t.net.stats().dials_refused, 1u);
}

TEST(SimNetworkDial, UnknownHostFailsAsHostUnreachable) {
  TwoHosts t;
  std::string code;
  t.a->Dial(Address{"nowhere", 80}, [&](Result<std::unique_ptr<Stream>> r) {
    ASSERT_FALSE(r.ok());
    code = r.error().code;
  });
  EXPECT_TRUE(code.empty());
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(code, "host_unreachable");
}

TEST(SimNetworkDial, TimesOutThroughAPartitionAndSucceedsAfterAHeal) {
  NetworkOptions o = Options();
  o.connect_timeout = 10 * kSecond;
  TwoHosts t(o);
  auto listener = t.b->Listen(Address{"service", 80}, [](std::unique_ptr<Stream>) {});
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(t.net.Partition("client", "service").ok());
  std::string code;
  Nanos failed_at = -1;
  t.a->Dial(Address{"service", 80}, [&](Result<std::unique_ptr<Stream>> r) {
    ASSERT_FALSE(r.ok());
    code = r.error().code;
    failed_at = t.net.now();
  });
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(code, "timeout");
  EXPECT_EQ(failed_at, 10 * kSecond);

  bool connected = false;
  t.a->Dial(Address{"service", 80}, [&](Result<std::unique_ptr<Stream>> r) {
    connected = r.ok();
  });
  ASSERT_TRUE(t.net.RunFor(2 * kSecond).ok());
  EXPECT_FALSE(connected);
  ASSERT_TRUE(t.net.Heal("client", "service").ok());
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_TRUE(connected);
}

TEST(SimNetworkListen, PortZeroPicksAPortAndDuplicatesAreRefused) {
  TwoHosts t;
  auto l1 = t.b->Listen(Address{"", 0}, [](std::unique_ptr<Stream>) {});
  ASSERT_TRUE(l1.ok());
  EXPECT_NE((*l1)->address().port, 0);
  EXPECT_EQ((*l1)->address().host, "service");
  auto l2 = t.b->Listen((*l1)->address(), [](std::unique_ptr<Stream>) {});
  ASSERT_FALSE(l2.ok());
  EXPECT_EQ(l2.error().code, "address_in_use");
  auto l3 = t.b->Listen(Address{"client", 80}, [](std::unique_ptr<Stream>) {});
  ASSERT_FALSE(l3.ok());
  EXPECT_EQ(l3.error().code, "bad_address");
  // After the listener is gone the port is free again and dials are refused.
  const Address where = (*l1)->address();
  l1->reset();
  std::string code;
  t.a->Dial(where, [&](Result<std::unique_ptr<Stream>> r) { code = r.ok() ? "ok" : r.error().code; });
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(code, "connection_refused");
}

TEST(SimNetworkLinks, BandwidthQueuesSegmentsBehindEachOther) {
  NetworkOptions o = Options(kMillisecond);
  o.receive_window_bytes = 1 << 20;
  TwoHosts t(o);
  LinkConfig slow;
  slow.latency = Distribution::Constant(static_cast<double>(kMillisecond));
  slow.bandwidth_bytes_per_s = 1'000'000;  // 1 MB/s
  ASSERT_TRUE(t.net.SetLink("client", "service", slow).ok());
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  Nanos done_at = -1;
  rs.on_data = [&](std::span<const uint8_t>) {
    if (rs.received.size() == 500'000) done_at = t.net.now();
  };
  const Nanos start = t.net.now();
  ASSERT_TRUE(p.client->Write(std::vector<uint8_t>(500'000, 1)));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  // 500 kB at 1 MB/s is 0.5 s on the wire, plus 1 ms of latency.
  EXPECT_EQ(done_at - start, 500 * kMillisecond + kMillisecond);
}

// End to end: the one-way delays a stream sees follow the link's configured distribution.
TEST(SimNetworkLinks, MeasuredOneWayLatencyFollowsTheConfiguredDistribution) {
  TwoHosts t;
  const Distribution configured = *Distribution::Parse("lognormal median=5ms sigma=0.5");
  LinkConfig link;
  link.latency = configured;
  ASSERT_TRUE(t.net.SetLinkOneWay("client", "service", link).ok());
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  std::vector<double> delays;
  Nanos sent_at = 0;
  rs.on_data = [&](std::span<const uint8_t>) {
    delays.push_back(static_cast<double>(t.net.now() - sent_at));
  };
  // One small write per second: far apart, so no segment waits behind another.
  for (int i = 0; i < 4000; ++i) {
    sent_at = t.net.now();
    ASSERT_TRUE(p.client->Write(Bytes("x")));
    ASSERT_TRUE(t.net.RunFor(kSecond).ok());
  }
  ASSERT_EQ(delays.size(), 4000u);
  std::sort(delays.begin(), delays.end());
  EXPECT_NEAR(delays[2000] / configured.Quantile(0.5), 1.0, 0.03);
  EXPECT_NEAR(delays[3600] / configured.Quantile(0.9), 1.0, 0.05);
  double sum = 0;
  for (double d : delays) sum += d;
  EXPECT_NEAR(sum / 4000 / configured.Mean(), 1.0, 0.03);
}

TEST(SimNetworkLinks, LossDelaysSegmentsButNeverReordersThem) {
  NetworkOptions o = Options(kMillisecond);
  TwoHosts t(o);
  LinkConfig lossy;
  lossy.latency = Distribution::Uniform(1e6, 3e6);
  lossy.loss = 0.3;
  lossy.retransmit_delay = 50 * kMillisecond;
  ASSERT_TRUE(t.net.SetLink("client", "service", lossy).ok());
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  std::string expected;
  int sent = 0;
  std::function<void()> tick = [&] {
    const std::string msg = "<" + std::to_string(sent) + ">";
    expected += msg;
    ASSERT_TRUE(p.client->Write(Bytes(msg)));
    if (++sent < 500) t.a->SetTimer(t.a->Now() + 100 * kMicrosecond, tick);
  };
  tick();
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, expected);
  EXPECT_GT(t.net.stats().retransmissions, 50u);
}

TEST(SimNetworkPartition, StallsTrafficAndResumesInOrderAfterHeal) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  ASSERT_TRUE(p.client->Write(Bytes("before;")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  ASSERT_EQ(rs.received, "before;");
  ASSERT_TRUE(t.net.Partition("client", "service").ok());
  EXPECT_TRUE(t.net.IsPartitioned("client", "service"));
  ASSERT_TRUE(p.client->Write(Bytes("during-1;")));
  ASSERT_TRUE(t.net.RunFor(kSecond).ok());
  ASSERT_TRUE(p.client->Write(Bytes("during-2;")));
  ASSERT_TRUE(t.net.RunFor(kSecond).ok());
  EXPECT_EQ(rs.received, "before;");  // stalled
  const Nanos healed_at = t.net.now();
  Nanos resumed_at = -1;
  rs.on_data = [&](std::span<const uint8_t>) {
    if (resumed_at < 0) resumed_at = t.net.now();
  };
  ASSERT_TRUE(t.net.Heal("client", "service").ok());
  ASSERT_TRUE(p.client->Write(Bytes("after;")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, "before;during-1;during-2;after;");
  EXPECT_EQ(resumed_at, healed_at + 5 * kMillisecond);
  EXPECT_EQ(rs.closes, 0);
}

TEST(SimNetworkPartition, OneWayPartitionBlocksOnlyThatDirection) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  ASSERT_TRUE(t.net.Partition("client", "service", PartitionDirection::kAToB).ok());
  ASSERT_TRUE(p.client->Write(Bytes("up")));
  ASSERT_TRUE(p.server->Write(Bytes("down")));
  ASSERT_TRUE(t.net.RunFor(kSecond).ok());
  EXPECT_EQ(rc.received, "down");
  EXPECT_EQ(rs.received, "");
  ASSERT_TRUE(t.net.Heal("client", "service").ok());
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, "up");
}

TEST(SimNetworkPartition, LongerThanTheTimeoutResetsTheStreamAndBothEndsSeeTheClose) {
  NetworkOptions o = Options();
  o.stall_timeout = 3 * kSecond;
  TwoHosts t(o);
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  ASSERT_TRUE(t.net.Partition("client", "service").ok());
  ASSERT_TRUE(p.client->Write(Bytes("lost")));
  const Nanos stalled_at = t.net.now() + 5 * kMillisecond;
  Nanos client_closed_at = -1;
  Nanos server_closed_at = -1;
  rc.on_closed = [&](CloseReason) { client_closed_at = t.net.now(); };
  rs.on_closed = [&](CloseReason) { server_closed_at = t.net.now(); };
  ASSERT_TRUE(t.net.RunFor(10 * kSecond).ok());
  EXPECT_EQ(rc.closed, CloseReason::kTimeout);
  EXPECT_EQ(rs.closed, CloseReason::kReset);
  EXPECT_EQ(client_closed_at, stalled_at + 3 * kSecond);
  EXPECT_EQ(server_closed_at, client_closed_at);
  EXPECT_EQ(rs.received, "");
  EXPECT_FALSE(p.client->Write(Bytes("more")));
  EXPECT_FALSE(p.client->Writable());
  ASSERT_TRUE(t.net.Heal("client", "service").ok());
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rc.closes, 1);
  EXPECT_EQ(rs.closes, 1);
  EXPECT_EQ(t.net.stats().timeouts, 1u);
}

TEST(SimNetworkStreams, HalfCloseDeliversEndAndThePeerCanStillWrite) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  ASSERT_TRUE(p.client->Write(Bytes("request")));
  p.client->Shutdown();
  EXPECT_FALSE(p.client->Write(Bytes("late")));
  rs.on_end = [&] {
    EXPECT_EQ(rs.received, "request");
    EXPECT_TRUE(p.server->Write(Bytes("response")));
    p.server->Close();
  };
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.ends, 1);
  EXPECT_EQ(rc.received, "response");
  EXPECT_EQ(rc.ends, 1);
  EXPECT_EQ(rc.closes, 0);
  EXPECT_EQ(rs.closes, 0);
}

TEST(SimNetworkStreams, CloseFlushesQueuedBytesThenEnds) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  std::string big(1'000'000, 'z');
  ASSERT_TRUE(p.client->Write(Bytes(big)));
  p.client->Close();
  p.client.reset();  // destroying a closed stream does not turn the close into a reset
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received.size(), big.size());
  EXPECT_EQ(rs.ends, 1);
  EXPECT_EQ(rs.closes, 0);
}

TEST(SimNetworkStreams, ResetDropsQueuedBytesAndThePeerSeesResetOneLatencyLater) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  ASSERT_TRUE(p.client->Write(Bytes("never")));
  const Nanos reset_at = t.net.now();
  p.client->Reset();
  EXPECT_FALSE(p.client->Write(Bytes("x")));
  Nanos seen_at = -1;
  rs.on_closed = [&](CloseReason) { seen_at = t.net.now(); };
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, "");
  EXPECT_EQ(rs.closed, CloseReason::kReset);
  EXPECT_EQ(rs.close_detail, "connection reset by peer");
  EXPECT_EQ(seen_at, reset_at + 5 * kMillisecond);
  EXPECT_EQ(rc.closes, 0);
}

TEST(SimNetworkStreams, DestroyingAnOpenStreamResetsIt) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  p.client.reset();
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.closed, CloseReason::kReset);
  p.server.reset();
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(t.net.stats().connections_live, 0u);
}

TEST(SimNetworkStreams, NetworkResetStreamsClosesBothEnds) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  StreamPair q = Connect(t.net, *t.b, *t.a, 90);  // dialed the other way round
  Recorder r[4];
  p.client->SetHandler(&r[0]);
  p.server->SetHandler(&r[1]);
  q.client->SetHandler(&r[2]);
  q.server->SetHandler(&r[3]);
  Result<size_t> n = t.net.ResetStreams("client", "service");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(r[0].closes, 0);  // not synchronously
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  for (const Recorder& each : r) {
    EXPECT_EQ(each.closes, 1);
    EXPECT_EQ(each.closed, CloseReason::kReset);
  }
  EXPECT_FALSE(t.net.ResetStreams("client", "nowhere").ok());
}

TEST(SimNetworkBackpressure, PausedReaderStopsDataAndResumingDeliversIt) {
  TwoHosts t;
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  p.server->SetReadPaused(true);
  ASSERT_TRUE(p.client->Write(Bytes("queued")));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, "");
  p.server->SetReadPaused(false);
  EXPECT_EQ(rs.received, "");
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received, "queued");
}

// A writer pushes 100 MiB through a reader that keeps pausing; Writable() must turn false and
// OnWritable must bring it back, and an order-sensitive checksum must match at the end.
TEST(SimNetworkBackpressure, HundredMegabytesThroughASlowReaderArriveIntact) {
  NetworkOptions o = Options(kMillisecond);
  TwoHosts t(o);
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  constexpr size_t kChunk = 1 << 20;
  constexpr int kChunks = 100;
  std::vector<SharedBytes> buffers;
  Rng fill(42);
  for (int i = 0; i < 7; ++i) {
    SharedBytes b = SharedBytes::Allocate(kChunk);
    uint8_t* d = b.mutable_data();
    for (size_t j = 0; j < kChunk; j += 8) {
      const uint64_t v = fill.Next();
      std::memcpy(d + j, &v, 8);
    }
    buffers.push_back(std::move(b));
  }
  auto fnv = [](uint64_t h, std::span<const uint8_t> data) {
    for (uint8_t c : data) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    return h;
  };
  uint64_t sent_hash = 0xcbf29ce484222325ULL;
  uint64_t received_hash = 0xcbf29ce484222325ULL;
  uint64_t received = 0;
  int written = 0;
  int saw_not_writable = 0;
  Recorder rc, rs;
  std::function<void()> pump = [&] {
    while (written < kChunks && p.client->Writable()) {
      const SharedBytes& b = buffers[written % buffers.size()];
      sent_hash = fnv(sent_hash, b.span());
      ASSERT_TRUE(p.client->Write(b));
      ++written;
    }
    if (!p.client->Writable()) ++saw_not_writable;
  };
  rc.on_writable = pump;
  Rng slow(7);
  rs.on_data = [&](std::span<const uint8_t> data) {
    received_hash = fnv(received_hash, data);
    received += data.size();
    if (slow.Chance(0.2)) {
      p.server->SetReadPaused(true);
      t.b->SetTimer(t.b->Now() + 2 * kMillisecond, [&] { p.server->SetReadPaused(false); });
    }
  };
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  pump();
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(written, kChunks);
  EXPECT_EQ(received, uint64_t{kChunk} * kChunks);
  EXPECT_EQ(received_hash, sent_hash);
  EXPECT_GT(saw_not_writable, 10);
  EXPECT_EQ(rc.writables, saw_not_writable);
  EXPECT_EQ(p.client->BufferedBytes(), 0u);
}

TEST(SimNetworkBackpressure, ReceiveWindowBoundsBytesInFlightToAPausedReader) {
  NetworkOptions o = Options(kMillisecond);
  o.receive_window_bytes = 64 * 1024;
  o.high_water_bytes = 128 * 1024;
  o.low_water_bytes = 16 * 1024;
  TwoHosts t(o);
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rc, rs;
  p.client->SetHandler(&rc);
  p.server->SetHandler(&rs);
  p.server->SetReadPaused(true);
  ASSERT_TRUE(p.client->Write(std::vector<uint8_t>(300 * 1024, 1)));
  EXPECT_FALSE(p.client->Writable());
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(p.client->BufferedBytes(), 300u * 1024 - 64 * 1024);
  EXPECT_FALSE(p.client->Writable());
  EXPECT_EQ(rc.writables, 0);
  p.server->SetReadPaused(false);
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rs.received.size(), 300u * 1024);
  EXPECT_EQ(rc.writables, 1);
  EXPECT_TRUE(p.client->Writable());
}

TEST(SimNetworkBackpressure, BytesInFlightFollowsWritesReadsClosesAndDestruction) {
  // BytesInFlight() is kept incrementally (only connections touched since the last call are
  // recounted); each step below changes one input of the count.
  TwoHosts t(Options(kMillisecond));
  StreamPair busy = Connect(t.net, *t.a, *t.b, 80);
  StreamPair idle = Connect(t.net, *t.a, *t.b, 81);
  Recorder rb, ri;
  busy.server->SetHandler(&rb);
  idle.server->SetHandler(&ri);
  EXPECT_EQ(t.net.BytesInFlight(), 0u);
  busy.server->SetReadPaused(true);
  ASSERT_TRUE(busy.client->Write(std::vector<uint8_t>(1000, 1)));
  EXPECT_EQ(t.net.BytesInFlight(), 1000u);  // written, not yet sent
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(t.net.BytesInFlight(), 1000u);  // arrived at a paused reader
  ASSERT_TRUE(idle.client->Write(std::vector<uint8_t>(10, 2)));
  EXPECT_EQ(t.net.BytesInFlight(), 1010u);
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(ri.received.size(), 10u);
  EXPECT_EQ(t.net.BytesInFlight(), 1000u);
  busy.server->SetReadPaused(false);
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(rb.received.size(), 1000u);
  EXPECT_EQ(t.net.BytesInFlight(), 0u);
  // A receiver that closes can no longer take its bytes: they stop counting.
  busy.server->SetReadPaused(true);
  ASSERT_TRUE(busy.client->Write(std::vector<uint8_t>(300, 3)));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(t.net.BytesInFlight(), 300u);
  busy.server->Close();
  EXPECT_EQ(t.net.BytesInFlight(), 0u);
  // A connection destroyed with bytes in flight takes its count with it.
  idle.server->SetReadPaused(true);
  ASSERT_TRUE(idle.client->Write(std::vector<uint8_t>(50, 4)));
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(t.net.BytesInFlight(), 50u);
  idle.client.reset();
  idle.server.reset();
  busy.client.reset();
  busy.server.reset();
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(t.net.BytesInFlight(), 0u);
  EXPECT_EQ(t.net.stats().connections_live, 0u);
}

TEST(SimNetworkBackpressure, APerLinkWindowOverridesTheNetworkDefault) {
  TwoHosts t(Options(kMillisecond));
  LinkConfig small;
  small.latency = Distribution::Constant(1e6);
  small.receive_window_bytes = 8 * 1024;
  ASSERT_TRUE(t.net.SetLinkOneWay("client", "service", small).ok());
  StreamPair p = Connect(t.net, *t.a, *t.b, 80);
  Recorder rs;
  p.server->SetHandler(&rs);
  p.server->SetReadPaused(true);
  ASSERT_TRUE(p.client->Write(std::vector<uint8_t>(100 * 1024, 1)));
  ASSERT_TRUE(p.server->Write(std::vector<uint8_t>(100 * 1024, 2)));  // default window back
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(p.client->BufferedBytes(), 92u * 1024);
  EXPECT_EQ(p.server->BufferedBytes(), 0u);
}

TEST(SimRuntimeClock, SkewShiftsNowUnixNowAndTimerDeadlines) {
  SimNetwork net(Options());
  SimRuntime* early = net.AddHost("early", HostOptions{-2 * kSecond}).value();
  SimRuntime* plain = net.AddHost("plain").value();
  EXPECT_EQ(plain->Now(), 0);
  EXPECT_EQ(plain->UnixNow(), kDefaultUnixEpoch);
  EXPECT_EQ(early->Now(), -2 * kSecond);
  EXPECT_EQ(early->UnixNow(), kDefaultUnixEpoch - 2 * kSecond);
  Nanos fired_at = -1;
  // A deadline in the host's own clock: 1 s on `early` is 3 s of network time.
  early->SetTimer(kSecond, [&] { fired_at = net.now(); });
  ASSERT_TRUE(net.RunUntilIdle().ok());
  EXPECT_EQ(fired_at, 3 * kSecond);
  ASSERT_TRUE(net.SetClockSkew("plain", 5 * kSecond).ok());
  EXPECT_EQ(plain->Now(), net.now() + 5 * kSecond);
  EXPECT_FALSE(net.SetClockSkew("nobody", 0).ok());
}

TEST(SimRuntimeTimers, EqualDeadlinesFireInSetOrderEvenWhenPerturbed) {
  for (bool perturb : {false, true}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      NetworkOptions o = Options();
      o.perturb = perturb;
      o.seed = seed;
      SimNetwork net(o);
      SimRuntime* h = net.AddHost("h").value();
      SimRuntime* other = net.AddHost("other").value();
      std::vector<int> order;
      for (int i = 0; i < 10; ++i) {
        h->SetTimer(kSecond, [&order, i] { order.push_back(i); });
        other->SetTimer(kSecond, [&order, i] { order.push_back(100 + i); });
      }
      ASSERT_TRUE(net.RunUntilIdle().ok());
      std::vector<int> mine;
      for (int v : order) {
        if (v < 100) mine.push_back(v);
      }
      EXPECT_EQ(mine, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    }
  }
}

TEST(SimRuntimeTimers, CancelledTimersDoNotFireAndPostsRunBeforeTimeAdvances) {
  SimNetwork net(Options());
  SimRuntime* h = net.AddHost("h").value();
  std::vector<std::string> log;
  const TimerId a = h->SetTimer(kMillisecond, [&] { log.push_back("a"); });
  h->SetTimer(kMillisecond, [&] {
    log.push_back("b");
    h->Post([&] { log.push_back("post@" + std::to_string(net.now())); });
  });
  h->SetTimer(2 * kMillisecond, [&] { log.push_back("c"); });
  EXPECT_NE(a, 0u);
  h->CancelTimer(a);
  h->CancelTimer(a);  // twice is harmless
  ASSERT_TRUE(net.RunUntilIdle().ok());
  EXPECT_EQ(log, (std::vector<std::string>{"b", "post@1000000", "c"}));
  h->CancelTimer(a);  // expired: no-op
}

TEST(SimRuntimeRng, ForkedStreamsAreIndependentOfOtherNamesAndHosts) {
  auto draws = [](bool add_other_host, bool fork_other_first) {
    NetworkOptions o;
    o.seed = 99;
    SimNetwork net(o);
    if (add_other_host) (void)net.AddHost("extra");
    SimRuntime* h = net.AddHost("client-1").value();
    if (fork_other_first) {
      Rng other = h->ForkRng("other");
      (void)other.Next();
    }
    Rng r = h->ForkRng("ws");
    return std::vector<uint64_t>{r.Next(), r.Next(), r.Next()};
  };
  const auto base = draws(false, false);
  EXPECT_EQ(draws(true, false), base);
  EXPECT_EQ(draws(false, true), base);
  EXPECT_EQ(draws(true, true), base);
  NetworkOptions o;
  o.seed = 99;
  SimNetwork net(o);
  SimRuntime* h1 = net.AddHost("client-1").value();
  SimRuntime* h2 = net.AddHost("client-2").value();
  EXPECT_NE(h1->ForkRng("ws").Next(), h2->ForkRng("ws").Next());
  EXPECT_NE(h1->ForkRng("ws").Next(), h1->ForkRng("mqtt").Next());
  EXPECT_EQ(h1->ForkRng("ws").Next(), Rng::Derive(99, "client-1/ws").Next());
}

TEST(SimNetworkHosts, RejectsDuplicateAndInvalidNames) {
  SimNetwork net;
  ASSERT_TRUE(net.AddHost("a").ok());
  EXPECT_EQ(net.AddHost("a").error().code, "bad_host");
  EXPECT_EQ(net.AddHost("").error().code, "bad_host");
  EXPECT_EQ(net.AddHost("a:1").error().code, "bad_host");
  EXPECT_EQ(net.FindHost("b"), nullptr);
  EXPECT_EQ(net.Partition("a", "b").error().code, "unknown_host");
}

TEST(SimNetworkLifetime, StreamsOutlivingTheNetworkBecomeInert) {
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
  {
    SimNetwork net(Options());
    SimRuntime* a = net.AddHost("a").value();
    SimRuntime* b = net.AddHost("b").value();
    StreamPair p = Connect(net, *a, *b, 1);
    client = std::move(p.client);
    server = std::move(p.server);
    ASSERT_TRUE(client->Write(Bytes("pending")));
  }
  EXPECT_FALSE(client->Write(Bytes("x")));
  EXPECT_FALSE(client->Writable());
  client->Close();
  server.reset();
  client.reset();
}

TEST(SimNetworkLifetime, IdleConnectionsAreFreedWhenBothStreamsAreGone) {
  TwoHosts t;
  for (int i = 0; i < 10; ++i) {
    StreamPair p = Connect(t.net, *t.a, *t.b, static_cast<uint16_t>(100 + i));
    ASSERT_TRUE(p.client->Write(Bytes("bye")));
    p.client->Close();
    p.server->Close();
  }
  ASSERT_TRUE(t.net.RunUntilIdle().ok());
  EXPECT_EQ(t.net.stats().connections_live, 0u);
  EXPECT_EQ(t.net.stats().connections_opened, 10u);
}

TEST(SimNetworkPartition, IsolateCutsAHostOffFromEveryOtherHost) {
  TwoHosts t;
  (void)t.net.AddHost("third");
  ASSERT_TRUE(t.net.Isolate("service").ok());
  EXPECT_TRUE(t.net.IsPartitioned("client", "service"));
  EXPECT_TRUE(t.net.IsPartitioned("service", "third"));
  EXPECT_FALSE(t.net.IsPartitioned("client", "third"));
  t.net.HealAll();
  EXPECT_FALSE(t.net.IsPartitioned("client", "service"));
  EXPECT_FALSE(t.net.Isolate("nobody").ok());
}

TEST(SimNetworkLinks, ParsesBandwidthsWithUnits) {
  EXPECT_EQ(*ParseBandwidth("unlimited"), 0u);
  EXPECT_EQ(*ParseBandwidth("10MB/s"), 10'000'000u);
  EXPECT_EQ(*ParseBandwidth("100Mbit/s"), 12'500'000u);
  EXPECT_EQ(*ParseBandwidth("1.5Gbps"), 187'500'000u);
  EXPECT_EQ(*ParseBandwidth("512B/s"), 512u);
  EXPECT_EQ(ParseBandwidth("10 MB/s").error().code, "bad_bandwidth");
  EXPECT_NE(ParseBandwidth("10MiB/s").error().message.find("unknown unit 'MiB/s'"),
            std::string::npos);
  EXPECT_FALSE(ParseBandwidth("fast").ok());
}

TEST(SimRuntimeTimers, FarFutureDeadlinesDoNotOverflow) {
  SimNetwork net(Options());
  SimRuntime* h = net.AddHost("h", HostOptions{-kSecond}).value();
  bool fired = false;
  h->SetTimer(INT64_MAX, [&] { fired = true; });
  ASSERT_TRUE(net.RunFor(INT64_MAX).ok());
  EXPECT_TRUE(fired);
}

// The runtime-agnostic echo body (also meant for UvRuntime over 127.0.0.1 and for TLS), on an
// ideal link and on a slow, lossy, jittery one with a small window.
TEST(SimNetworkContract, EchoPingPongBodyPassesOnSimRuntime) {
  for (bool hostile : {false, true}) {
    NetworkOptions o = Options();
    o.perturb = hostile;
    if (hostile) o.receive_window_bytes = 16 * 1024;
    SimNetwork net(o);
    SimRuntime* server = net.AddHost("service").value();
    SimRuntime* client = net.AddHost("client").value();
    if (hostile) {
      LinkConfig bad;
      bad.latency = *Distribution::Parse("lognormal median=20ms sigma=1 cap=2s");
      bad.bandwidth_bytes_per_s = *ParseBandwidth("2Mbit/s");
      bad.loss = 0.1;
      ASSERT_TRUE(net.SetLink("client", "service", bad).ok());
    }
    auto run_until = [&net](const std::function<bool()>& done) {
      for (int i = 0; i < 10'000'000; ++i) {
        if (done()) return true;
        if (!net.RunOne()) return done();
      }
      return false;
    };
    Status s = contract::EchoPingPong(*server, *client, Address{"service", 0}, run_until);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().code + ": " + s.error().message);
  }
}

}  // namespace
}  // namespace wpsim::sim
