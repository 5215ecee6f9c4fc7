#include "sim/distribution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace wpsim::sim {
namespace {

constexpr double kMs = 1e6;

Distribution MustParse(std::string_view text) {
  Result<Distribution> d = Distribution::Parse(text);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : Distribution();
}

TEST(DistributionParse, AcceptsEveryDocumentedForm) {
  EXPECT_EQ(MustParse("5ms"), Distribution::Constant(5 * kMs));
  EXPECT_EQ(MustParse("constant 5ms"), Distribution::Constant(5 * kMs));
  EXPECT_EQ(MustParse("uniform 1ms 3ms"), Distribution::Uniform(1 * kMs, 3 * kMs));
  EXPECT_EQ(MustParse("uniform min=1ms max=3ms"), Distribution::Uniform(1 * kMs, 3 * kMs));
  EXPECT_EQ(MustParse("uniform(1ms, 3ms)"), Distribution::Uniform(1 * kMs, 3 * kMs));
  EXPECT_EQ(MustParse("normal mean=5ms stddev=1ms"), Distribution::Normal(5 * kMs, 1 * kMs));
  EXPECT_EQ(MustParse("lognormal median=5ms sigma=0.5"),
            Distribution::Lognormal(std::log(5 * kMs), 0.5));
  EXPECT_EQ(MustParse("lognormal mu=2 sigma=0.5"), Distribution::Lognormal(2, 0.5));
  EXPECT_EQ(MustParse("pareto scale=1ms shape=2.5"), Distribution::Pareto(1 * kMs, 2.5));
  EXPECT_EQ(MustParse("pareto scale=1ms shape=2.5 cap=1s"),
            Distribution::Pareto(1 * kMs, 2.5).WithCap(1e9));
  EXPECT_EQ(MustParse("exponential mean=250us"), Distribution::Exponential(250e3));
  EXPECT_EQ(MustParse("constant 0"), Distribution::Constant(0));
  EXPECT_EQ(MustParse("constant 1.5s"), Distribution::Constant(1.5e9));
  EXPECT_EQ(MustParse("constant 10ns"), Distribution::Constant(10));
  // lognormal mean= solves for mu: mean = exp(mu + sigma^2 / 2).
  const Distribution by_mean = MustParse("lognormal mean=5ms sigma=0.5");
  EXPECT_NEAR(by_mean.Mean(), 5 * kMs, 1e-6 * kMs);
  Result<Distribution> plain = Distribution::Parse("uniform 1 3", Distribution::Units::kPlain);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, Distribution::Uniform(1, 3));
}

TEST(DistributionParse, RejectsBadInputWithAReason) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"", "empty"},
      {"gaussian 5ms 1ms", "unknown kind 'gaussian'"},
      {"constant 5", "needs a unit"},
      {"constant 5 ms", "needs a unit"},
      {"constant 5ms 6ms", "too many values"},
      {"constant 5parsecs", "unknown unit 'parsecs'"},
      {"uniform 3ms 1ms", "min is greater than max"},
      {"uniform 1ms", "missing parameter 'max'"},
      {"normal mean=5ms", "missing parameter 'stddev'"},
      {"normal mean=5ms stddev=-1ms", "stddev must not be negative"},
      {"normal mean=5ms stddev=1ms mean=2ms", "given twice"},
      {"lognormal median=5ms", "missing parameter 'sigma'"},
      {"lognormal median=5ms mean=4ms sigma=1", "exactly one of"},
      {"lognormal median=5ms sigma=1ms", "must be a plain number"},
      {"pareto scale=1ms shape=0", "shape must be positive"},
      {"pareto scale=0 shape=2", "scale must be positive"},
      {"pareto scale=1ms alpha=2", "unknown parameter 'alpha'"},
      {"exponential mean=abc", "not a number"},
      {"5ms 6ms", "must stand alone"},
  };
  for (const Case& c : cases) {
    Result<Distribution> d = Distribution::Parse(c.text);
    ASSERT_FALSE(d.ok()) << c.text;
    EXPECT_EQ(d.error().code, "bad_distribution");
    EXPECT_NE(d.error().message.find(c.says), std::string::npos)
        << c.text << " -> " << d.error().message;
    EXPECT_NE(d.error().message.find(std::string("'") + c.text + "'"), std::string::npos);
  }
}

TEST(DistributionParse, ToStringRoundTrips) {
  const Distribution all[] = {
      Distribution::Constant(5 * kMs),
      Distribution::Uniform(1 * kMs, 3 * kMs),
      Distribution::Normal(5 * kMs, 0.3 * kMs),
      Distribution::Lognormal(std::log(5 * kMs), 0.7),
      Distribution::Pareto(1 * kMs, 1.5).WithCap(2e9),
      Distribution::Exponential(123456.789),
  };
  for (const Distribution& d : all) {
    Result<Distribution> back = Distribution::Parse(d.ToString());
    ASSERT_TRUE(back.ok()) << d.ToString() << ": " << back.error().message;
    EXPECT_EQ(*back, d) << d.ToString();
  }
}

TEST(DistributionParse, ParsesDurations) {
  EXPECT_EQ(*Distribution::ParseDuration("1.5ms"), 1'500'000);
  EXPECT_EQ(*Distribution::ParseDuration("2s"), 2 * kSecond);
  EXPECT_EQ(*Distribution::ParseDuration("0"), 0);
  EXPECT_EQ(Distribution::ParseDuration("-1ms").error().code, "bad_duration");
  EXPECT_EQ(Distribution::ParseDuration("7").error().code, "bad_duration");
}

struct Summary {
  double mean;
  double p50;
  double p90;
  double p99;
};

Summary Summarize(const Distribution& d, uint64_t seed, int n = 200'000) {
  Rng rng(seed);
  std::vector<double> xs(n);
  double sum = 0;
  for (double& x : xs) {
    x = d.Sample(rng);
    sum += x;
  }
  std::sort(xs.begin(), xs.end());
  auto q = [&](double p) { return xs[static_cast<size_t>(p * n)]; };
  return {sum / n, q(0.5), q(0.9), q(0.99)};
}

// Fixed seeds: the samples are the same on every run, so these bounds are exact checks of the
// sampler against the analytic values, not flaky statistics.
TEST(DistributionSampling, MeansAndQuantilesMatchTheConfiguredParameters) {
  const Distribution all[] = {
      Distribution::Uniform(1 * kMs, 3 * kMs),
      Distribution::Normal(5 * kMs, 1 * kMs),
      Distribution::Lognormal(std::log(5 * kMs), 0.5),
      Distribution::Pareto(1 * kMs, 2.5),
      Distribution::Exponential(5 * kMs),
  };
  for (const Distribution& d : all) {
    const Summary s = Summarize(d, 12345);
    SCOPED_TRACE(d.ToString());
    EXPECT_NEAR(s.mean / d.Mean(), 1.0, 0.01);
    EXPECT_NEAR(s.p50 / d.Quantile(0.5), 1.0, 0.01);
    EXPECT_NEAR(s.p90 / d.Quantile(0.9), 1.0, 0.015);
    EXPECT_NEAR(s.p99 / d.Quantile(0.99), 1.0, 0.04);
  }
}

TEST(DistributionSampling, AnalyticQuantilesAreTheTextbookValues) {
  EXPECT_NEAR(Distribution::Normal(0, 1).Quantile(0.975), 1.959964, 1e-5);
  EXPECT_NEAR(Distribution::Normal(0, 1).Quantile(0.01), -2.326348, 1e-5);
  EXPECT_NEAR(Distribution::Lognormal(std::log(5.0), 0.5).Quantile(0.5), 5.0, 1e-9);
  EXPECT_NEAR(Distribution::Pareto(1, 2).Quantile(0.75), 2.0, 1e-12);
  EXPECT_NEAR(Distribution::Exponential(1).Quantile(0.5), std::log(2.0), 1e-12);
  EXPECT_TRUE(std::isinf(Distribution::Pareto(1, 1).Mean()));
}

TEST(DistributionSampling, ConstantDrawsNothingAndTheSameSeedGivesTheSameSamples) {
  Rng a(5);
  Rng b(5);
  EXPECT_EQ(Distribution::Constant(7).SampleNanos(a), 7);
  EXPECT_EQ(a.Next(), b.Next());  // the constant consumed no randomness
  const Distribution d = Distribution::Lognormal(10, 1);
  Rng c(77);
  Rng e(77);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(d.SampleNanos(c), d.SampleNanos(e));
}

TEST(DistributionSampling, NanosAreClampedToZeroAndTheCap) {
  Rng rng(1);
  const Distribution wide = Distribution::Normal(0, 1e6);
  int zeros = 0;
  for (int i = 0; i < 1000; ++i) {
    const Nanos v = wide.SampleNanos(rng);
    ASSERT_GE(v, 0);
    zeros += v == 0;
  }
  EXPECT_GT(zeros, 400);
  const Distribution capped = Distribution::Pareto(1e6, 0.5).WithCap(5e6);
  for (int i = 0; i < 1000; ++i) {
    const Nanos v = capped.SampleNanos(rng);
    ASSERT_GE(v, 1'000'000);
    ASSERT_LE(v, 5'000'000);
  }
}

}  // namespace
}  // namespace wpsim::sim
