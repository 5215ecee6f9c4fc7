#include "conformance/units.h"

#include <gtest/gtest.h>

namespace wpsim::conformance {
namespace {

TEST(ScenarioUnits, DurationAcceptsEveryUnit) {
  EXPECT_EQ(*ParseDuration("10ns"), 10);
  EXPECT_EQ(*ParseDuration("250us"), 250'000);
  EXPECT_EQ(*ParseDuration("250\xC2\xB5s"), 250'000);
  EXPECT_EQ(*ParseDuration("5ms"), 5'000'000);
  EXPECT_EQ(*ParseDuration("1.5s"), 1'500'000'000);
  EXPECT_EQ(*ParseDuration("2m"), 120 * kNanosPerSecond);
  EXPECT_EQ(*ParseDuration("1h"), 3600 * kNanosPerSecond);
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration(" 7 ms "), 7'000'000);
}

TEST(ScenarioUnits, DurationRejectsMissingOrUnknownUnitsWithAReadableMessage) {
  auto r = ParseDuration("abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "expected a duration like 5ms, got 'abc'");
  auto bare = ParseDuration("5");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("add a unit"), std::string::npos);
  auto unknown = ParseDuration("5days");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown unit 'days'"), std::string::npos);
  EXPECT_FALSE(ParseDuration("-5ms").ok());
  EXPECT_FALSE(ParseDuration("5.ms").ok());
  EXPECT_FALSE(ParseDuration("").ok());
}

TEST(ScenarioUnits, DurationFractionsMustBeWholeNanoseconds) {
  EXPECT_EQ(*ParseDuration("0.5us"), 500);
  EXPECT_EQ(*ParseDuration("0.001ms"), 1000);
  auto r = ParseDuration("1.5ns");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("whole number of nanoseconds"), std::string::npos);
}

TEST(ScenarioUnits, SignedDurationsCarryTheirSign) {
  EXPECT_EQ(*ParseSignedDuration("-10m"), -10 * kNanosPerMinute);
  EXPECT_EQ(*ParseSignedDuration("+30s"), 30 * kNanosPerSecond);
  EXPECT_EQ(*ParseSignedDuration("30s"), 30 * kNanosPerSecond);
  EXPECT_FALSE(ParseSignedDuration("--1s").ok());
}

TEST(ScenarioUnits, FormatTimeReadsInMillisecondsOrSeconds) {
  EXPECT_EQ(FormatTime(0), "0s");
  EXPECT_EQ(FormatTime(504'216'486), "504.216ms");
  EXPECT_EQ(FormatTime(12'000'000), "12ms");
  EXPECT_EQ(FormatTime(2'500), "0.003ms");
  EXPECT_EQ(FormatTime(1'500'000'000), "1.5s");
  EXPECT_EQ(FormatTime(30'000'000'000), "30s");
  EXPECT_EQ(FormatTime(-2'000'000), "-2ms");
}

TEST(ScenarioUnits, FormatDurationPicksTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(1'500'000), "1500us");
  EXPECT_EQ(FormatDuration(2 * kNanosPerSecond), "2s");
  EXPECT_EQ(FormatDuration(90 * kNanosPerSecond), "90s");
  EXPECT_EQ(FormatDuration(2 * kNanosPerHour), "2h");
  EXPECT_EQ(FormatDuration(-5 * kNanosPerMilli), "-5ms");
  EXPECT_EQ(FormatDuration(7), "7ns");
}

TEST(ScenarioUnits, ByteSizesUseSiAndIecUnits) {
  EXPECT_EQ(*ParseByteSize("1024"), 1024u);
  EXPECT_EQ(*ParseByteSize("100B"), 100u);
  EXPECT_EQ(*ParseByteSize("1KB"), 1000u);
  EXPECT_EQ(*ParseByteSize("2KiB"), 2048u);
  EXPECT_EQ(*ParseByteSize("16MiB"), 16u * 1024 * 1024);
  EXPECT_EQ(*ParseByteSize("1.5MB"), 1'500'000u);
  EXPECT_FALSE(ParseByteSize("1.5B").ok());
  EXPECT_FALSE(ParseByteSize("3 parsecs").ok());
}

TEST(ScenarioUnits, BandwidthIsInBitsPerSecond) {
  EXPECT_EQ(*ParseBandwidth("10Mbps"), 10'000'000u);
  EXPECT_EQ(*ParseBandwidth("1Gbps"), 1'000'000'000u);
  EXPECT_EQ(*ParseBandwidth("500kbps"), 500'000u);
  EXPECT_EQ(*ParseBandwidth("9600bps"), 9600u);
  EXPECT_FALSE(ParseBandwidth("0Mbps").ok());
  EXPECT_FALSE(ParseBandwidth("10MB/s").ok());
}

TEST(ScenarioUnits, FractionsAcceptPercentAndRatio) {
  EXPECT_DOUBLE_EQ(*ParseFraction("1%"), 0.01);
  EXPECT_DOUBLE_EQ(*ParseFraction("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(*ParseFraction("0.25"), 0.25);
  EXPECT_FALSE(ParseFraction("150%").ok());
  EXPECT_FALSE(ParseFraction("lots").ok());
}

TEST(ScenarioUnits, RatesGiveExactIntendedSendTimes) {
  Rate r = *ParseRate("3/s");
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(r.period_ns, kNanosPerSecond);
  EXPECT_EQ(r.IntendedOffsetNs(0), 0);
  EXPECT_EQ(r.IntendedOffsetNs(1), 333'333'333);
  EXPECT_EQ(r.IntendedOffsetNs(3), kNanosPerSecond);
  EXPECT_DOUBLE_EQ(ParseRate("1000/s")->PerSecond(), 1000.0);
  EXPECT_DOUBLE_EQ(ParseRate("50/ms")->PerSecond(), 50'000.0);
  EXPECT_DOUBLE_EQ(ParseRate("120/m")->PerSecond(), 2.0);
  EXPECT_DOUBLE_EQ(ParseRate("10/5s")->PerSecond(), 2.0);
  EXPECT_FALSE(ParseRate("1000").ok());
  EXPECT_FALSE(ParseRate("0/s").ok());
  EXPECT_FALSE(ParseRate("1.5/s").ok());
}

}  // namespace
}  // namespace wpsim::conformance
