#include "reports/histogram.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

namespace wpsim::reports {
namespace {

// Smallest m with 2^m >= x (x >= 1).
int CeilLog2(int64_t x) {
  int m = 0;
  while ((int64_t{1} << m) < x) ++m;
  return m;
}

// Largest m with 2^m <= x (x >= 1).
int FloorLog2(int64_t x) { return 63 - std::countl_zero(static_cast<uint64_t>(x)); }

}  // namespace

Histogram::Histogram(int significant_digits) : significant_digits_(significant_digits) {
  WPSIM_ASSERT(significant_digits >= kMinSignificantDigits &&
               significant_digits <= kMaxSignificantDigits);
  int64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits; ++i) largest_single_unit *= 10;
  const int sub_bucket_count_magnitude = CeilLog2(largest_single_unit);
  sub_bucket_half_count_magnitude_ = std::max(sub_bucket_count_magnitude, 1) - 1;
  sub_bucket_count_ = int64_t{1} << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  unit_magnitude_ = FloorLog2(kLowestDiscernibleNs);
  sub_bucket_mask_ = (sub_bucket_count_ - 1) << unit_magnitude_;

  int64_t smallest_untrackable = sub_bucket_count_ << unit_magnitude_;
  int buckets_needed = 1;
  while (smallest_untrackable <= kHighestTrackableNs) {
    smallest_untrackable <<= 1;
    ++buckets_needed;
  }
  bucket_count_ = buckets_needed;
  counts_length_ = static_cast<size_t>((bucket_count_ + 1) * sub_bucket_half_count_);
}

int Histogram::BucketIndexOf(int64_t value) const {
  const int pow2_ceiling =
      64 - std::countl_zero(static_cast<uint64_t>(value | sub_bucket_mask_));
  return pow2_ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
}

size_t Histogram::CountsIndexOf(int64_t value) const {
  const int bucket_index = BucketIndexOf(value);
  const int64_t sub_bucket_index = value >> (bucket_index + unit_magnitude_);
  const int64_t bucket_base_index = int64_t{bucket_index + 1} << sub_bucket_half_count_magnitude_;
  return static_cast<size_t>(bucket_base_index + (sub_bucket_index - sub_bucket_half_count_));
}

int64_t Histogram::ValueFromIndex(size_t index) const {
  int bucket_index = static_cast<int>(index >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub_bucket_index =
      static_cast<int64_t>(index & static_cast<size_t>(sub_bucket_half_count_ - 1)) +
      sub_bucket_half_count_;
  if (bucket_index < 0) {
    sub_bucket_index -= sub_bucket_half_count_;
    bucket_index = 0;
  }
  return sub_bucket_index << (bucket_index + unit_magnitude_);
}

int64_t Histogram::SizeOfEquivalentRange(int64_t value) const {
  const int bucket_index = BucketIndexOf(value);
  const int64_t sub_bucket_index = value >> (bucket_index + unit_magnitude_);
  const int adjusted = sub_bucket_index >= sub_bucket_count_ ? bucket_index + 1 : bucket_index;
  return int64_t{1} << (unit_magnitude_ + adjusted);
}

int64_t Histogram::LowestEquivalent(int64_t value_ns) const {
  const int64_t v = std::clamp<int64_t>(value_ns, 0, kHighestTrackableNs);
  const int bucket_index = BucketIndexOf(v);
  const int64_t sub_bucket_index = v >> (bucket_index + unit_magnitude_);
  return sub_bucket_index << (bucket_index + unit_magnitude_);
}

int64_t Histogram::HighestEquivalent(int64_t value_ns) const {
  const int64_t low = LowestEquivalent(value_ns);
  return low + SizeOfEquivalentRange(low) - 1;
}

int64_t Histogram::MedianEquivalent(int64_t value_ns) const {
  const int64_t low = LowestEquivalent(value_ns);
  return low + SizeOfEquivalentRange(low) / 2;
}

void Histogram::EnsureCounts() {
  if (counts_.empty()) counts_.assign(counts_length_, 0);
}

void Histogram::RecordCount(int64_t value_ns, uint64_t count) {
  if (count == 0) return;
  int64_t v = value_ns;
  if (v < 0 || v > kHighestTrackableNs) {
    v = std::clamp<int64_t>(v, 0, kHighestTrackableNs);
    clamped_count_ += count;
  }
  EnsureCounts();
  const size_t index = CountsIndexOf(v);
  WPSIM_ASSERT(index < counts_length_);
  counts_[index] += count;
  if (total_count_ == 0) {
    min_ = v;
    max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  total_count_ += count;
}

void Histogram::RecordCorrected(int64_t value_ns, int64_t expected_interval_ns) {
  Record(value_ns);
  const int64_t v = std::clamp<int64_t>(value_ns, 0, kHighestTrackableNs);
  const int64_t interval = expected_interval_ns;
  if (interval <= 0 || v < 2 * interval) return;
  // The synthetic samples are v - k*interval (k >= 1) down to >= interval, i.e. r + m*interval
  // for m in [1, last_m] with r = v mod interval. Walk them bucket by bucket, adding the whole
  // run that falls into one sub-bucket at once.
  const int64_t r = v % interval;
  const int64_t last_m = v / interval - 1;
  int64_t m = 1;
  min_ = std::min(min_, r + interval);
  while (m <= last_m) {
    const int64_t value = r + m * interval;
    const int64_t high = HighestEquivalent(value);
    const int64_t m_end = std::min(last_m, (high - r) / interval);
    const uint64_t n = static_cast<uint64_t>(m_end - m + 1);
    counts_[CountsIndexOf(value)] += n;
    total_count_ += n;
    m = m_end + 1;
  }
}

Status Histogram::Merge(const Histogram& other) {
  if (other.significant_digits_ != significant_digits_) {
    return MakeError("histogram_mismatch",
                     "cannot merge a histogram with " +
                         std::to_string(other.significant_digits_) +
                         " significant digits into one with " +
                         std::to_string(significant_digits_) + ": merge would not be exact");
  }
  if (other.total_count_ == 0) return Status::Ok();
  EnsureCounts();
  for (size_t i = 0; i < counts_length_; ++i) counts_[i] += other.counts_[i];
  if (total_count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  total_count_ += other.total_count_;
  clamped_count_ += other.clamped_count_;
  return Status::Ok();
}

void Histogram::Reset() {
  counts_.clear();
  total_count_ = 0;
  clamped_count_ = 0;
  min_ = 0;
  max_ = 0;
}

double Histogram::mean() const {
  if (total_count_ == 0) return 0;
  double total = 0;
  for (size_t i = 0; i < counts_length_; ++i) {
    if (counts_[i] == 0) continue;
    total += static_cast<double>(counts_[i]) *
             static_cast<double>(MedianEquivalent(ValueFromIndex(i)));
  }
  // Sub-bucket midpoints can lie outside the exact extremes (one sample of 2 ms has a midpoint
  // above 2 ms); clamping keeps mean within [min, max] and is still merge-exact.
  return std::clamp(total / static_cast<double>(total_count_), static_cast<double>(min_),
                    static_cast<double>(max_));
}

double Histogram::stddev() const {
  if (total_count_ == 0) return 0;
  const double m = mean();
  double geometric_deviation_total = 0;
  for (size_t i = 0; i < counts_length_; ++i) {
    if (counts_[i] == 0) continue;
    const double dev = static_cast<double>(MedianEquivalent(ValueFromIndex(i))) - m;
    geometric_deviation_total += dev * dev * static_cast<double>(counts_[i]);
  }
  return std::sqrt(geometric_deviation_total / static_cast<double>(total_count_));
}

int64_t Histogram::ValueAtPercentile(double percentile) const {
  const double p[] = {percentile};
  return ValuesAtPercentiles(p)[0];
}

std::vector<int64_t> Histogram::ValuesAtPercentiles(std::span<const double> percentiles) const {
  std::vector<int64_t> out(percentiles.size(), 0);
  if (total_count_ == 0) return out;
  size_t index = 0;
  uint64_t cumulative = 0;
  for (size_t k = 0; k < percentiles.size(); ++k) {
    WPSIM_ASSERT(k == 0 || percentiles[k] >= percentiles[k - 1]);
    const double p = percentiles[k];
    if (p <= 0) {
      out[k] = min_;
      continue;
    }
    if (p >= 100) {
      out[k] = max_;
      continue;
    }
    // One ulp below p avoids overshooting into the next sub-bucket through rounding (as
    // HdrHistogram does); ceil makes sure at least p% of the samples are at or below the result.
    const double requested = std::nextafter(p, -std::numeric_limits<double>::infinity());
    uint64_t count_at = static_cast<uint64_t>(
        std::ceil(requested / 100.0 * static_cast<double>(total_count_)));
    count_at = std::clamp<uint64_t>(count_at, 1, total_count_);
    while (index < counts_length_) {
      if (cumulative + counts_[index] >= count_at) break;
      cumulative += counts_[index];
      ++index;
    }
    WPSIM_ASSERT(index < counts_length_);
    out[k] = std::clamp(HighestEquivalent(ValueFromIndex(index)), min_, max_);
  }
  return out;
}

std::vector<Histogram::Bucket> Histogram::NonEmptyBuckets() const {
  std::vector<Bucket> out;
  if (total_count_ == 0) return out;
  for (size_t i = 0; i < counts_length_; ++i) {
    if (counts_[i] != 0) out.push_back({ValueFromIndex(i), counts_[i]});
  }
  return out;
}

Result<Histogram> Histogram::FromBuckets(int significant_digits, std::span<const Bucket> buckets,
                                         int64_t min_ns, int64_t max_ns,
                                         uint64_t clamped_count) {
  if (significant_digits < kMinSignificantDigits || significant_digits > kMaxSignificantDigits) {
    return MakeError("bad_histogram", "significant_digits must be between 1 and 5, got " +
                                          std::to_string(significant_digits));
  }
  Histogram h(significant_digits);
  if (buckets.empty()) {
    if (min_ns != 0 || max_ns != 0 || clamped_count != 0) {
      return MakeError("bad_histogram", "an empty histogram must have min, max and clamped 0");
    }
    return h;
  }
  h.EnsureCounts();
  int64_t previous = -1;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    const std::string where = "bucket " + std::to_string(i) + " (value " +
                              std::to_string(b.value_ns) + ")";
    if (b.value_ns < 0 || b.value_ns > kHighestTrackableNs) {
      return MakeError("bad_histogram", where + ": value outside [0, 1 h]");
    }
    if (h.LowestEquivalent(b.value_ns) != b.value_ns) {
      return MakeError("bad_histogram",
                       where + ": not the lowest value of a sub-bucket for " +
                           std::to_string(significant_digits) + " significant digits");
    }
    if (b.value_ns <= previous) {
      return MakeError("bad_histogram", where + ": buckets must be strictly ascending");
    }
    if (b.count == 0) return MakeError("bad_histogram", where + ": count must be positive");
    if (h.total_count_ > std::numeric_limits<uint64_t>::max() - b.count) {
      return MakeError("bad_histogram", where + ": total count overflows");
    }
    previous = b.value_ns;
    h.counts_[h.CountsIndexOf(b.value_ns)] = b.count;
    h.total_count_ += b.count;
  }
  if (min_ns > max_ns || h.LowestEquivalent(min_ns) != buckets.front().value_ns ||
      min_ns < 0 || min_ns > kHighestTrackableNs) {
    return MakeError("bad_histogram", "min " + std::to_string(min_ns) +
                                          " is not inside the lowest non-empty bucket");
  }
  if (max_ns < 0 || max_ns > kHighestTrackableNs ||
      h.LowestEquivalent(max_ns) != buckets.back().value_ns) {
    return MakeError("bad_histogram", "max " + std::to_string(max_ns) +
                                          " is not inside the highest non-empty bucket");
  }
  if (clamped_count > h.total_count_) {
    return MakeError("bad_histogram", "clamped count exceeds total count");
  }
  h.min_ = min_ns;
  h.max_ = max_ns;
  h.clamped_count_ = clamped_count;
  return h;
}

bool Histogram::operator==(const Histogram& other) const {
  if (significant_digits_ != other.significant_digits_ || total_count_ != other.total_count_ ||
      clamped_count_ != other.clamped_count_ || min() != other.min() || max() != other.max()) {
    return false;
  }
  if (total_count_ == 0) return true;
  return counts_ == other.counts_;
}

std::string FormatDurationNs(double ns) {
  struct Unit {
    double scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}, {60e9, "min"},
                                    {3600e9, "h"}};
  if (!(ns >= 0)) ns = 0;  // also maps NaN to 0
  const char* unit = "ns";
  double v = ns;
  if (ns >= 999.5) {
    for (const Unit& u : kUnits) {
      if (ns >= u.scale * 0.9995) {
        unit = u.name;
        v = ns / u.scale;
      }
    }
  }
  int decimals = 0;
  if (unit[0] != 'n') {
    decimals = v >= 99.95 ? 0 : (v >= 9.995 ? 1 : 2);
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string out(buf, res.ptr);
  out += ' ';
  out += unit;
  return out;
}

}  // namespace wpsim::reports
