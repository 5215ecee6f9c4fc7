// `wpsim explore --census` (ExploreOptions::census): every seed's observable outcome is
// described (RunOutcome) and the distinct ones are counted with their first seed, so a user sees
// that both orders of a race are reached; the first seed of each replays that outcome.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "conformance/explore.h"

namespace wpsim::conformance {
namespace {

const std::string kRace =
    std::string(WPSIM_SOURCE_DIR) + "/scenarios/races/send-to-group-vs-join.yaml";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ExploreOptions CensusOptions(uint64_t start, uint64_t seeds) {
  ExploreOptions o;
  o.census = true;
  o.start_seed = start;
  o.seeds = seeds;
  o.stop_after = 0;
  o.shrink = false;
  return o;
}

TEST(ExploreCensus, ReachesBothOutcomesOfSendToGroupVersusJoin) {
  Result<ExploreResult> r = ExploreSeeds(ReadFile(kRace), kRace, CensusOptions(1, 100));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::vector<CensusEntry>& census = r.value().census;
  uint64_t total = 0;
  bool delivered = false;
  bool not_delivered = false;
  for (const CensusEntry& c : census) {
    total += c.count;
    EXPECT_FALSE(c.failed) << c.outcome;
    const bool sub_got_it = c.outcome.find("sub: ack 1 ok, g:m") != std::string::npos ||
                            c.outcome.find("sub: g:m") != std::string::npos;
    (sub_got_it ? delivered : not_delivered) = true;
  }
  EXPECT_EQ(total, 100u);
  EXPECT_TRUE(delivered);
  EXPECT_TRUE(not_delivered);
  // Most frequent first; each outcome's first run is in the report.
  for (size_t i = 1; i < census.size(); ++i) EXPECT_GE(census[i - 1].count, census[i].count);
  EXPECT_EQ(r.value().report.scenarios.size(), census.size());
}

TEST(ExploreCensus, TheFirstSeedOfEveryOutcomeReplaysIt) {
  Result<ExploreResult> r = ExploreSeeds(ReadFile(kRace), kRace, CensusOptions(1, 60));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_GE(r.value().census.size(), 2u);
  for (const CensusEntry& c : r.value().census) {
    Result<ExploreResult> one = ExploreSeeds(ReadFile(kRace), kRace, CensusOptions(c.first_seed, 1));
    ASSERT_TRUE(one.ok());
    ASSERT_EQ(one.value().census.size(), 1u);
    EXPECT_EQ(one.value().census[0].outcome, c.outcome) << "seed " << c.first_seed;
  }
}

TEST(ExploreCensus, OutcomesLeaveOutTimesAndIds) {
  // Seeds that reach the same order give the same description (no times, connection ids or
  // sequence ids), so 200 seeds of a two-way race make a handful of outcomes, not 200.
  Result<ExploreResult> r = ExploreSeeds(ReadFile(kRace), kRace, CensusOptions(1, 200));
  ASSERT_TRUE(r.ok());
  EXPECT_LE(r.value().census.size(), 6u);
  for (const CensusEntry& c : r.value().census) {
    EXPECT_EQ(c.outcome.find("ms"), std::string::npos) << c.outcome;
  }
}

}  // namespace
}  // namespace wpsim::conformance
