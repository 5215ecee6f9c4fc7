// `wpsim bench` driven in-process through RunCli: exit codes, the JSON report it writes and
// the load model behind it (conformance/load.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "conformance/load.h"

namespace wpsim::app {
namespace {

using nlohmann::json;

std::string TempPath(const std::string& name) {
  return (testing::TempDir().empty() ? std::string("/tmp/") : testing::TempDir()) + "wpsim_bench_" +
         std::to_string(getpid()) + "_" + name;
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

int Bench(std::vector<std::string> args) {
  args.insert(args.begin(), {"wpsim", "bench"});
  return RunCli(args);
}

const json& Scenario(const json& report, const std::string& name) {
  for (const json& s : report["scenarios"]) {
    if (s["name"] == name) return s;
  }
  ADD_FAILURE() << "no scenario " << name;
  return report;
}

uint64_t PublishToReceiveCount(const json& scenario) {
  uint64_t n = 0;
  for (const json& series : scenario["latency"]) {
    if (series.value("metric", "") == "publish_to_receive") n += series["histogram"].value("count", 0ull);
  }
  return n;
}

TEST(BenchDriver, SimBenchDeliversEveryMessageToEverySubscriberAndRecordsLatencies) {
  const std::string out = TempPath("deliveries.json");
  ASSERT_EQ(Bench({"--subscribers", "40", "--messages", "50", "--rate", "100/s", "--kind", "json", "--json", out}),
            kExitOk);
  const json report = ReadJson(out);
  ASSERT_EQ(report["scenarios"].size(), 2u);  // baseline first, then the measured load
  const json& m = Scenario(report, "bench-json-broadcast");
  EXPECT_EQ(m["status"], "pass");
  EXPECT_EQ(m["counters"]["messages_delivered"], 40u * 50u);
  EXPECT_EQ(PublishToReceiveCount(m), 40u * 50u);
  bool has_throughput = false;
  for (const json& t : m["throughput"]) {
    if (t["name"] == "messages_delivered") {
      has_throughput = true;
      uint64_t total = 0;
      for (const json& c : t["counts"]) total += c.get<uint64_t>();
      EXPECT_EQ(total, 40u * 50u);
    }
  }
  EXPECT_TRUE(has_throughput);
  const json& b = Scenario(report, "bench-baseline-websocket-broadcast");
  EXPECT_EQ(b["counters"]["messages_delivered"], 40u * 50u);
  std::remove(out.c_str());
}

TEST(BenchDriver, PublishersSplitTheRateAndClientGroupPathDeliversToTheGroup) {
  const std::string out = TempPath("clientgroup.json");
  ASSERT_EQ(Bench({"--subscribers", "20", "--publishers", "3", "--messages", "30", "--rate", "300/s", "--kind",
                   "reliable", "--path", "client-group", "--baseline", "none", "--json", out}),
            kExitOk);
  const json report = ReadJson(out);
  ASSERT_EQ(report["scenarios"].size(), 1u);
  EXPECT_EQ(report["scenarios"][0]["counters"]["messages_delivered"], 20u * 30u);
  EXPECT_EQ(report["scenarios"][0]["counters"]["messages_sent"], 30u);
  std::remove(out.c_str());
}

TEST(BenchDriver, MqttGroupLoadAtQos1DeliversEveryMessage) {
  const std::string out = TempPath("mqtt.json");
  ASSERT_EQ(Bench({"--subscribers", "20", "--messages", "20", "--rate", "100/s", "--kind", "mqtt5", "--path",
                   "group", "--qos", "1", "--baseline", "mqtt5", "--json", out}),
            kExitOk);
  const json report = ReadJson(out);
  for (const json& s : report["scenarios"]) EXPECT_EQ(s["counters"]["messages_delivered"], 400u) << s["name"];
  std::remove(out.c_str());
}

TEST(BenchDriver, ThresholdThatCannotHoldExitsThreeAndTheReportNamesIt) {
  const std::string out = TempPath("broken.json");
  EXPECT_EQ(Bench({"--subscribers", "10", "--messages", "20", "--rate", "100/s", "--latency", "1ms", "--threshold",
                   "p99 < 1us", "--threshold", "error_rate < 0.1%", "--json", out}),
            kExitThreshold);
  const json report = ReadJson(out);
  ASSERT_EQ(report["thresholds"].size(), 2u);
  EXPECT_EQ(report["thresholds"][0]["expression"], "p99 < 1us");
  EXPECT_EQ(report["thresholds"][0]["passed"], false);
  EXPECT_EQ(report["thresholds"][1]["expression"], "error_rate < 0.1%");
  EXPECT_EQ(report["thresholds"][1]["passed"], true);
  std::remove(out.c_str());
}

TEST(BenchDriver, ThresholdsThatHoldExitZero) {
  EXPECT_EQ(Bench({"--subscribers", "10", "--messages", "50", "--rate", "100/s", "--baseline", "none", "--threshold",
                   "p99 < 50ms", "--threshold", "error_rate < 0.1%", "--threshold", "throughput > 500/s"}),
            kExitOk);
}

TEST(BenchDriver, ThroughputThresholdAboveTheOfferedRateExitsThree) {
  // 10 subscribers x 100 messages/s can never deliver more than about 1000/s.
  EXPECT_EQ(Bench({"--subscribers", "10", "--messages", "50", "--rate", "100/s", "--baseline", "none", "--threshold",
                   "throughput > 100000/s"}),
            kExitThreshold);
}

TEST(BenchDriver, SameSeedGivesTheSameSimJsonReportOutsideTheRunObject) {
  const std::string a = TempPath("det_a.json");
  const std::string b = TempPath("det_b.json");
  const std::string c = TempPath("det_c.json");
  const std::vector<std::string> common = {"--subscribers", "30", "--messages", "40", "--rate", "200/s",
                                           "--latency", "lognormal median=2ms sigma=0.5", "--kind", "json"};
  auto with = [&](const std::string& seed, const std::string& path) {
    std::vector<std::string> v = common;
    v.insert(v.end(), {"--seed", seed, "--json", path});
    return v;
  };
  ASSERT_EQ(Bench(with("7", a)), kExitOk);
  ASSERT_EQ(Bench(with("7", b)), kExitOk);
  ASSERT_EQ(Bench(with("8", c)), kExitOk);
  json ja = ReadJson(a), jb = ReadJson(b), jc = ReadJson(c);
  ja.erase("run");
  jb.erase("run");
  jc.erase("run");
  EXPECT_EQ(ja.dump(), jb.dump());
  EXPECT_EQ(ja["trace_hash"], jb["trace_hash"]);
  EXPECT_NE(ja["trace_hash"], jc["trace_hash"]);  // the seed draws the link latencies
  for (const std::string& p : {a, b, c}) std::remove(p.c_str());
}

TEST(BenchDriver, OverloadedLinkShowsLatencyGrowingFromTheIntendedSendTime) {
  // 64 KiB messages to 5 subscribers over 10 Mbps links: one message takes ~52 ms per link, so
  // 100/s is far more than the links carry and the backlog grows with every send. Measured from
  // the intended send time the latency keeps growing (coordinated omission corrected); a closed
  // loop would have hidden it.
  const std::string out = TempPath("overload.json");
  const std::string ok = TempPath("underload.json");
  EXPECT_EQ(Bench({"--subscribers", "5", "--messages", "40", "--rate", "100/s", "--size", "64KiB", "--bandwidth",
                   "10Mbps", "--baseline", "none", "--json", out}),
            kExitOk);
  EXPECT_EQ(Bench({"--subscribers", "5", "--messages", "40", "--rate", "100/s", "--size", "64KiB", "--bandwidth",
                   "10Gbps", "--baseline", "none", "--json", ok}),
            kExitOk);
  auto p99_max = [](const json& report) {
    int64_t worst = 0;
    for (const json& series : report["scenarios"][0]["latency"]) {
      if (series.value("metric", "") == "publish_to_receive") {
        worst = std::max<int64_t>(worst, series["histogram"].value("max_ns", int64_t{0}));
        EXPECT_TRUE(series.value("coordinated_omission_corrected", false));
      }
    }
    return worst;
  };
  const int64_t slow = p99_max(ReadJson(out));
  const int64_t fast = p99_max(ReadJson(ok));
  // 40 sends at 10 ms intervals behind a ~52 ms-per-message link: the last one waits for the
  // 39 before it, about 39 x 52 - 390 ms = 1.6 s after its intended time.
  EXPECT_GT(slow, 1'000'000'000);
  EXPECT_LT(fast, 50'000'000);
  std::remove(out.c_str());
  std::remove(ok.c_str());
}

TEST(BenchDriver, UndeliveredLoadIsAConformanceFailureThatWinsOverThresholds) {
  // 100 s links: nothing connects within the step timeout, so no message is delivered.
  const std::string out = TempPath("undelivered.json");
  EXPECT_EQ(Bench({"--subscribers", "5", "--messages", "10", "--rate", "100/s", "--latency", "100s", "--baseline",
                   "none", "--threshold", "p99 < 1us", "--json", out}),
            kExitConformanceFailure);
  const json report = ReadJson(out);
  EXPECT_EQ(report["scenarios"][0]["status"], "fail");
  EXPECT_EQ(report["verdict"], "conformance_failure");
  std::remove(out.c_str());
}

TEST(BenchDriver, UsageErrorsExitTwo) {
  EXPECT_EQ(Bench({"--rate", "fast"}), kExitUsage);
  EXPECT_EQ(Bench({"--rate", "0/s"}), kExitUsage);
  EXPECT_EQ(Bench({"--kind", "carrier-pigeon"}), kExitUsage);
  EXPECT_EQ(Bench({"--kind", "rest"}), kExitUsage);
  EXPECT_EQ(Bench({"--path", "multicast"}), kExitUsage);
  EXPECT_EQ(Bench({"--kind", "mqtt5", "--path", "group", "--qos", "2"}), kExitUsage);
  EXPECT_EQ(Bench({"--kind", "json", "--qos", "1"}), kExitUsage);
  EXPECT_EQ(Bench({"--kind", "mqtt311", "--path", "broadcast"}), kExitUsage);
  EXPECT_EQ(Bench({"--messages", "10", "--duration", "1s"}), kExitUsage);
  EXPECT_EQ(Bench({"--messages", "-3"}), kExitUsage);
  EXPECT_EQ(Bench({"--duration", "soon"}), kExitUsage);
  EXPECT_EQ(Bench({"--subscribers", "0"}), kExitUsage);
  EXPECT_EQ(Bench({"--size", "2MiB"}), kExitUsage);
  EXPECT_EQ(Bench({"--threshold", "p99 <"}), kExitUsage);
  EXPECT_EQ(Bench({"--baseline", "fax"}), kExitUsage);
  EXPECT_EQ(Bench({"--target", "remote"}), kExitUsage);
  EXPECT_EQ(Bench({"--target", "local", "--bandwidth", "1Mbps"}), kExitUsage);
  EXPECT_EQ(Bench({"--latency", "bogus 3"}), kExitUsage);
}

TEST(BenchDriver, DurationSetsTheNumberOfOpenLoopSends) {
  conformance::LoadSpec spec;
  spec.rate = "250/s";
  spec.publishers = 2;
  spec.subscribers = 7;
  spec.duration_ns = 2'000'000'000;
  Result<conformance::LoadPlan> plan = conformance::PlanLoad(spec);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->iterations, 250u);  // 125 iterations/s for 2 s, two sends each
  EXPECT_EQ(plan->messages, 500u);
  EXPECT_EQ(plan->expected_deliveries, 3500u);
  Result<conformance::Scenario> sc = conformance::BuildLoadScenario(spec);
  EXPECT_TRUE(sc.ok()) << (sc.ok() ? "" : sc.error().message);
}

TEST(BenchDriver, LocalTargetRunsASmallLoadOverLoopbackSockets) {
  const std::string out = TempPath("local.json");
  ASSERT_EQ(Bench({"--target", "local", "--subscribers", "50", "--duration", "1s", "--rate", "50/s", "--kind",
                   "json", "--baseline", "none", "--threshold", "error_rate < 1%", "--json", out}),
            kExitOk);
  const json report = ReadJson(out);
  EXPECT_EQ(report["target"], "local");
  EXPECT_EQ(report["clock"], "real");
  EXPECT_EQ(report["scenarios"][0]["counters"]["messages_delivered"], 50u * 50u);
  EXPECT_GT(PublishToReceiveCount(report["scenarios"][0]), 0u);
  std::remove(out.c_str());
}

}  // namespace
}  // namespace wpsim::app
