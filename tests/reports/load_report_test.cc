#include "reports/load_report.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace wpsim::reports {
namespace {

// Shard `index` of a 3-shard load: 10 subscribers each, 100 messages in all; latencies drawn from
// a per-shard range so the shards' distributions differ.
LoadReport Shard(uint32_t index, std::vector<int64_t>* all_samples) {
  LoadReport r;
  r.label = "t";
  r.target = "ws://127.0.0.1:1";
  r.sub = "json";
  r.pub = "json";
  r.subscribers = 10;
  r.publishers = 1;
  r.messages = 100;
  r.size = 64;
  r.inflight = 8;
  r.shard_index = index;
  r.shard_count = 3;
  r.sent = index == 0 ? 34 : 33;
  r.expected = 1000;
  r.delivered = 1000;
  r.finished = true;
  r.load_start_unix_ns = 1'000'000'000 + index * 1000;
  r.last_delivery_unix_ns = 2'000'000'000 + index * 1'000'000;
  uint64_t x = 12345 + index;
  for (int i = 0; i < 1000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int64_t v = static_cast<int64_t>((x >> 33) % (1'000'000 * (index + 1))) + 1000;
    r.latency.Record(v);
    all_samples->push_back(v);
  }
  return r;
}

TEST(LoadReportMerge, AddsCountsAndMergedPercentilesAreThoseOfTheUnion) {
  std::vector<int64_t> all;
  const std::vector<LoadReport> shards = {Shard(2, &all), Shard(0, &all), Shard(1, &all)};
  Result<LoadReport> m = MergeLoadReports(shards);
  ASSERT_TRUE(m.ok()) << m.error().message;
  Histogram union_h(3);
  for (int64_t v : all) union_h.Record(v);
  EXPECT_EQ(m->latency, union_h);
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(m->latency.ValueAtPercentile(p), union_h.ValueAtPercentile(p)) << p;
  }
  EXPECT_EQ(m->delivered, 3000u);
  EXPECT_EQ(m->expected, 3000u);
  EXPECT_EQ(m->sent, 100u);
  EXPECT_EQ(m->subscribers, 30u);
  EXPECT_EQ(m->shards_merged, 3u);
  EXPECT_EQ(m->load_start_unix_ns, 1'000'000'000);
  EXPECT_EQ(m->last_delivery_unix_ns, 2'002'000'000);
  EXPECT_TRUE(m->ok());
}

TEST(LoadReportMerge, RefusesAShardGivenTwiceAMissingShardAndAnotherLoad) {
  std::vector<int64_t> all;
  const LoadReport a = Shard(0, &all), b = Shard(1, &all), c = Shard(2, &all);
  Result<LoadReport> twice = MergeLoadReports(std::vector<LoadReport>{a, b, b, c});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("shard 1/3 is given twice"), std::string::npos) << twice.error().message;
  Result<LoadReport> missing = MergeLoadReports(std::vector<LoadReport>{a, c});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("shard 1/3 is missing"), std::string::npos) << missing.error().message;
  LoadReport other = b;
  other.messages = 99;
  Result<LoadReport> mixed = MergeLoadReports(std::vector<LoadReport>{a, other, c});
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("is another load"), std::string::npos) << mixed.error().message;
}

TEST(LoadReportMerge, ALossInOneShardFailsTheMerge) {
  std::vector<int64_t> all;
  LoadReport b = Shard(1, &all);
  b.delivered = 999;
  b.latency = Histogram(3);
  for (int i = 0; i < 999; ++i) b.latency.Record(5000);
  Result<LoadReport> m = MergeLoadReports(std::vector<LoadReport>{Shard(0, &all), b, Shard(2, &all)});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->delivered, 2999u);
  EXPECT_FALSE(m->ok());
}

TEST(LoadReportJson, RoundTripsAndChecksTheHistogramAgainstTheCount) {
  std::vector<int64_t> all;
  const LoadReport r = Shard(1, &all);
  const nlohmann::json j = LoadReportToJson(r);
  EXPECT_TRUE(IsLoadReportJson(j));
  Result<LoadReport> back = LoadReportFromJson(j, "x.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->latency, r.latency);
  EXPECT_EQ(back->delivered, r.delivered);
  EXPECT_EQ(back->shard_index, 1u);
  EXPECT_EQ(back->shard_count, 3u);
  nlohmann::json bad = j;
  bad["delivered"] = 7;
  Result<LoadReport> wrong = LoadReportFromJson(bad, "x.json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("x.json: latency_histogram holds 1000 samples but delivered is 7"), std::string::npos)
      << wrong.error().message;
  EXPECT_FALSE(IsLoadReportJson(nlohmann::json{{"scenarios", 1}}));
}

}  // namespace
}  // namespace wpsim::reports
