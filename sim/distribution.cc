#include "sim/distribution.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

namespace wpsim::sim {
namespace {

constexpr double kNanosMax = 0x1p62;

struct ParamSpec {
  std::string_view name;
  bool duration;  // carries a unit when parsing durations
};

struct KindSpec {
  Distribution::Kind kind;
  std::string_view name;
  std::vector<ParamSpec> params;  // positional order; alternatives are handled by name below
};

const std::vector<KindSpec>& KindSpecs() {
  static const std::vector<KindSpec> specs = {
      {Distribution::Kind::kConstant, "constant", {{"value", true}}},
      {Distribution::Kind::kUniform, "uniform", {{"min", true}, {"max", true}}},
      {Distribution::Kind::kNormal, "normal", {{"mean", true}, {"stddev", true}}},
      {Distribution::Kind::kLognormal, "lognormal", {{"median", true}, {"sigma", false}}},
      {Distribution::Kind::kPareto, "pareto", {{"scale", true}, {"shape", false}}},
      {Distribution::Kind::kExponential, "exponential", {{"mean", true}}},
  };
  return specs;
}

std::vector<std::string_view> Tokenize(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == ',' || c == '(' || c == ')' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != ',' &&
           text[j] != '(' && text[j] != ')' && text[j] != '\n' && text[j] != '\r') {
      ++j;
    }
    tokens.push_back(text.substr(i, j - i));
    i = j;
  }
  return tokens;
}

std::optional<double> ParseNumber(std::string_view text, size_t* consumed) {
  if (text.empty()) return std::nullopt;
  const char* begin = text.data();
  if (*begin == '+') ++begin;
  double value = 0;
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  *consumed = static_cast<size_t>(end - text.data());
  return value;
}

// A value in nanoseconds (durations) or a plain number. Error text is the reason only.
Result<double> ParseValue(std::string_view text, bool duration) {
  size_t consumed = 0;
  const std::optional<double> number = ParseNumber(text, &consumed);
  if (!number.has_value()) {
    return MakeError("bad_number", "'" + std::string(text) + "' is not a number");
  }
  const std::string_view unit = text.substr(consumed);
  if (!duration) {
    if (!unit.empty()) {
      return MakeError("bad_number", "'" + std::string(text) + "' must be a plain number");
    }
    return *number;
  }
  double scale = 0;
  if (unit == "ns") {
    scale = 1;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "s") {
    scale = 1e9;
  } else if (unit.empty() && *number == 0) {
    scale = 1;
  } else if (unit.empty()) {
    return MakeError("bad_duration",
                     "'" + std::string(text) + "' needs a unit (ns, us, ms or s)");
  } else {
    return MakeError("bad_duration", "'" + std::string(text) + "' has unknown unit '" +
                                         std::string(unit) + "' (expected ns, us, ms or s)");
  }
  return *number * scale;
}

std::string FormatNumber(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Inverse of the standard normal CDF (Acklam's rational approximation, |relative error| <
// 1.2e-9), used only for Quantile().
double InverseStandardNormal(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace

std::string_view DistributionKindName(Distribution::Kind kind) {
  for (const KindSpec& spec : KindSpecs()) {
    if (spec.kind == kind) return spec.name;
  }
  return "unknown";
}

Distribution Distribution::Constant(double value) { return {Kind::kConstant, value, 0}; }
Distribution Distribution::Uniform(double min, double max) {
  WPSIM_ASSERT(min <= max);
  return {Kind::kUniform, min, max};
}
Distribution Distribution::Normal(double mean, double stddev) {
  WPSIM_ASSERT(stddev >= 0);
  return {Kind::kNormal, mean, stddev};
}
Distribution Distribution::Lognormal(double mu, double sigma) {
  WPSIM_ASSERT(sigma >= 0);
  return {Kind::kLognormal, mu, sigma};
}
Distribution Distribution::LognormalWithMedian(double median, double sigma) {
  WPSIM_ASSERT(median > 0);
  return Lognormal(std::log(median), sigma);
}
Distribution Distribution::Pareto(double scale, double shape) {
  WPSIM_ASSERT(scale > 0 && shape > 0);
  return {Kind::kPareto, scale, shape};
}
Distribution Distribution::Exponential(double mean) {
  WPSIM_ASSERT(mean > 0);
  return {Kind::kExponential, mean, 0};
}
Distribution Distribution::WithCap(double cap) const {
  Distribution d = *this;
  d.cap_ = cap;
  return d;
}

double Distribution::StandardNormal(Rng& rng) {
  // Marsaglia's polar method; the second variate is dropped so a sample costs a fixed,
  // state-free amount of the stream (Distribution stays an immutable value).
  for (;;) {
    const double u = 2 * rng.NextDouble() - 1;
    const double v = 2 * rng.NextDouble() - 1;
    const double s = u * u + v * v;
    if (s >= 1 || s == 0) continue;
    return u * std::sqrt(-2 * std::log(s) / s);
  }
}

double Distribution::Sample(Rng& rng) const {
  double x = 0;
  switch (kind_) {
    case Kind::kConstant: x = a_; break;
    case Kind::kUniform: x = a_ + (b_ - a_) * rng.NextDouble(); break;
    case Kind::kNormal: x = a_ + b_ * StandardNormal(rng); break;
    case Kind::kLognormal: x = std::exp(a_ + b_ * StandardNormal(rng)); break;
    case Kind::kPareto: x = a_ / std::pow(1 - rng.NextDouble(), 1 / b_); break;
    case Kind::kExponential: x = -a_ * std::log(1 - rng.NextDouble()); break;
  }
  return x > cap_ ? cap_ : x;
}

Nanos Distribution::SampleNanos(Rng& rng) const {
  const double x = Sample(rng);
  if (!(x > 0)) return 0;  // also maps NaN to 0
  if (x >= kNanosMax) return static_cast<Nanos>(kNanosMax);
  return static_cast<Nanos>(x + 0.5);
}

double Distribution::Mean() const {
  switch (kind_) {
    case Kind::kConstant: return a_;
    case Kind::kUniform: return (a_ + b_) / 2;
    case Kind::kNormal: return a_;
    case Kind::kLognormal: return std::exp(a_ + b_ * b_ / 2);
    case Kind::kPareto:
      return b_ > 1 ? b_ * a_ / (b_ - 1) : std::numeric_limits<double>::infinity();
    case Kind::kExponential: return a_;
  }
  return 0;
}

double Distribution::Quantile(double p) const {
  WPSIM_ASSERT(p > 0 && p < 1);
  switch (kind_) {
    case Kind::kConstant: return a_;
    case Kind::kUniform: return a_ + p * (b_ - a_);
    case Kind::kNormal: return a_ + b_ * InverseStandardNormal(p);
    case Kind::kLognormal: return std::exp(a_ + b_ * InverseStandardNormal(p));
    case Kind::kPareto: return a_ / std::pow(1 - p, 1 / b_);
    case Kind::kExponential: return -a_ * std::log(1 - p);
  }
  return 0;
}

std::string Distribution::ToString(Units units) const {
  const bool dur = units == Units::kDuration;
  auto value = [&](double v, bool duration) {
    return FormatNumber(v) + (duration && dur ? "ns" : "");
  };
  std::string out(DistributionKindName(kind_));
  switch (kind_) {
    case Kind::kConstant: out += " " + value(a_, true); break;
    case Kind::kUniform: out += " min=" + value(a_, true) + " max=" + value(b_, true); break;
    case Kind::kNormal: out += " mean=" + value(a_, true) + " stddev=" + value(b_, true); break;
    case Kind::kLognormal: out += " mu=" + value(a_, false) + " sigma=" + value(b_, false); break;
    case Kind::kPareto: out += " scale=" + value(a_, true) + " shape=" + value(b_, false); break;
    case Kind::kExponential: out += " mean=" + value(a_, true); break;
  }
  if (cap_ != kNoCap) out += " cap=" + value(cap_, true);
  return out;
}

Result<Nanos> Distribution::ParseDuration(std::string_view text) {
  Result<double> v = ParseValue(text, true);
  if (!v.ok()) return MakeError("bad_duration", v.error().message);
  if (*v < 0 || *v >= kNanosMax) {
    return MakeError("bad_duration", "'" + std::string(text) + "' is out of range");
  }
  return static_cast<Nanos>(*v + 0.5);
}

Result<Distribution> Distribution::Parse(std::string_view text, Units units) {
  const bool durations = units == Units::kDuration;
  auto fail = [&](const std::string& why) -> Error {
    return MakeError("bad_distribution",
                     "distribution '" + std::string(text) + "': " + why);
  };
  const std::vector<std::string_view> tokens = Tokenize(text);
  if (tokens.empty()) {
    return fail("empty (expected e.g. 'constant 5ms' or 'lognormal median=5ms sigma=0.5')");
  }
  // A bare value is a constant.
  const char first = tokens[0][0];
  if ((first >= '0' && first <= '9') || first == '.' || first == '-' || first == '+') {
    if (tokens.size() != 1) return fail("a bare value must stand alone");
    Result<double> v = ParseValue(tokens[0], durations);
    if (!v.ok()) return fail(v.error().message);
    return Constant(*v);
  }
  const KindSpec* spec = nullptr;
  for (const KindSpec& s : KindSpecs()) {
    if (s.name == tokens[0]) spec = &s;
  }
  if (spec == nullptr) {
    return fail("unknown kind '" + std::string(tokens[0]) +
                "' (expected constant, uniform, normal, lognormal, pareto or exponential)");
  }

  // Collect parameters: name -> value. Lognormal accepts median=, mean= or mu= for its first
  // parameter; every kind accepts cap=.
  struct Got {
    std::string_view name;
    double value;
  };
  std::vector<Got> got;
  size_t positional = 0;
  auto find = [&](std::string_view name) -> const Got* {
    for (const Got& g : got) {
      if (g.name == name) return &g;
    }
    return nullptr;
  };
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string_view token = tokens[i];
    const size_t eq = token.find('=');
    std::string_view name;
    std::string_view raw;
    bool is_duration = true;
    if (eq == std::string_view::npos) {
      if (positional >= spec->params.size()) {
        return fail("too many values for " + std::string(spec->name) + " (it takes " +
                    std::to_string(spec->params.size()) + ")");
      }
      name = spec->params[positional].name;
      is_duration = spec->params[positional].duration;
      ++positional;
      raw = token;
    } else {
      name = token.substr(0, eq);
      raw = token.substr(eq + 1);
      bool known = name == "cap";
      for (const ParamSpec& p : spec->params) {
        if (p.name == name) {
          known = true;
          is_duration = p.duration;
        }
      }
      if (spec->kind == Kind::kLognormal && (name == "mean" || name == "mu")) {
        known = true;
        is_duration = name == "mean";
      }
      if (!known) {
        std::string expected;
        for (const ParamSpec& p : spec->params) expected += std::string(p.name) + ", ";
        if (spec->kind == Kind::kLognormal) expected += "mean, mu, ";
        expected += "cap";
        return fail("unknown parameter '" + std::string(name) + "' for " +
                    std::string(spec->name) + " (expected " + expected + ")");
      }
    }
    if (find(name) != nullptr) return fail("parameter '" + std::string(name) + "' given twice");
    Result<double> v = ParseValue(raw, durations && is_duration);
    if (!v.ok()) return fail(std::string(name) + ": " + v.error().message);
    got.push_back({name, *v});
  }
  auto need = [&](std::string_view name) -> Result<double> {
    const Got* g = find(name);
    if (g == nullptr) return fail("missing parameter '" + std::string(name) + "'");
    return g->value;
  };

  Distribution d;
  switch (spec->kind) {
    case Kind::kConstant: {
      Result<double> v = need("value");
      if (!v.ok()) return v.error();
      d = Constant(*v);
      break;
    }
    case Kind::kUniform: {
      Result<double> lo = need("min");
      if (!lo.ok()) return lo.error();
      Result<double> hi = need("max");
      if (!hi.ok()) return hi.error();
      if (*lo > *hi) return fail("min is greater than max");
      d = Uniform(*lo, *hi);
      break;
    }
    case Kind::kNormal: {
      Result<double> mean = need("mean");
      if (!mean.ok()) return mean.error();
      Result<double> stddev = need("stddev");
      if (!stddev.ok()) return stddev.error();
      if (*stddev < 0) return fail("stddev must not be negative");
      d = Normal(*mean, *stddev);
      break;
    }
    case Kind::kLognormal: {
      Result<double> sigma = need("sigma");
      if (!sigma.ok()) return sigma.error();
      if (*sigma < 0) return fail("sigma must not be negative");
      const int given = (find("median") != nullptr) + (find("mean") != nullptr) +
                        (find("mu") != nullptr);
      if (given != 1) return fail("give exactly one of median=, mean= or mu=");
      if (const Got* g = find("mu")) {
        d = Lognormal(g->value, *sigma);
      } else {
        const Got* m = find("median") != nullptr ? find("median") : find("mean");
        if (!(m->value > 0)) return fail(std::string(m->name) + " must be positive");
        // mean = exp(mu + sigma^2 / 2)
        const double mu = m->name == "median" ? std::log(m->value)
                                              : std::log(m->value) - *sigma * *sigma / 2;
        d = Lognormal(mu, *sigma);
      }
      break;
    }
    case Kind::kPareto: {
      Result<double> scale = need("scale");
      if (!scale.ok()) return scale.error();
      Result<double> shape = need("shape");
      if (!shape.ok()) return shape.error();
      if (!(*scale > 0)) return fail("scale must be positive");
      if (!(*shape > 0)) return fail("shape must be positive");
      d = Pareto(*scale, *shape);
      break;
    }
    case Kind::kExponential: {
      Result<double> mean = need("mean");
      if (!mean.ok()) return mean.error();
      if (!(*mean > 0)) return fail("mean must be positive");
      d = Exponential(*mean);
      break;
    }
  }
  if (const Got* cap = find("cap")) {
    if (cap->value < 0) return fail("cap must not be negative");
    d = d.WithCap(cap->value);
  }
  return d;
}

}  // namespace wpsim::sim
