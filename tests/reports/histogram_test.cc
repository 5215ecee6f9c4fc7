#include "reports/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace wpsim::reports {
namespace {

// A tiny deterministic generator (SplitMix64), so the tests do not depend on std:: distributions.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double NextUnit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// The exact sample quantile HdrHistogram approximates: the ceil(p% * n)-th smallest sample, with
// p lowered by one ulp so that 99.9% of 200000 is rank 199800, not 199801 through rounding.
int64_t ExactPercentile(const std::vector<int64_t>& sorted, double p) {
  const double q = std::nextafter(p, 0.0);
  const double rank = std::ceil(q / 100.0 * static_cast<double>(sorted.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

double Pow10(int d) {
  double v = 1;
  for (int i = 0; i < d; ++i) v *= 10;
  return v;
}

// The histogram's guarantee: a reported value is in the same sub-bucket as the exact one, so it
// differs by at most value / 10^digits, or by one 512 ns unit in the first (linear) bucket.
void ExpectWithinPrecision(const Histogram& h, const std::vector<int64_t>& sorted, double p) {
  const int64_t exact = ExactPercentile(sorted, p);
  const int64_t got = h.ValueAtPercentile(p);
  const double tolerance =
      std::max(static_cast<double>(exact) / Pow10(h.significant_digits()), 512.0);
  EXPECT_LE(std::abs(static_cast<double>(got - exact)), tolerance)
      << "p" << p << " digits " << h.significant_digits() << " exact " << exact << " got "
      << got;
  EXPECT_EQ(h.LowestEquivalent(got), h.LowestEquivalent(exact)) << "p" << p;
}

std::vector<int64_t> UniformSamples(uint64_t seed, size_t n, int64_t lo, int64_t hi) {
  SplitMix64 rng(seed);
  std::vector<int64_t> v(n);
  for (auto& x : v) {
    x = lo + static_cast<int64_t>(rng.NextUnit() * static_cast<double>(hi - lo));
  }
  return v;
}

std::vector<int64_t> ExponentialSamples(uint64_t seed, size_t n, double mean_ns) {
  SplitMix64 rng(seed);
  std::vector<int64_t> v(n);
  for (auto& x : v) x = static_cast<int64_t>(-std::log(1.0 - rng.NextUnit()) * mean_ns);
  return v;
}

TEST(LatencyHistogram, MergingEqualsRecordingTheUnion) {
  for (int digits = 1; digits <= 5; ++digits) {
    SplitMix64 rng(42 + digits);
    Histogram a(digits), b(digits), c(digits), all(digits);
    for (int i = 0; i < 30000; ++i) {
      // Log-uniform over 100 ns .. 1 h, plus a few out-of-range values.
      int64_t v = static_cast<int64_t>(std::exp(rng.NextUnit() * std::log(3.6e13)) * 100.0);
      if (i % 5000 == 0) v = -7;
      Histogram& target = (i % 3 == 0) ? a : (i % 3 == 1 ? b : c);
      target.Record(v);
      all.Record(v);
    }
    Histogram merged(digits);
    ASSERT_TRUE(merged.Merge(a).ok());
    ASSERT_TRUE(merged.Merge(b).ok());
    ASSERT_TRUE(merged.Merge(c).ok());
    EXPECT_TRUE(merged == all) << "digits " << digits;
    EXPECT_EQ(merged.count(), all.count());
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.max(), all.max());
    EXPECT_EQ(merged.clamped_count(), all.clamped_count());
    EXPECT_EQ(merged.mean(), all.mean());
    EXPECT_EQ(merged.stddev(), all.stddev());
    EXPECT_EQ(merged.ValuesAtPercentiles(kReportPercentiles),
              all.ValuesAtPercentiles(kReportPercentiles));
    EXPECT_EQ(merged.NonEmptyBuckets(), all.NonEmptyBuckets());
    // Merge order does not matter either.
    Histogram reversed(digits);
    ASSERT_TRUE(reversed.Merge(c).ok());
    ASSERT_TRUE(reversed.Merge(b).ok());
    ASSERT_TRUE(reversed.Merge(a).ok());
    EXPECT_TRUE(reversed == all);
  }
}

TEST(LatencyHistogram, MergingIntoAnEmptyHistogramCopiesMinAndMax) {
  Histogram a, empty;
  a.Record(5'000);
  a.Record(9'000'000);
  ASSERT_TRUE(empty.Merge(a).ok());
  EXPECT_EQ(empty.min(), 5'000);
  EXPECT_EQ(empty.max(), 9'000'000);
  Histogram nothing;
  ASSERT_TRUE(a.Merge(nothing).ok());
  EXPECT_EQ(a.count(), 2u);
}

TEST(LatencyHistogram, RefusesToMergeDifferentPrecisions) {
  Histogram a(2), b(3);
  b.Record(1000);
  Status s = a.Merge(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "histogram_mismatch");
  EXPECT_NE(s.error().message.find("with 3 significant digits into one with 2"),
            std::string::npos)
      << s.error().message;
}

TEST(LatencyHistogram, UniformPercentilesAreWithinConfiguredPrecision) {
  std::vector<int64_t> samples = UniformSamples(7, 200000, 1'000'000, 11'000'000);
  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  for (int digits = 1; digits <= 5; ++digits) {
    Histogram h(digits);
    for (int64_t v : samples) h.Record(v);
    for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
      ExpectWithinPrecision(h, sorted, p);
    }
    EXPECT_EQ(h.ValueAtPercentile(100), sorted.back());
    EXPECT_EQ(h.ValueAtPercentile(0), sorted.front());
    EXPECT_EQ(h.count(), samples.size());
  }
  // The generator itself is uniform: the sample median is near the theoretical 6 ms.
  EXPECT_NEAR(static_cast<double>(ExactPercentile(sorted, 50)), 6e6, 6e6 * 0.01);
  Histogram h(3);
  for (int64_t v : samples) h.Record(v);
  EXPECT_NEAR(h.mean(), 6e6, 6e6 * 0.01);
  // Standard deviation of U(a, b) is (b - a) / sqrt(12).
  EXPECT_NEAR(h.stddev(), 1e7 / std::sqrt(12.0), 1e7 / std::sqrt(12.0) * 0.02);
}

TEST(LatencyHistogram, ExponentialPercentilesAreWithinConfiguredPrecision) {
  const double mean = 5e6;  // 5 ms
  std::vector<int64_t> samples = ExponentialSamples(11, 200000, mean);
  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  for (int digits = 1; digits <= 5; ++digits) {
    Histogram h(digits);
    for (int64_t v : samples) h.Record(v);
    for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) ExpectWithinPrecision(h, sorted, p);
  }
  // Theoretical quantiles -ln(1 - p) * mean, within sampling error.
  EXPECT_NEAR(static_cast<double>(ExactPercentile(sorted, 50)), std::log(2.0) * mean,
              0.02 * mean);
  EXPECT_NEAR(static_cast<double>(ExactPercentile(sorted, 99)), std::log(100.0) * mean,
              0.05 * std::log(100.0) * mean);
  Histogram h(3);
  for (int64_t v : samples) h.Record(v);
  EXPECT_NEAR(h.mean(), mean, mean * 0.02);
  EXPECT_NEAR(h.stddev(), mean, mean * 0.03);
}

TEST(LatencyHistogram, CoordinatedOmissionCorrectionExposesAStalledServer) {
  // A closed-loop client sends every 1 ms; the server answers in 100 µs, except once when it
  // stalls for 1 s. The client, blocked, sends nothing during the stall, so the raw histogram
  // has one bad sample among 10000 and a rosy p99. The corrected one adds the ~999 requests
  // that an open-loop schedule would have sent (and that would have waited) during the stall.
  const int64_t interval = 1'000'000;
  Histogram raw, corrected;
  for (int i = 0; i < 10000; ++i) {
    const int64_t latency = (i == 5000) ? 1'000'000'000 : 100'000;
    raw.Record(latency);
    corrected.RecordCorrected(latency, interval);
  }
  EXPECT_EQ(raw.count(), 10000u);
  EXPECT_EQ(corrected.count(), 10000u + 999u);
  EXPECT_LT(raw.ValueAtPercentile(99), 200'000);
  EXPECT_GT(corrected.ValueAtPercentile(99), 500'000'000);
  EXPECT_GT(corrected.ValueAtPercentile(95), 100'000'000);
  EXPECT_LT(corrected.ValueAtPercentile(50), 200'000);
  EXPECT_EQ(corrected.max(), raw.max());
  EXPECT_EQ(corrected.min(), 100'000);
}

TEST(LatencyHistogram, BulkCorrectionEqualsHdrHistogramsPerSampleLoop) {
  SplitMix64 rng(3);
  for (int round = 0; round < 200; ++round) {
    const int digits = 1 + static_cast<int>(rng.Next() % 5);
    const int64_t interval = 1'000 + static_cast<int64_t>(rng.Next() % 5'000'000);
    const int64_t value = static_cast<int64_t>(rng.Next() % 2'000'000'000);
    Histogram bulk(digits), loop(digits);
    bulk.RecordCorrected(value, interval);
    // HdrHistogram's recordValueWithExpectedInterval, one sample at a time.
    loop.Record(value);
    for (int64_t missing = value - interval; missing >= interval; missing -= interval) {
      loop.Record(missing);
    }
    ASSERT_TRUE(bulk == loop) << "value " << value << " interval " << interval;
  }
}

TEST(LatencyHistogram, CorrectionIsBoundedForHugeValueToIntervalRatios) {
  Histogram h(3);
  h.RecordCorrected(Histogram::kHighestTrackableNs, 1);  // 3.6e12 synthetic samples
  EXPECT_EQ(h.count(), static_cast<uint64_t>(Histogram::kHighestTrackableNs));
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), Histogram::kHighestTrackableNs);
  h.RecordCorrected(5'000, 0);  // no interval: no correction
  EXPECT_EQ(h.count(), static_cast<uint64_t>(Histogram::kHighestTrackableNs) + 1);
}

TEST(LatencyHistogram, ClampsOutOfRangeValuesAndCountsThem) {
  Histogram h;
  h.Record(-5);
  h.Record(Histogram::kHighestTrackableNs + 1);
  h.Record(2'000);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.clamped_count(), 2u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), Histogram::kHighestTrackableNs);
}

TEST(LatencyHistogram, MemoryIsFixedByPrecisionAndCoversOneHour) {
  for (int digits = 1; digits <= 5; ++digits) {
    Histogram h(digits);
    const size_t length = h.counts_length();
    h.Record(0);
    h.Record(Histogram::kHighestTrackableNs);
    h.RecordCount(123'456'789, 1'000'000'000);
    EXPECT_EQ(h.counts_length(), length);
    EXPECT_EQ(h.max(), Histogram::kHighestTrackableNs);
    // The top of the range still resolves to within the precision.
    const int64_t top = h.HighestEquivalent(Histogram::kHighestTrackableNs);
    EXPECT_LE(static_cast<double>(top - Histogram::kHighestTrackableNs),
              static_cast<double>(Histogram::kHighestTrackableNs) / Pow10(digits));
  }
  EXPECT_LT(Histogram(3).counts_length() * 8, 256u * 1024u);
  EXPECT_GT(Histogram(4).counts_length(), Histogram(3).counts_length());
}

TEST(LatencyHistogram, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.ValueAtPercentile(99), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.stddev(), 0);
  EXPECT_TRUE(h.NonEmptyBuckets().empty());
}

TEST(LatencyHistogram, RebuildsExactlyFromItsCompactBuckets) {
  SplitMix64 rng(99);
  Histogram h(4);
  for (int i = 0; i < 5000; ++i) h.Record(static_cast<int64_t>(rng.Next() % 10'000'000'000));
  std::vector<Histogram::Bucket> buckets = h.NonEmptyBuckets();
  Result<Histogram> back = Histogram::FromBuckets(4, buckets, h.min(), h.max(), 0);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == h);
}

TEST(LatencyHistogram, RejectsInconsistentCompactBuckets) {
  Histogram h(3);
  h.Record(10'000'000);
  h.Record(20'000'000);
  std::vector<Histogram::Bucket> b = h.NonEmptyBuckets();
  ASSERT_EQ(b.size(), 2u);
  auto fail = [](Result<Histogram> r, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  std::vector<Histogram::Bucket> swapped = {b[1], b[0]};
  fail(Histogram::FromBuckets(3, swapped, h.min(), h.max(), 0), "ascending");
  std::vector<Histogram::Bucket> misaligned = {{b[0].value_ns + 1, 1}, b[1]};
  fail(Histogram::FromBuckets(3, misaligned, h.min(), h.max(), 0), "lowest value of a sub-bucket");
  std::vector<Histogram::Bucket> zero = {{b[0].value_ns, 0}, b[1]};
  fail(Histogram::FromBuckets(3, zero, h.min(), h.max(), 0), "count must be positive");
  fail(Histogram::FromBuckets(3, b, 1, h.max(), 0), "min 1");
  fail(Histogram::FromBuckets(3, b, h.min(), 99'000'000, 0), "max 99000000");
  fail(Histogram::FromBuckets(3, b, h.min(), h.max(), 3), "clamped");
  fail(Histogram::FromBuckets(6, b, h.min(), h.max(), 0), "between 1 and 5");
}

TEST(LatencyHistogram, PercentilesAscendAndBoundByMinAndMax) {
  Histogram h(2);
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v * 1'000'003);
  std::vector<int64_t> p = h.ValuesAtPercentiles(kReportPercentiles);
  for (size_t i = 1; i < p.size(); ++i) EXPECT_LE(p[i - 1], p[i]);
  EXPECT_LE(p.back(), h.max());
  EXPECT_GE(p.front(), h.min());
}

TEST(DurationFormatting, PicksAReadableUnitWithThreeSignificantDigits) {
  EXPECT_EQ(FormatDurationNs(0), "0 ns");
  EXPECT_EQ(FormatDurationNs(850), "850 ns");
  EXPECT_EQ(FormatDurationNs(12'345), "12.3 µs");
  EXPECT_EQ(FormatDurationNs(4'560'000), "4.56 ms");
  EXPECT_EQ(FormatDurationNs(123'000'000), "123 ms");
  EXPECT_EQ(FormatDurationNs(1'230'000'000), "1.23 s");
  EXPECT_EQ(FormatDurationNs(150e9), "2.50 min");
  EXPECT_EQ(FormatDurationNs(3600e9), "1.00 h");
  EXPECT_EQ(FormatDurationNs(-3), "0 ns");
}

}  // namespace
}  // namespace wpsim::reports
