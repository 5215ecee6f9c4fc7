// The loader's result for every shipped scenario and every bad-scenario corpus file is pinned:
// tests/data/scenario-models.txt holds a digest of the complete model (every member of every
// struct, positions included; tests/conformance/scenario_dump.h) or of all diagnostics, recorded
// with the loader before the shape engine replaced it. A refactor of the loader must leave every
// line unchanged; a deliberate change to the language updates the line of each file it affects.
// A new file is appended with WPSIM_RECORD_NEW_SCENARIO_MODELS=1 (see the test below).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "conformance/loader.h"
#include "conformance/suite.h"
#include "protocol/auth/hmac.h"
#include "tests/conformance/scenario_dump.h"

namespace wpsim::conformance {
namespace {

const std::string kRoot = std::string(WPSIM_SOURCE_DIR) + "/";

std::string Digest(const std::string& text) {
  auto d = protocol::auth::HmacSha256("scenario-model", text);
  std::string hex;
  char buf[3];
  for (uint8_t b : d) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

// The digest of what the loader makes of `relative` (loaded under that name, so positions
// do not depend on where the tree is).
std::string ModelDigest(const std::string& relative) {
  std::ifstream in(kRoot + relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  LoadResult r = LoadScenarioText(text.str(), relative);
  // Scenarios may hold invalid UTF-8 on purpose (frames and payloads that test refusals): such
  // bytes dump as U+FFFD instead of throwing (valid text dumps exactly as before).
  return Digest(r.ok() ? DumpScenario(*r.scenario).dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace)
                       : FormatDiagnostics(r.diagnostics));
}

std::map<std::string, std::string> Recorded() {
  std::map<std::string, std::string> out;
  std::ifstream in(kRoot + "tests/data/scenario-models.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.find(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

TEST(ScenarioModels, EveryRecordedFileStillLoadsToTheRecordedModelOrDiagnostics) {
  std::map<std::string, std::string> recorded = Recorded();
  ASSERT_GE(recorded.size(), 100u);
  for (const auto& [file, digest] : recorded) {
    EXPECT_EQ(ModelDigest(file), digest) << file << ": the loader's model or diagnostics changed";
  }
}

TEST(ScenarioModels, EveryShippedScenarioAndCorpusFileIsRecorded) {
  std::map<std::string, std::string> recorded = Recorded();
  auto files = FindScenarioFiles({kRoot + "scenarios", kRoot + "tests/data/bad-scenarios"});
  ASSERT_TRUE(files.ok()) << files.error().message;
  // A new scenario or corpus file is recorded with the current loader by running this test
  // with WPSIM_RECORD_NEW_SCENARIO_MODELS=1 (existing lines are never rewritten).
  const bool record = std::getenv("WPSIM_RECORD_NEW_SCENARIO_MODELS") != nullptr;
  std::ofstream out;
  if (record) out.open(kRoot + "tests/data/scenario-models.txt", std::ios::app);
  for (const std::string& f : *files) {
    const std::string relative = f.substr(kRoot.size());
    if (record && !recorded.count(relative)) {
      out << relative << ' ' << ModelDigest(relative) << '\n';
      continue;
    }
    EXPECT_TRUE(recorded.count(relative))
        << f << " is not in tests/data/scenario-models.txt (a new file: record it with "
        << "WPSIM_RECORD_NEW_SCENARIO_MODELS=1 build/bin/wpsim_conformance_tests "
        << "--gtest_filter=ScenarioModels.*)";
  }
}

TEST(ScenarioModels, TheDumpSeesADifferenceInAnyMember) {
  // The digest is only a check if the dump covers the model: a change deep inside a step or an
  // expectation must change it.
  LoadResult r = LoadScenarioText(
      "name: t\nsource: {seed: \"001\", section: S}\ndescription: d\nhub: h\nclients: {a: json}\n"
      "steps: [{connect: a}, {join: {client: a, group: g, ack: auto}}]\n"
      "expect: [{receive: {client: a, group: g, within: 1s}}]\n",
      "t.yaml");
  ASSERT_TRUE(r.ok()) << FormatDiagnostics(r.diagnostics);
  const std::string base = DumpScenario(*r.scenario).dump();
  Scenario changed = *r.scenario;
  changed.steps[1].args.As<JoinStep>().ack.id = 7;
  EXPECT_NE(DumpScenario(changed).dump(), base);
  changed = *r.scenario;
  std::get<ReceiveExpect>(changed.expectations[0].args).window.within_ns = 2;
  EXPECT_NE(DumpScenario(changed).dump(), base);
  changed = *r.scenario;
  changed.expectations[0].eventually = true;
  EXPECT_NE(DumpScenario(changed).dump(), base);
  changed = *r.scenario;
  changed.swarm.present = true;
  const std::string with_swarm = DumpScenario(changed).dump();
  EXPECT_NE(with_swarm, base);
  changed.swarm.max_faults = 2;
  EXPECT_NE(DumpScenario(changed).dump(), with_swarm);
  changed = *r.scenario;
  changed.eventually.present = true;
  const std::string with_eventually = DumpScenario(changed).dump();
  EXPECT_NE(with_eventually, base);
  changed.eventually.within_ns = 3;
  EXPECT_NE(DumpScenario(changed).dump(), with_eventually);
  const std::string with_within = DumpScenario(changed).dump();
  changed.eventually.all_acked_delivered = true;
  EXPECT_NE(DumpScenario(changed).dump(), with_within);
  changed.eventually.all_acked_delivered = false;
  changed.eventually.recovered_caught_up = true;
  EXPECT_NE(DumpScenario(changed).dump(), with_within);
}

}  // namespace
}  // namespace wpsim::conformance
