#include "conformance/units.h"

#include <array>
#include <charconv>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <optional>

namespace wpsim::conformance {
namespace {

// GCC/Clang extension type (the typedef spelling is accepted under -Wpedantic).
using Int128 = __int128_t;

// An exact decimal "123.045": whole = 123, frac = 45, frac_digits = 3.
struct Decimal {
  uint64_t whole = 0;
  uint64_t frac = 0;
  int frac_digits = 0;
};

constexpr int kMaxDigits = 18;  // keeps every intermediate product inside Int128 comfortably

// Parses the longest decimal prefix of `text` starting at `pos`; nullopt if there is none.
std::optional<Decimal> ParseDecimalPrefix(std::string_view text, size_t& pos) {
  Decimal d;
  size_t start = pos;
  int digits = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    if (++digits > kMaxDigits) return std::nullopt;
    d.whole = d.whole * 10 + static_cast<uint64_t>(text[pos] - '0');
    ++pos;
  }
  if (pos < text.size() && text[pos] == '.') {
    size_t dot = pos++;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (++d.frac_digits > kMaxDigits) return std::nullopt;
      d.frac = d.frac * 10 + static_cast<uint64_t>(text[pos] - '0');
      ++pos;
    }
    if (d.frac_digits == 0) pos = dot;  // "5." is not a number we accept
  }
  if (pos == start || (digits == 0 && d.frac_digits == 0)) return std::nullopt;
  return d;
}

Int128 Pow10(int n) {
  Int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

// d * unit, exactly; nullopt if not a whole number or if it overflows int64.
std::optional<int64_t> ScaleExact(const Decimal& d, int64_t unit) {
  Int128 whole = static_cast<Int128>(d.whole) * unit;
  Int128 num = static_cast<Int128>(d.frac) * unit;
  Int128 den = Pow10(d.frac_digits);
  if (num % den != 0) return std::nullopt;
  Int128 total = whole + num / den;
  if (total > std::numeric_limits<int64_t>::max()) return std::nullopt;
  return static_cast<int64_t>(total);
}

double ToDouble(const Decimal& d) {
  return static_cast<double>(d.whole) +
         static_cast<double>(d.frac) / static_cast<double>(Pow10(d.frac_digits));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

struct Unit {
  std::string_view name;
  int64_t factor;
};

// A decimal number followed by one of `units` (after trimming): whether a number and a known
// unit were found, and the exactly scaled value (nullopt when it is not whole or too large).
struct Scaled {
  bool number = false;
  bool unit = false;
  std::optional<int64_t> value;
};
template <size_t N>
Scaled ParseWithUnit(std::string_view text, const std::array<Unit, N>& units) {
  std::string_view s = Trim(text);
  size_t pos = 0;
  auto dec = ParseDecimalPrefix(s, pos);
  if (!dec) return {};
  std::string_view unit = Trim(s.substr(pos));
  for (const Unit& u : units) {
    if (unit == u.name) return {true, true, ScaleExact(*dec, u.factor)};
  }
  return {true, false, std::nullopt};
}

Result<int64_t> ParseDurationImpl(std::string_view text, bool allow_sign) {
  const std::string bad = "expected a duration like 5ms, got " + Quote(text);
  std::string_view s = Trim(text);
  bool negative = false;
  if (allow_sign && !s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  size_t pos = 0;
  auto dec = ParseDecimalPrefix(s, pos);
  if (!dec) return MakeError("duration", bad);
  std::string_view unit = Trim(s.substr(pos));
  if (unit.empty()) {
    if (dec->whole == 0 && dec->frac == 0) return int64_t{0};
    return MakeError("duration", bad + " (add a unit: ns, us, ms, s, m or h)");
  }
  static constexpr std::array<Unit, 7> kUnits = {{{"ns", 1},
                                                  {"us", kNanosPerMicro},
                                                  {"\xC2\xB5s", kNanosPerMicro},
                                                  {"ms", kNanosPerMilli},
                                                  {"s", kNanosPerSecond},
                                                  {"m", kNanosPerMinute},
                                                  {"h", kNanosPerHour}}};
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      auto ns = ScaleExact(*dec, u.factor);
      if (!ns) {
        return MakeError("duration",
                         "duration " + Quote(text) + " is not a whole number of nanoseconds or is too large");
      }
      return negative ? -*ns : *ns;
    }
  }
  return MakeError("duration", bad + " (unknown unit " + Quote(unit) + "; use ns, us, ms, s, m or h)");
}

// A plain non-negative real number ("0.5", "2", "2.5").
std::optional<double> ParsePlainNumber(std::string_view s) {
  size_t pos = 0;
  auto dec = ParseDecimalPrefix(s, pos);
  if (!dec || pos != s.size()) return std::nullopt;
  return ToDouble(*dec);
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) { return ParseDurationImpl(text, false); }

Result<int64_t> ParseSignedDuration(std::string_view text) {
  auto r = ParseDurationImpl(text, true);
  if (!r.ok()) {
    return MakeError("duration", "expected a signed duration like -5m or +30s, got " + Quote(text));
  }
  return r;
}

std::string FormatDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  // Magnitude as unsigned so that INT64_MIN does not overflow.
  uint64_t v = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  static constexpr std::array<Unit, 6> kUnits = {{{"h", kNanosPerHour},
                                                  {"m", kNanosPerMinute},
                                                  {"s", kNanosPerSecond},
                                                  {"ms", kNanosPerMilli},
                                                  {"us", kNanosPerMicro},
                                                  {"ns", 1}}};
  for (const Unit& u : kUnits) {
    auto f = static_cast<uint64_t>(u.factor);
    if (v % f == 0) return sign + std::to_string(v / f) + std::string(u.name);
  }
  return sign + std::to_string(v) + "ns";
}

std::string FormatTime(int64_t ns) {
  if (ns == 0) return "0s";
  const double v = static_cast<double>(ns);
  const bool seconds = v >= 1e9 || v <= -1e9;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, seconds ? v / 1e9 : v / 1e6,
                           std::chars_format::fixed, 3);
  std::string out(buf, res.ptr);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  if (out == "-0") out = "0";
  return out + (seconds ? "s" : "ms");
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  const std::string bad = "expected a size like 16MiB or 1024, got " + Quote(text);
  static constexpr std::array<Unit, 8> kUnits = {{{"", 1},
                                                  {"B", 1},
                                                  {"KB", 1000},
                                                  {"MB", 1000 * 1000},
                                                  {"GB", 1000 * 1000 * 1000},
                                                  {"KiB", 1024},
                                                  {"MiB", 1024 * 1024},
                                                  {"GiB", 1024 * 1024 * 1024}}};
  const Scaled r = ParseWithUnit(text, kUnits);
  if (!r.number) return MakeError("size", bad);
  if (!r.unit) return MakeError("size", bad + " (units: B, KB, MB, GB, KiB, MiB, GiB)");
  if (!r.value) return MakeError("size", "size " + Quote(text) + " is not a whole number of bytes");
  return static_cast<uint64_t>(*r.value);
}

Result<uint64_t> ParseBandwidth(std::string_view text) {
  const std::string bad = "expected a bandwidth like 10Mbps, got " + Quote(text);
  static constexpr std::array<Unit, 5> kUnits = {{{"bps", 1},
                                                  {"kbps", 1000},
                                                  {"Kbps", 1000},
                                                  {"Mbps", 1000 * 1000},
                                                  {"Gbps", 1000 * 1000 * 1000}}};
  const Scaled r = ParseWithUnit(text, kUnits);
  if (!r.number) return MakeError("bandwidth", bad);
  if (!r.unit) return MakeError("bandwidth", bad + " (units: bps, kbps, Mbps, Gbps)");
  if (!r.value || *r.value == 0) {
    return MakeError("bandwidth", "bandwidth " + Quote(text) +
                                      " must be a positive whole number of bits per second");
  }
  return static_cast<uint64_t>(*r.value);
}

Result<double> ParseFraction(std::string_view text) {
  const std::string bad = "expected a percentage like 1% or a fraction like 0.01, got " + Quote(text);
  std::string_view s = Trim(text);
  bool percent = !s.empty() && s.back() == '%';
  if (percent) s = Trim(s.substr(0, s.size() - 1));
  auto v = ParsePlainNumber(s);
  if (!v) return MakeError("fraction", bad);
  double f = percent ? *v / 100.0 : *v;
  if (f > 1.0) return MakeError("fraction", Quote(text) + " is more than 100%");
  return f;
}

int64_t Rate::IntendedOffsetNs(uint64_t k) const {
  WPSIM_ASSERT(count > 0);
  return static_cast<int64_t>(static_cast<Int128>(k) * period_ns / count);
}

double Rate::PerSecond() const {
  return static_cast<double>(count) * static_cast<double>(kNanosPerSecond) /
         static_cast<double>(period_ns);
}

Result<Rate> ParseRate(std::string_view text) {
  const std::string bad = "expected a rate like 1000/s, got " + Quote(text);
  std::string_view s = Trim(text);
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return MakeError("rate", bad);
  std::string_view num = Trim(s.substr(0, slash));
  std::string_view per = Trim(s.substr(slash + 1));
  size_t pos = 0;
  auto dec = ParseDecimalPrefix(num, pos);
  if (!dec || pos != num.size() || dec->frac_digits != 0 || dec->whole == 0) {
    return MakeError("rate", bad + " (the count must be a positive integer)");
  }
  // The period may carry a multiplier ("10/5s") or be a bare unit ("10/s").
  std::string period_text(per);
  if (!per.empty() && !std::isdigit(static_cast<unsigned char>(per.front()))) period_text = "1" + period_text;
  auto period = ParseDuration(period_text);
  if (!period.ok() || *period <= 0) return MakeError("rate", bad);
  return Rate{dec->whole, *period};
}

}  // namespace wpsim::conformance
