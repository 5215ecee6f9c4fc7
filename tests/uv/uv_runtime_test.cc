// UvRuntime against the seam contracts (sim/seam.h), over 127.0.0.1 / ::1 only.
#include "sim/uv/uv_runtime.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <csignal>
#include <string>
#include <vector>

#include "tests/uv/uv_test_util.h"

namespace wpsim::sim {
namespace {

using testing::ConnectPair;
using testing::PatternBytes;
using testing::Recorder;

TEST(UvRuntimeTimers, EqualDeadlinesFireInSetOrder) {
  UvRuntime rt;
  std::vector<int> order;
  const Nanos deadline = rt.Now() + 5 * kMillisecond;
  for (int i = 0; i < 20; ++i) rt.SetTimer(deadline, [&order, i] { order.push_back(i); });
  ASSERT_TRUE(rt.RunUntil([&] { return order.size() == 20; }, 2 * kSecond));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[i], i);
}

TEST(UvRuntimeTimers, FireInDeadlineOrderAndNeverEarly) {
  UvRuntime rt;
  std::vector<int> order;
  std::vector<Nanos> lateness;
  const Nanos start = rt.Now();
  const Nanos delays[] = {30, 10, 20, 1, 15};
  for (int i = 0; i < 5; ++i) {
    const Nanos deadline = start + delays[i] * kMillisecond;
    rt.SetTimer(deadline, [&, i, deadline] {
      order.push_back(i);
      lateness.push_back(rt.Now() - deadline);
    });
  }
  ASSERT_TRUE(rt.RunUntil([&] { return order.size() == 5; }, 2 * kSecond));
  EXPECT_EQ(order, (std::vector<int>{3, 1, 4, 2, 0}));
  for (Nanos late : lateness) EXPECT_GE(late, 0);
}

TEST(UvRuntimeTimers, CancelledTimerNeverFires) {
  UvRuntime rt;
  bool cancelled_fired = false;
  bool other_fired = false;
  const TimerId id = rt.SetTimer(rt.Now() + 5 * kMillisecond, [&] { cancelled_fired = true; });
  rt.SetTimer(rt.Now() + 10 * kMillisecond, [&] { other_fired = true; });
  rt.CancelTimer(id);
  rt.CancelTimer(id);      // cancelling twice is a no-op
  rt.CancelTimer(999999);  // unknown id too
  ASSERT_TRUE(rt.RunUntil([&] { return other_fired; }, 2 * kSecond));
  EXPECT_FALSE(cancelled_fired);
}

TEST(UvRuntimeTimers, LoopWithOnlyCancelledTimersReturnsFromRun) {
  UvRuntime rt;
  const TimerId id = rt.SetTimer(rt.Now() + 10 * kSecond, [] {});
  rt.CancelTimer(id);
  const Nanos start = rt.Now();
  rt.Run();  // nothing keeps the loop alive
  EXPECT_LT(rt.Now() - start, kSecond);
}

TEST(UvRuntimePost, RunsAfterTheCallerReturnsInPostOrder) {
  UvRuntime rt;
  std::vector<int> order;
  bool inside = false;
  rt.SetTimer(rt.Now(), [&] {
    inside = true;
    rt.Post([&] {
      EXPECT_FALSE(inside);
      order.push_back(1);
      rt.Post([&] { order.push_back(3); });
    });
    rt.Post([&] { order.push_back(2); });
    EXPECT_TRUE(order.empty());
    inside = false;
  });
  ASSERT_TRUE(rt.RunUntil([&] { return order.size() == 3; }, 2 * kSecond));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(UvRuntimePost, RunsBeforeALaterTimer) {
  UvRuntime rt;
  std::vector<std::string> order;
  rt.SetTimer(rt.Now() + 2 * kMillisecond, [&] { order.push_back("timer"); });
  rt.Post([&] { order.push_back("post"); });
  ASSERT_TRUE(rt.RunUntil([&] { return order.size() == 2; }, 2 * kSecond));
  EXPECT_EQ(order, (std::vector<std::string>{"post", "timer"}));
}

TEST(UvRuntimeRng, ForkedStreamsDependOnSeedAndNameOnly) {
  UvRuntime a(UvRuntimeOptions{.seed = 42});
  UvRuntime b(UvRuntimeOptions{.seed = 42});
  UvRuntime c(UvRuntimeOptions{.seed = 43});
  EXPECT_EQ(a.ForkRng("client-1").Next(), b.ForkRng("client-1").Next());
  EXPECT_NE(a.ForkRng("client-1").Next(), a.ForkRng("client-2").Next());
  EXPECT_NE(a.ForkRng("client-1").Next(), c.ForkRng("client-1").Next());
  EXPECT_NE(NondeterministicSeed(), NondeterministicSeed());
}

TEST(UvRuntimeClock, UnixNowIsTheWallClockAndNowIsMonotonic) {
  UvRuntime rt;
  // 2023-01-01 < UnixNow < 2100-01-01.
  EXPECT_GT(rt.UnixNow(), Nanos{1672531200} * kSecond);
  EXPECT_LT(rt.UnixNow(), Nanos{4102444800} * kSecond);
  const Nanos a = rt.Now();
  rt.RunFor(20 * kMillisecond);
  const Nanos b = rt.Now();
  EXPECT_GE(b - a, 20 * kMillisecond);
  EXPECT_LT(b - a, 2 * kSecond);
}

TEST(UvRuntimeListen, PortZeroIsReportedAsTheRealEphemeralPort) {
  UvRuntime rt;
  auto listener = rt.Listen(Address{"127.0.0.1", 0}, [](std::unique_ptr<Stream>) {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  EXPECT_NE((*listener)->address().port, 0);
  EXPECT_EQ((*listener)->address().host, "127.0.0.1");
  // The same port cannot be taken twice.
  auto second = rt.Listen((*listener)->address(), [](std::unique_ptr<Stream>) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "address_in_use");
}

TEST(UvRuntimeListen, RejectsNamesThatAreNotLiterals) {
  UvRuntime rt;
  auto listener = rt.Listen(Address{"not-an-ip.invalid", 0}, [](std::unique_ptr<Stream>) {});
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code, "bad_address");
}

TEST(UvRuntimeDial, ClosedPortIsReportedAsConnectionRefusedAsynchronously) {
  UvRuntime rt;
  uint16_t port = 0;
  {
    auto listener = rt.Listen(Address{"127.0.0.1", 0}, [](std::unique_ptr<Stream>) {});
    ASSERT_TRUE(listener.ok());
    port = (*listener)->address().port;
  }  // listener closed: the port now refuses
  rt.RunFor(5 * kMillisecond);
  bool inside = true;
  std::optional<Error> error;
  rt.Dial(Address{"127.0.0.1", port}, [&](Result<std::unique_ptr<Stream>> r) {
    EXPECT_FALSE(inside);
    ASSERT_FALSE(r.ok());
    error = r.error();
  });
  inside = false;
  ASSERT_TRUE(rt.RunUntil([&] { return error.has_value(); }, 5 * kSecond));
  EXPECT_EQ(error->code, "connection_refused");
}

TEST(UvRuntimeDial, UnresolvableNameFailsWithResolveError) {
  UvRuntime rt;
  std::optional<Error> error;
  // ".invalid" never resolves (RFC 6761), without touching the network.
  rt.Dial(Address{"no-such-host.invalid", 80}, [&](Result<std::unique_ptr<Stream>> r) {
    ASSERT_FALSE(r.ok());
    error = r.error();
  });
  ASSERT_TRUE(rt.RunUntil([&] { return error.has_value(); }, 10 * kSecond));
  EXPECT_EQ(error->code, "resolve_failed");
}

TEST(UvStream, EchoesBytesInOrderOverIpv4) {
  UvRuntime rt;
  auto p = ConnectPair(rt, "127.0.0.1");
  ASSERT_NE(p, nullptr);
  p->server_rec.on_data = [&](std::span<const uint8_t> b) { EXPECT_TRUE(p->server->Write(b)); };
  const std::string payload = PatternBytes(300'000, 1);
  for (size_t off = 0; off < payload.size(); off += 1000) {
    ASSERT_TRUE(p->client->Write(AsBytes(std::string_view(payload).substr(off, 1000))));
  }
  ASSERT_TRUE(
      rt.RunUntil([&] { return p->client_rec.data.size() >= payload.size(); }, 10 * kSecond));
  EXPECT_TRUE(p->client_rec.data == payload);
  EXPECT_EQ(p->client->PeerAddress(), p->server->LocalAddress());
  EXPECT_EQ(p->server->PeerAddress(), p->client->LocalAddress());
  EXPECT_EQ(p->client->PeerAddress().host, "127.0.0.1");
  EXPECT_NE(p->client->Id(), p->server->Id());
}

TEST(UvStream, EchoesBytesOverIpv6Loopback) {
  UvRuntime rt;
  auto probe = rt.Listen(Address{"::1", 0}, [](std::unique_ptr<Stream>) {});
  if (!probe.ok()) GTEST_SKIP() << "no IPv6 loopback: " << probe.error().message;
  probe->reset();
  auto p = ConnectPair(rt, "::1");
  ASSERT_NE(p, nullptr);
  p->server_rec.on_data = [&](std::span<const uint8_t> b) { p->server->Write(b); };
  p->client->Write(AsBytes("ping over v6"));
  ASSERT_TRUE(rt.RunUntil([&] { return p->client_rec.data.size() == 12; }, 5 * kSecond));
  EXPECT_EQ(p->client_rec.data, "ping over v6");
  EXPECT_EQ(p->server->PeerAddress().host, "::1");
}

TEST(UvStream, LocalhostIsLoopback) {
  UvRuntime rt;
  auto p = ConnectPair(rt, "localhost");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->client->PeerAddress().host, "127.0.0.1");
}

TEST(UvStream, HalfCloseDeliversEndAndKeepsTheOtherDirectionOpen) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  p->client->Write(AsBytes("request"));
  p->client->Shutdown();
  EXPECT_FALSE(p->client->Write(AsBytes("too late")));
  EXPECT_FALSE(p->client->Writable());
  ASSERT_TRUE(rt.RunUntil([&] { return p->server_rec.ended; }, 5 * kSecond));
  EXPECT_EQ(p->server_rec.data, "request");
  // The server can still answer after the client's EOF, and the client still reads.
  EXPECT_TRUE(p->server->Write(AsBytes("response")));
  p->server->Close();
  ASSERT_TRUE(rt.RunUntil([&] { return p->client_rec.ended; }, 5 * kSecond));
  EXPECT_EQ(p->client_rec.data, "response");
  EXPECT_FALSE(p->client_rec.closed);
  EXPECT_FALSE(p->server_rec.closed);  // no calls after a local Close
  p->client->Close();
  ASSERT_TRUE(rt.RunUntil([&] { return rt.open_connections() == 0; }, 5 * kSecond));
}

TEST(UvStream, GracefulCloseFlushesEverythingBeforeTheEnd) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  const std::string payload = PatternBytes(3'000'000, 2);
  p->client->Write(AsBytes(payload));
  p->client->Close();
  p->client.reset();  // destroying after Close() lets the graceful close finish
  ASSERT_TRUE(rt.RunUntil([&] { return p->server_rec.ended; }, 10 * kSecond));
  EXPECT_EQ(p->server_rec.data.size(), payload.size());
  EXPECT_TRUE(p->server_rec.data == payload);
  EXPECT_FALSE(p->server_rec.closed);
  p->server->Close();
  ASSERT_TRUE(rt.RunUntil([&] { return rt.open_connections() == 0; }, 5 * kSecond));
}

TEST(UvStream, ResetIsSeenByThePeerAsReset) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  p->client->Write(AsBytes("dropped or not"));
  p->client->Reset();
  EXPECT_FALSE(p->client->Write(AsBytes("x")));
  ASSERT_TRUE(rt.RunUntil([&] { return p->server_rec.closed; }, 5 * kSecond));
  EXPECT_EQ(p->server_rec.reason, CloseReason::kReset);
  EXPECT_FALSE(p->server_rec.ended);
  EXPECT_FALSE(p->client_rec.closed);  // no calls after a local Reset
  EXPECT_FALSE(p->server->Write(AsBytes("x")));
}

TEST(UvStream, WritingAfterThePeerVanishedReportsResetAndDoesNotRaiseSigpipe) {
  UvRuntime rt;
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  // The client stops reading, so the RST can only be noticed by writing.
  p->client->SetReadPaused(true);
  p->server->Reset();
  rt.RunFor(20 * kMillisecond);
  int turns = 0;
  std::function<void()> keep_writing = [&] {
    if (p->client_rec.closed || ++turns > 1000) return;
    p->client->Write(AsBytes("are you there?"));
    rt.Post(keep_writing);
  };
  keep_writing();
  ASSERT_TRUE(rt.RunUntil([&] { return p->client_rec.closed; }, 5 * kSecond));
  EXPECT_EQ(p->client_rec.reason, CloseReason::kReset) << p->client_rec.detail;
}

TEST(UvStream, DestroyingAnOpenStreamResetsIt) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  p->server.reset();
  ASSERT_TRUE(rt.RunUntil([&] { return p->client_rec.closed; }, 5 * kSecond));
  EXPECT_EQ(p->client_rec.reason, CloseReason::kReset);
}

TEST(UvStream, HandlerMayDestroyItsStreamInsideOnData) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  p->server_rec.on_data = [&](std::span<const uint8_t>) { p->server.reset(); };
  p->client->Write(AsBytes(PatternBytes(200'000, 3)));
  ASSERT_TRUE(rt.RunUntil([&] { return p->client_rec.closed; }, 5 * kSecond));
  EXPECT_EQ(p->server_rec.data_calls, 1);
  EXPECT_EQ(p->server, nullptr);
}

TEST(UvStream, PausedReaderMakesTheWriterUnwritableAndResumingDrainsIt) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  p->server->SetReadPaused(true);
  // Write 64 KiB blocks whenever writable, until the kernel buffers are full and the writer
  // stays unwritable for a while.
  uint64_t sent = 0;
  uint64_t sent_sum = 0;
  Rng rng(7);
  std::vector<uint8_t> block(64 * 1024);
  auto pump = [&] {
    while (p->client->Writable()) {
      for (auto& b : block) {
        b = static_cast<uint8_t>(rng.Next());
        sent_sum = sent_sum * 31 + b;
      }
      ASSERT_TRUE(p->client->Write(block));
      sent += block.size();
    }
  };
  p->client_rec.on_writable = pump;
  pump();
  EXPECT_FALSE(p->client->Writable());
  EXPECT_GT(p->client->BufferedBytes(), kUvStreamHighWaterBytes);
  // Let the kernel buffers fill; the writer ends up stuck above the high-water mark.
  // Stuck: unwritable, and nothing more written for 200 ms (a slow build may spend longer than
  // that producing one burst, so progress restarts the clock).
  Nanos stuck_since = rt.Now();
  uint64_t sent_then = sent;
  ASSERT_TRUE(rt.RunUntil(
      [&] {
        if (p->client->Writable() || sent != sent_then) {
          sent_then = sent;
          stuck_since = rt.Now();
          return false;
        }
        return rt.Now() - stuck_since > 200 * kMillisecond;
      },
      30 * kSecond));
  EXPECT_TRUE(p->server_rec.data.empty());
  EXPECT_GT(rt.stats().uv_write_calls, 0u);
  const int writable_before = p->client_rec.writable_calls;
  // Resume reading; stop producing once 32 MiB are out, and check every byte arrives in order.
  p->client_rec.on_writable = [&] {
    if (sent < (32u << 20)) pump();
  };
  uint64_t received_sum = 0;
  uint64_t received = 0;
  p->server_rec.on_data = [&](std::span<const uint8_t> b) {
    for (uint8_t c : b) received_sum = received_sum * 31 + c;
    received += b.size();
    p->server_rec.data.clear();
  };
  p->server->SetReadPaused(false);
  ASSERT_TRUE(rt.RunUntil(
      [&] { return received == sent && p->client->BufferedBytes() == 0 && sent >= (32u << 20); },
      60 * kSecond));
  EXPECT_GT(p->client_rec.writable_calls, writable_before);
  EXPECT_TRUE(p->client->Writable());
  EXPECT_EQ(received_sum, sent_sum);
}

TEST(UvStream, ManySmallWritesInOneTurnGoOutInOneGatherWrite) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  rt.RunFor(5 * kMillisecond);
  const UvStats before = rt.stats();
  // 100 copied frames, plus shared frames (small ones are copied, large ones referenced).
  std::string expected;
  bool posted = false;
  const SharedBytes big = SharedBytes::Copy(PatternBytes(4096, 9));
  rt.Post([&] {
    for (int i = 0; i < 100; ++i) {
      const std::string frame = "frame-" + std::to_string(i) + ";";
      p->client->Write(AsBytes(frame));
      expected += frame;
      if (i % 25 == 0) {
        p->client->Write(big);
        expected += big.view();
        p->client->Write(SharedBytes::Copy(std::string_view("tiny")));
        expected += "tiny";
      }
    }
    EXPECT_EQ(big.use_count(), 5u);  // referenced, not copied, until flushed
    posted = true;
  });
  ASSERT_TRUE(rt.RunUntil([&] { return posted && p->server_rec.data.size() == expected.size(); },
                          5 * kSecond));
  EXPECT_EQ(p->server_rec.data, expected);
  const UvStats after = rt.stats();
  EXPECT_EQ(after.flushes - before.flushes, 1u);
  // Copied frames merge into one buffer between the shared ones: 4 shared + 5 copied runs.
  EXPECT_EQ(after.flushed_buffers - before.flushed_buffers, 9u);
  EXPECT_EQ(big.use_count(), 1u);
}

TEST(UvStream, WithoutCoalescingEveryWriteIsItsOwnSystemCall) {
  UvRuntime rt(UvRuntimeOptions{.coalesce_writes = false});
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  const UvStats before = rt.stats();
  for (int i = 0; i < 50; ++i) p->client->Write(AsBytes("0123456789"));
  ASSERT_TRUE(rt.RunUntil([&] { return p->server_rec.data.size() == 500; }, 5 * kSecond));
  EXPECT_EQ(rt.stats().flushes - before.flushes, 50u);
}

TEST(UvStream, WritesFromSeveralCallbacksInOneTurnShareOneFlush) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  rt.RunFor(5 * kMillisecond);
  const UvStats before = rt.stats();
  // Two timers due in the same turn and a posted function: one flush for all three.
  const Nanos deadline = rt.Now() + 2 * kMillisecond;
  rt.SetTimer(deadline, [&] { p->client->Write(AsBytes("a")); });
  rt.SetTimer(deadline, [&] {
    p->client->Write(AsBytes("b"));
    rt.Post([&] { p->client->Write(AsBytes("c")); });
  });
  ASSERT_TRUE(rt.RunUntil([&] { return p->server_rec.data.size() == 3; }, 5 * kSecond));
  EXPECT_EQ(p->server_rec.data, "abc");
  EXPECT_EQ(rt.stats().flushes - before.flushes, 1u);
}

TEST(UvStream, CallbacksNeverRunInsideUserCalls) {
  UvRuntime rt;
  auto p = ConnectPair(rt);
  ASSERT_NE(p, nullptr);
  // Recorder fails the test on any callback while in_user_call is set.
  p->server_rec.on_data = [&](std::span<const uint8_t> b) {
    p->server_rec.in_user_call = true;
    p->server->Write(b);
    p->server->Shutdown();
    p->server_rec.in_user_call = false;
  };
  p->client_rec.in_user_call = true;
  p->client->Write(AsBytes(std::string(2 << 20, 'x')));  // above the high-water mark
  p->client->SetReadPaused(true);
  p->client->SetReadPaused(false);
  p->client->Shutdown();
  p->client_rec.in_user_call = false;
  ASSERT_TRUE(
      rt.RunUntil([&] { return p->client_rec.ended && p->server_rec.ended; }, 10 * kSecond));
}

TEST(UvRuntimeLifetime, DestroyingTheRuntimeClosesEverythingOnABorrowedLoop) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  std::unique_ptr<testing::StreamPair> keep;
  {
    auto rt = std::make_unique<UvRuntime>(UvRuntimeOptions{}, &loop);
    keep = ConnectPair(*rt);
    ASSERT_NE(keep, nullptr);
    keep->client->Write(AsBytes(std::string(100000, 'y')));
    keep->server->Close();  // one connection in the middle of a graceful close
    rt->SetTimer(rt->Now() + 10 * kSecond, [] {});
    rt->Post([] {});
    rt->Dial(keep->listener->address(), [](Result<std::unique_ptr<Stream>>) {
      ADD_FAILURE() << "no dial callback after the runtime is gone";
    });
    ASSERT_TRUE(rt->OnTerminationSignal([](int) {}).ok());
    rt.reset();
  }
  // The streams and the listener outlived the runtime on purpose: they are detached.
  EXPECT_FALSE(keep->client->Write(AsBytes("x")));
  EXPECT_FALSE(keep->client->Writable());
  EXPECT_EQ(keep->client->BufferedBytes(), 0u);
  keep.reset();
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(UvRuntimeSignals, SignalCallbackRunsOnTheLoop) {
  UvRuntime rt;
  int got = 0;
  ASSERT_TRUE(rt.OnSignal(SIGUSR1, [&](int signum) { got = signum; }).ok());
  rt.Post([] { uv_kill(uv_os_getpid(), SIGUSR1); });
  ASSERT_TRUE(rt.RunUntil([&] { return got != 0; }, 5 * kSecond));
  EXPECT_EQ(got, SIGUSR1);
}

TEST(UvRuntimeRun, StopEndsRunAndRunForEndsAfterItsDuration) {
  UvRuntime rt;
  auto listener = rt.Listen(Address{"127.0.0.1", 0}, [](std::unique_ptr<Stream>) {});
  ASSERT_TRUE(listener.ok());  // keeps Run() alive until Stop()
  rt.SetTimer(rt.Now() + 10 * kMillisecond, [&] { rt.Stop(); });
  const Nanos start = rt.Now();
  rt.Run();
  EXPECT_GE(rt.Now() - start, 10 * kMillisecond);
  EXPECT_LT(rt.Now() - start, 5 * kSecond);
  const Nanos start2 = rt.Now();
  rt.RunFor(15 * kMillisecond);
  EXPECT_GE(rt.Now() - start2, 15 * kMillisecond);
}

}  // namespace
}  // namespace wpsim::sim
