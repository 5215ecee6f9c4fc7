#include "reports/markdown.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/reports/sample_report.h"

namespace wpsim::reports {
namespace {

using testing::MakeSampleReport;

// Cells in a Markdown table row: unescaped '|' separators minus the outer two.
size_t CellCount(const std::string& row) {
  size_t bars = 0;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '|' && (i == 0 || row[i - 1] != '\\')) ++bars;
  }
  return bars - 1;
}

TEST(MarkdownSummary, LeadsWithTotalsVerdictAndRunFacts) {
  const std::string md = WriteMarkdown(MakeSampleReport(42));
  EXPECT_EQ(md.rfind("## wpsim: 1 passed, 2 failed, 1 skipped\n", 0), 0u) << md;
  EXPECT_NE(md.find("**Verdict: conformance failure**"), std::string::npos);
  EXPECT_NE(md.find("| sim | virtual | 42 | `"), std::string::npos);
}

TEST(MarkdownSummary, NamesTheInjectedBugsUnderTheVerdict) {
  RunReport r = MakeSampleReport(42);
  EXPECT_EQ(WriteMarkdown(r).find("Injected service bug"), std::string::npos);
  r.scenarios[1].injected_bugs = {"fanout-skip-last"};
  const std::string md = WriteMarkdown(r);
  const size_t bugs = md.find("Injected service bug: `fanout-skip-last` (the reference service was broken on purpose");
  ASSERT_NE(bugs, std::string::npos);
  EXPECT_LT(md.find("**Verdict"), bugs);
}

TEST(MarkdownSummary, ListsFailuresWithExpectedActualAndReproduceCommand) {
  const std::string md = WriteMarkdown(MakeSampleReport(42));
  EXPECT_NE(md.find("### Failures"), std::string::npos);
  EXPECT_NE(md.find("reproduce: `wpsim run scenarios/acks/duplicate.yaml --seed 42 "
                    "--inject-bug ack_duplicate_as_success`"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("expected `ack error Duplicate`, actual `ack success`"), std::string::npos);
  EXPECT_NE(md.find("threshold `p99 < 20ms` broken"), std::string::npos);
  EXPECT_LT(md.find("### Failures"), md.find("### Scenarios"));
}

TEST(MarkdownSummary, ScenarioTableHasOneWellFormedRowPerScenario) {
  const std::string md = WriteMarkdown(MakeSampleReport(42));
  std::istringstream lines(md.substr(md.find("### Scenarios")));
  std::string line;
  size_t rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    EXPECT_EQ(CellCount(line), 10u) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 2u + 4u);  // header, separator, 4 scenarios
  EXPECT_NE(md.find("publish_to_receive (CO-corrected)"), std::string::npos);
}

TEST(MarkdownSummary, HostileNamesCannotBreakTheTable) {
  RunReport r;
  ScenarioResult& s = r.AddScenario("a|b.yaml", "pipe | and\nnewline <script>`tick`");
  s.Latency(Metric::kConnect, ClientKind::kWs).histogram.Record(1000);
  s.AddFailure({"x", "has ``` fence", "", "", std::nullopt});
  const std::string md = WriteMarkdown(r);
  const size_t at = md.find("| ❌ fail");
  ASSERT_NE(at, std::string::npos) << md;
  const std::string row = md.substr(at, md.find('\n', at) - at);
  EXPECT_EQ(CellCount(row), 10u) << row;
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_NE(md.find("````has ``` fence````"), std::string::npos) << md;
}

TEST(MarkdownSummary, IsBoundedForHugeRuns) {
  RunReport r;
  for (int i = 0; i < 400; ++i) {
    r.AddScenario("s.yaml", "scenario " + std::to_string(i)).AddFailure({"boom", "", "", "", {}});
  }
  const std::string md = WriteMarkdown(r);
  EXPECT_NE(md.find("… and 100 more scenarios"), std::string::npos);
  EXPECT_NE(md.find("… and 350 more failing scenarios"), std::string::npos);
  EXPECT_LT(md.size(), 100'000u);
}

TEST(MarkdownSummary, IsDeterministic) {
  EXPECT_EQ(WriteMarkdown(MakeSampleReport(42)), WriteMarkdown(MakeSampleReport(42)));
}

}  // namespace
}  // namespace wpsim::reports
