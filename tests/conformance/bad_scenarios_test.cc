// The bad-scenario corpus: every file in tests/data/bad-scenarios/ opens with
//   # expect: LINE:COLUMN: MESSAGE
// naming the first diagnostic the loader must report (diagnostics are sorted by position).
// The test checks the whole "file:line:column: message" text, so positions, wording and the
// file name in the output are all pinned. New files join the corpus by being dropped there.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "conformance/loader.h"
#include "conformance/suite.h"

namespace wpsim::conformance {
namespace {

const std::string kCorpus = std::string(WPSIM_SOURCE_DIR) + "/tests/data/bad-scenarios";

std::string ExpectedFirstDiagnostic(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const std::string prefix = "# expect: ";
  if (line.rfind(prefix, 0) != 0) return "";
  return line.substr(prefix.size());
}

TEST(BadScenarioCorpus, HoldsAtLeastThirtyFilesEachWithAnExpectation) {
  auto files = FindScenarioFiles({kCorpus});
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_GE(files->size(), 30u);
  for (const std::string& f : *files) {
    EXPECT_FALSE(ExpectedFirstDiagnostic(f).empty()) << f << " has no '# expect: LINE:COLUMN: MESSAGE' first line";
  }
}

TEST(BadScenarioCorpus, EveryFileFailsWithItsExpectedFirstDiagnostic) {
  auto files = FindScenarioFiles({kCorpus});
  ASSERT_TRUE(files.ok()) << files.error().message;
  for (const std::string& f : *files) {
    SCOPED_TRACE(f);
    const std::string expected = ExpectedFirstDiagnostic(f);
    LoadResult r = LoadScenarioPath(f);
    ASSERT_FALSE(r.ok()) << "the scenario loaded cleanly";
    ASSERT_FALSE(r.diagnostics.empty());
    EXPECT_EQ(r.diagnostics[0].ToString(), f + ":" + expected);
    for (const Diagnostic& d : r.diagnostics) {
      EXPECT_EQ(d.pos.file, f);
      EXPECT_GT(d.pos.line, 0) << d.message;
      EXPECT_GT(d.pos.column, 0) << d.message;
    }
  }
}

TEST(BadScenarioCorpus, AFailingFileStillReportsEveryProblemAndTheSuiteCarriesOn) {
  // A suite with the corpus and a good file: all corpus diagnostics are reported and the
  // good scenario still loads (a runner exits with status 2 before running anything).
  const std::string good = std::string(WPSIM_SOURCE_DIR) + "/scenarios/quickstarts";
  Suite suite = LoadSuite({kCorpus, good});
  EXPECT_FALSE(suite.ok());
  auto corpus = FindScenarioFiles({kCorpus});
  ASSERT_TRUE(corpus.ok());
  EXPECT_GE(suite.diagnostics.size(), corpus->size());
  EXPECT_GE(suite.scenarios.size(), 5u);
}

}  // namespace
}  // namespace wpsim::conformance
