// Distribution: a value type describing a random quantity (usually a delay in nanoseconds) and
// sampling it from a sim::Rng with our own code, never std:: distributions (their output differs
// between standard libraries, which would break "same seed, same trace" across machines).
//
// Kinds and their parameters:
//   constant     value
//   uniform      min, max                     (min <= x < max; max == min gives min)
//   normal       mean, stddev                 (Marsaglia's polar method)
//   lognormal    mu, sigma of ln(x)           (exp(mu + sigma * normal))
//   pareto       scale (= minimum), shape     (scale / U^(1/shape); heavy tail for small shape)
//   exponential  mean                         (-mean * ln(U))
// Any kind may carry a `cap`: samples above it are clamped (useful for pareto tails).
// SampleNanos() also clamps below at 0, since a negative delay means nothing.
//
// Compact text syntax (Parse), as YAML scenarios write it. Parameters are positional in the
// order above or named `name=value`; tokens are separated by spaces or commas; a call-like form
// `kind(a, b)` is accepted too. Durations carry a unit: ns, us, ms, s (e.g. 1.5ms; 0 needs
// none). sigma and shape are plain numbers.
//   5ms                                  constant 5 ms
//   constant 5ms
//   uniform 1ms 3ms                      uniform min=1ms max=3ms
//   normal mean=5ms stddev=1ms
//   lognormal median=5ms sigma=0.5       (median = exp(mu)); also mean=..., or mu= in ln(ns)
//   pareto scale=1ms shape=2.5 cap=1s
//   exponential mean=5ms
// With Units::kPlain (dimensionless quantities) every value is a plain number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/rng.h"
#include "sim/seam.h"

namespace wpsim::sim {

class Distribution {
 public:
  enum class Kind : uint8_t { kConstant, kUniform, kNormal, kLognormal, kPareto, kExponential };
  enum class Units : uint8_t { kDuration, kPlain };

  Distribution() = default;  // constant 0
  static Distribution Constant(double value);
  static Distribution Uniform(double min, double max);
  static Distribution Normal(double mean, double stddev);
  static Distribution Lognormal(double mu, double sigma);
  static Distribution LognormalWithMedian(double median, double sigma);
  static Distribution Pareto(double scale, double shape);
  static Distribution Exponential(double mean);
  // A copy whose samples are clamped to at most `cap`.
  Distribution WithCap(double cap) const;

  // Parses the text syntax above; errors (code "bad_distribution") quote the text and say what
  // is wrong and what was expected.
  static Result<Distribution> Parse(std::string_view text, Units units = Units::kDuration);
  // Parses "1.5ms", "200us", "3s", "0" into nanoseconds (code "bad_duration" on error).
  static Result<Nanos> ParseDuration(std::string_view text);

  double Sample(Rng& rng) const;
  // Sample rounded to whole nanoseconds, clamped to [0, 2^62].
  Nanos SampleNanos(Rng& rng) const;

  // Analytic properties of the unclamped distribution (tests compare samples against them).
  double Mean() const;                // +infinity for pareto with shape <= 1
  double Quantile(double p) const;    // inverse CDF, 0 < p < 1
  // Round-trips through Parse (durations printed in ns).
  std::string ToString(Units units = Units::kDuration) const;

  Kind kind() const { return kind_; }
  double a() const { return a_; }  // value / min / mean / mu / scale
  double b() const { return b_; }  // max / stddev / sigma / shape
  double cap() const { return cap_; }
  bool operator==(const Distribution&) const = default;

 private:
  Distribution(Kind kind, double a, double b) : kind_(kind), a_(a), b_(b) {}
  static double StandardNormal(Rng& rng);

  Kind kind_ = Kind::kConstant;
  double a_ = 0;
  double b_ = 0;
  double cap_ = kNoCap;
  static constexpr double kNoCap = 0x1p62;
};

std::string_view DistributionKindName(Distribution::Kind kind);

}  // namespace wpsim::sim
