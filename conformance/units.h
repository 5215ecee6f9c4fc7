// Parsers for the unit-bearing values of the scenario language: durations, byte sizes,
// bandwidths, loss fractions and rates. Latency distributions are parsed by
// sim::Distribution::Parse and thresholds by reports::ParseThreshold, so the loader, the
// simulated network and the evaluator share one grammar each. All parsing is exact integer
// arithmetic where a value ends up on the wire or in the scheduler (nanoseconds, bytes), so
// the same text gives the same model on every machine. Errors are values whose message reads
// well after "file:line:column: " (for example "expected a duration like 5ms, got 'abc'").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace wpsim::conformance {

// Nanoseconds are the unit of every time in the model (the simulated clock's unit).
inline constexpr int64_t kNanosPerMicro = 1000;
inline constexpr int64_t kNanosPerMilli = 1000 * kNanosPerMicro;
inline constexpr int64_t kNanosPerSecond = 1000 * kNanosPerMilli;
inline constexpr int64_t kNanosPerMinute = 60 * kNanosPerSecond;
inline constexpr int64_t kNanosPerHour = 60 * kNanosPerMinute;

// "5ms", "1.5s", "250us", "10ns", "2m", "1h", "0". Units: ns, us (or µs), ms, s, m, h.
// Fractions are allowed when the result is a whole number of nanoseconds. Negative values
// are rejected (see ParseSignedDuration).
Result<int64_t> ParseDuration(std::string_view text);
// Like ParseDuration but accepts a leading '+' or '-' (clock skew).
Result<int64_t> ParseSignedDuration(std::string_view text);
// Shortest exact rendering: 1500000 -> "1500us", 2000000000 -> "2s", 0 -> "0s".
std::string FormatDuration(int64_t ns);
// For people reading a failure: under a second in milliseconds, else in seconds, at most three
// decimals, trailing zeros dropped: 504216486 -> "504.216ms", 1500000000 -> "1.5s", 0 -> "0s".
std::string FormatTime(int64_t ns);

// "16MiB", "1MB", "512KiB", "1024", "100B". KB/MB/GB are powers of 1000, KiB/MiB/GiB powers
// of 1024 (as in IEC 80000-13); a bare number is bytes.
Result<uint64_t> ParseByteSize(std::string_view text);

// "10Mbps", "1Gbps", "500kbps", "9600bps": bits per second (k/K = 1000, M = 10^6, G = 10^9).
Result<uint64_t> ParseBandwidth(std::string_view text);

// "1%", "0.5%", or a fraction "0.01". Result in [0, 1].
Result<double> ParseFraction(std::string_view text);

// "1000/s", "50/ms", "120/m", "10/h": `count` events per `period_ns`. The intended time of
// the k-th event (k from 0) is start + k * period_ns / count, computed in integers.
struct Rate {
  uint64_t count = 0;
  int64_t period_ns = 0;
  // Nanoseconds from the start of the run to the k-th event's intended send time.
  int64_t IntendedOffsetNs(uint64_t k) const;
  double PerSecond() const;
};
Result<Rate> ParseRate(std::string_view text);



}  // namespace wpsim::conformance
