// SimPump: a SimNetwork driven from a libuv loop, fast or paced, next to real sockets.
#include "sim/uv/sim_pump.h"

#include <gtest/gtest.h>

#include "sim/sim_runtime.h"
#include "sim/uv/uv_runtime.h"
#include "tests/uv/uv_test_util.h"

namespace wpsim::sim {
namespace {

TEST(SimPump, FastModeRunsVirtualTimeFarAheadOfTheWallClockAndLetsRunReturn) {
  UvRuntime uv;
  SimNetwork net;
  SimRuntime& host = *net.AddHost("h").value();
  bool fired = false;
  host.SetTimer(host.Now() + 100 * kSecond, [&] { fired = true; });
  int idle_calls = 0;
  SimPump pump(uv.loop(), net);
  pump.SetIdleCallback([&] { ++idle_calls; });
  pump.Start();
  const Nanos real_start = uv.Now();
  uv.Run();  // returns once the simulation ran dry: the pump does not keep the loop alive
  EXPECT_TRUE(fired);
  EXPECT_EQ(idle_calls, 1);
  EXPECT_GE(net.now(), 100 * kSecond);
  EXPECT_LT(uv.Now() - real_start, 5 * kSecond);
  EXPECT_GE(pump.events_run(), 1u);
}

TEST(SimPump, PacedModeNeverRunsAnEventBeforeItsWallClockTime) {
  UvRuntime uv;
  SimNetwork net;
  SimRuntime& host = *net.AddHost("h").value();
  for (double speed : {1.0, 20.0}) {
    const Nanos virtual_delay = static_cast<Nanos>(80 * kMillisecond * speed);
    std::optional<Nanos> real_elapsed;
    Nanos real_start = 0;
    SimPump pump(uv.loop(), net, SimPumpOptions{.speed = speed});
    host.SetTimer(host.Now() + virtual_delay, [&] { real_elapsed = uv.Now() - real_start; });
    real_start = uv.Now();
    pump.Start();
    ASSERT_TRUE(uv.RunUntil([&] { return real_elapsed.has_value(); }, 10 * kSecond));
    EXPECT_GE(*real_elapsed, 80 * kMillisecond) << "speed " << speed;
    EXPECT_LT(*real_elapsed, 2 * kSecond) << "speed " << speed;
  }
}

TEST(SimPump, RealSocketsWorkWhileAPacedSimulationWaits) {
  UvRuntime uv;
  SimNetwork net;
  SimRuntime& host = *net.AddHost("h").value();
  bool sim_fired = false;
  host.SetTimer(host.Now() + 300 * kMillisecond, [&] { sim_fired = true; });
  SimPump pump(uv.loop(), net, SimPumpOptions{.speed = 1.0});
  pump.Start();
  auto pair = testing::ConnectPair(uv);
  ASSERT_NE(pair, nullptr);
  pair->server_rec.on_data = [&](std::span<const uint8_t> b) { pair->server->Write(b); };
  pair->client->Write(AsBytes("real bytes"));
  ASSERT_TRUE(uv.RunUntil([&] { return pair->client_rec.data == "real bytes"; }, 5 * kSecond));
  EXPECT_FALSE(sim_fired);
  ASSERT_TRUE(uv.RunUntil([&] { return sim_fired; }, 5 * kSecond));
}

TEST(SimPump, PicksUpSimulatedWorkScheduledFromARealCallback) {
  UvRuntime uv;
  SimNetwork net;
  SimRuntime& host = *net.AddHost("h").value();
  SimPump pump(uv.loop(), net);
  int idle_calls = 0;
  pump.SetIdleCallback([&] { ++idle_calls; });
  pump.Start();
  bool sim_ran = false;
  // A real timer (say, a request to a live report page) pokes the idle simulation.
  uv.SetTimer(uv.Now() + 20 * kMillisecond, [&] { host.Post([&] { sim_ran = true; }); });
  ASSERT_TRUE(uv.RunUntil([&] { return sim_ran; }, 5 * kSecond));
  EXPECT_GE(idle_calls, 1);
}

TEST(SimPump, StopHaltsTheSimulationAndStartResumesIt) {
  UvRuntime uv;
  SimNetwork net;
  SimRuntime& host = *net.AddHost("h").value();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    host.SetTimer(host.Now() + kMillisecond, tick);
  };
  host.Post(tick);
  SimPump pump(uv.loop(), net);
  pump.Start();
  ASSERT_TRUE(uv.RunUntil([&] { return ticks > 1000; }, 5 * kSecond));
  pump.Stop();
  uv.RunFor(10 * kMillisecond);
  const int stopped_at = ticks;
  uv.RunFor(10 * kMillisecond);
  EXPECT_EQ(ticks, stopped_at);
  pump.Start();
  ASSERT_TRUE(uv.RunUntil([&] { return ticks > stopped_at + 1000; }, 5 * kSecond));
  pump.Stop();
}

}  // namespace
}  // namespace wpsim::sim
