// Histogram: a log-bucketed latency histogram in the manner of HdrHistogram.
//
// Theory of operation. Values are nanoseconds in [0, kHighestTrackableNs] (one hour). The value
// space is split into power-of-two "buckets"; each bucket is split linearly into sub-buckets, so
// every value is recorded with a relative error below 10^-significant_digits (1..5 digits). The
// lowest discernible value is kLowestDiscernibleNs (1 µs): the unit of the finest sub-bucket is
// the largest power of two not above it (512 ns), exactly as HdrHistogram's unitMagnitude.
//
// Rules this class keeps:
//   - Constant memory: the counts array has a fixed length decided by significant_digits alone,
//     allocated on the first record (an empty histogram costs a few words, which matters for a
//     report holding many series).
//   - Exact merge: two histograms with the same significant_digits merge by adding counts, and
//     min/max/count merge exactly; every statistic is computed from the counts (plus the exact
//     min and max), so merging equals recording the union, bit for bit.
//   - Deterministic: iteration is over the counts array in index order; no clocks, no RNG.
//   - Out-of-range values (negative, or above one hour) are clamped into range and counted in
//     clamped_count(), so a report can say that some samples were saturated.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace wpsim::reports {

class Histogram {
 public:
  static constexpr int64_t kLowestDiscernibleNs = 1'000;                  // 1 µs
  static constexpr int64_t kHighestTrackableNs = 3'600'000'000'000;       // 1 h
  static constexpr int kDefaultSignificantDigits = 3;
  static constexpr int kMinSignificantDigits = 1;
  static constexpr int kMaxSignificantDigits = 5;

  // significant_digits must be in [1, 5] (programmer error otherwise).
  explicit Histogram(int significant_digits = kDefaultSignificantDigits);

  // Records one value (nanoseconds). Values outside [0, kHighestTrackableNs] are clamped.
  void Record(int64_t value_ns) { RecordCount(value_ns, 1); }
  void RecordCount(int64_t value_ns, uint64_t count);
  // Coordinated-omission correction, as HdrHistogram's recordValueWithExpectedInterval: records
  // value_ns, and when it exceeds expected_interval_ns also the samples a closed-loop client
  // failed to send while stalled: value - k*interval for every k with a result >= interval.
  // Cost is bounded by the number of distinct sub-buckets touched, not by value / interval.
  void RecordCorrected(int64_t value_ns, int64_t expected_interval_ns);

  // Adds every count of `other`. Exact. Fails when significant_digits differ.
  Status Merge(const Histogram& other);
  void Reset();

  int significant_digits() const { return significant_digits_; }
  uint64_t count() const { return total_count_; }
  bool empty() const { return total_count_ == 0; }
  uint64_t clamped_count() const { return clamped_count_; }
  // Exact smallest and largest recorded (clamped) values; 0 when empty.
  int64_t min() const { return total_count_ ? min_ : 0; }
  int64_t max() const { return total_count_ ? max_ : 0; }
  // Mean and standard deviation over the sub-bucket midpoints (as HdrHistogram does; the mean is
  // clamped to [min, max]); 0 if empty.
  double mean() const;
  double stddev() const;
  // The value at `percentile` (0..100): the highest value equivalent to the sub-bucket that holds
  // the ceil(percentile% * count)-th sample, clamped to [min, max]; p0 is min and p100 is max.
  int64_t ValueAtPercentile(double percentile) const;
  // One pass for several percentiles; `percentiles` must be ascending.
  std::vector<int64_t> ValuesAtPercentiles(std::span<const double> percentiles) const;

  // Bucket geometry: every value v maps to one sub-bucket [LowestEquivalent(v),
  // HighestEquivalent(v)]; values in one sub-bucket are indistinguishable.
  int64_t LowestEquivalent(int64_t value_ns) const;
  int64_t HighestEquivalent(int64_t value_ns) const;
  int64_t MedianEquivalent(int64_t value_ns) const;

  // The non-empty sub-buckets in ascending order: (lowest equivalent value, count).
  struct Bucket {
    int64_t value_ns;
    uint64_t count;
    bool operator==(const Bucket&) const = default;
  };
  std::vector<Bucket> NonEmptyBuckets() const;

  // Rebuilds a histogram from its compact form (as written by NonEmptyBuckets plus exact min,
  // max and clamped count). Checks every invariant and explains the first violation.
  static Result<Histogram> FromBuckets(int significant_digits, std::span<const Bucket> buckets,
                                       int64_t min_ns, int64_t max_ns, uint64_t clamped_count);

  // Number of counters (fixed by significant_digits); memory is 8 bytes per counter once used.
  size_t counts_length() const { return counts_length_; }

  // Equal when the recorded data are equal (same digits, counts, min, max, clamped).
  bool operator==(const Histogram& other) const;

 private:
  int BucketIndexOf(int64_t value) const;
  size_t CountsIndexOf(int64_t value) const;
  int64_t ValueFromIndex(size_t index) const;
  int64_t SizeOfEquivalentRange(int64_t value) const;
  void EnsureCounts();

  int significant_digits_;
  int unit_magnitude_;
  int sub_bucket_half_count_magnitude_;
  int64_t sub_bucket_count_;
  int64_t sub_bucket_half_count_;
  int64_t sub_bucket_mask_;
  int bucket_count_;
  size_t counts_length_;
  std::vector<uint64_t> counts_;  // empty until the first record
  uint64_t total_count_ = 0;
  uint64_t clamped_count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

// The percentiles every report shows, in this order.
inline constexpr double kReportPercentiles[] = {50.0, 90.0, 99.0, 99.9, 99.99};

// Formats a duration for people: "0 ns", "850 ns", "12.3 µs", "4.56 ms", "1.23 s", "2.5 min".
// Three significant digits; deterministic (no locale).
std::string FormatDurationNs(double ns);

}  // namespace wpsim::reports
