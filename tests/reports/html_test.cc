#include "reports/html.h"

#include <gtest/gtest.h>

#include "tests/reports/sample_report.h"

namespace wpsim::reports {
namespace {

using testing::MakeSampleReport;

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(HtmlReport, IsSelfContained) {
  const std::string html = WriteHtml(MakeSampleReport(42));
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // url() only for in-document references (SVG arrow markers).
  EXPECT_EQ(Count(html, "url("), Count(html, "url(#"));
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
}

TEST(HtmlReport, HasACensusSectionOnlyForACensus) {
  RunReport r = MakeSampleReport(42);
  EXPECT_EQ(WriteHtml(r).find("id=\"census\""), std::string::npos);
  r.census_scenario = "race-x";
  r.census_seeds = 4;
  r.census = {CensusRow{"sub: g:<m>", 3, 2, false, "wpsim run x.yaml --seed 2"},
              CensusRow{"sub: closed 1000", 1, 1, true, "wpsim run x.yaml --seed 1"}};
  const std::string html = WriteHtml(r);
  const size_t at = html.find("<section id=\"census\">");
  ASSERT_NE(at, std::string::npos);
  const std::string section = html.substr(at, html.find("</section>", at) - at);
  EXPECT_NE(section.find("2 distinct outcome(s) of <code>race-x</code> in 4 seeds"), std::string::npos) << section;
  EXPECT_NE(section.find("75.0%"), std::string::npos);
  EXPECT_NE(section.find("sub: g:&lt;m&gt;"), std::string::npos);  // escaped
  EXPECT_NE(section.find("wpsim run x.yaml --seed 1"), std::string::npos);
  EXPECT_LT(at, html.find("id=\"scenario-table\""));
}

TEST(HtmlReport, SummaryIsPlainHtmlWithTheRunFacts) {
  const std::string html = WriteHtml(MakeSampleReport(42));
  const size_t summary = html.find("<section id=\"summary\">");
  const size_t script = html.find("<script>");
  ASSERT_NE(summary, std::string::npos);
  EXPECT_LT(summary, script);  // readable before (and without) any script
  EXPECT_NE(html.find("id=\"count-passed\"><b>1</b>passed"), std::string::npos);
  EXPECT_NE(html.find("id=\"count-failed\"><b>2</b>failed"), std::string::npos);
  EXPECT_NE(html.find("id=\"count-skipped\"><b>1</b>skipped"), std::string::npos);
  EXPECT_NE(html.find("<th>seed</th><td><code>42</code>"), std::string::npos);
  EXPECT_NE(html.find("<th>trace hash</th><td><code>" +
                      FormatTraceHash(MakeSampleReport(42).trace_hash)),
            std::string::npos);
  EXPECT_NE(html.find("<th>target</th><td>sim"), std::string::npos);
  EXPECT_NE(html.find("<th>wpsim version</th><td>0.1.0"), std::string::npos);
  EXPECT_NE(html.find("CONFORMANCE FAILURE"), std::string::npos);
}

TEST(HtmlReport, HasPlotsForLatencyThroughputAndFailingScenarios) {
  const std::string html = WriteHtml(MakeSampleReport(42));
  // One histogram and one percentile plot per metric per scenario (quickstart three metrics,
  // the ack scenario one, the load scenario one) plus one per metric in the run overview.
  EXPECT_EQ(Count(html, "<svg class=\"plot histogram\""), 5u + 3u);
  EXPECT_EQ(Count(html, "<svg class=\"plot percentiles\""), 5u + 3u);
  EXPECT_NE(html.find("<section id=\"overview\">"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg class=\"plot throughput\""), 1u);
  // Only the failing scenario with diagram data gets a sequence diagram.
  EXPECT_EQ(Count(html, "<svg class=\"sequence\""), 1u);
  EXPECT_EQ(Count(html, "<g class=\"message highlighted\">"), 1u);
  EXPECT_NE(html.find("class=\"violated-expectation\""), std::string::npos);
  EXPECT_NE(html.find("<pre class=\"reproduce\"><code>wpsim run scenarios/acks/duplicate.yaml "
                      "--seed 42 --inject-bug ack_duplicate_as_success</code></pre>"),
            std::string::npos);
  // Percentile axis labels as HdrHistogram's plotter draws them.
  EXPECT_NE(html.find(">99.9%</text>"), std::string::npos);
}

TEST(HtmlReport, FailingScenarioDetailsAreOpen) {
  const std::string html = WriteHtml(MakeSampleReport(42));
  EXPECT_NE(html.find("<details class=\"scenario fail\" id=\"scenario-1\" open>"),
            std::string::npos);
  EXPECT_NE(html.find("<details class=\"scenario pass\" id=\"scenario-0\">"), std::string::npos);
}

TEST(HtmlReport, FailureSequenceDiagramComesBeforeTheLatencyCharts) {
  const std::string html = WriteHtml(MakeSampleReport(42));
  const size_t details = html.find("<details class=\"scenario fail\" id=\"scenario-1\" open>");
  ASSERT_NE(details, std::string::npos);
  const size_t end = html.find("</details>", details);
  const size_t diagram = html.find("<h3>Sequence diagram</h3>", details);
  const size_t failures = html.find("<h3>Failures</h3>", details);
  const size_t latency = html.find("<h3>Latency", details);
  ASSERT_LT(diagram, end);
  ASSERT_LT(latency, end);
  EXPECT_LT(failures, diagram);
  EXPECT_LT(diagram, latency);
}

TEST(HtmlReport, SummaryNamesTheInjectedBugs) {
  RunReport r = MakeSampleReport(42);
  EXPECT_EQ(WriteHtml(r).find("id=\"injected-bugs\""), std::string::npos);
  r.scenarios[1].injected_bugs = {"drop-noecho"};
  r.scenarios[2].injected_bugs = {"ack-before-apply", "drop-noecho"};
  const std::string html = WriteHtml(r);
  const size_t bugs = html.find("id=\"injected-bugs\">Injected service bugs: <code>ack-before-apply</code>, "
                                "<code>drop-noecho</code>");
  ASSERT_NE(bugs, std::string::npos);
  EXPECT_LT(bugs, html.find("<section id=\"scenarios\">"));  // in the summary
}

TEST(HtmlReport, EscapesEverythingItQuotes) {
  RunReport r;
  r.run.command_line = "wpsim run '<img src=x onerror=alert(1)>'";
  ScenarioResult& s = r.AddScenario("<b>.yaml", "</script><script>alert(1)</script>");
  s.AddFailure({"\"><svg onload=alert(1)>", "", "", "", std::nullopt});
  s.sequence.AddArrow(0, "<client>", "svc", "</text><script>x</script>", true);
  s.sequence.violated_expectation = "&amp; not decoded";
  const std::string html = WriteHtml(r);
  EXPECT_EQ(Count(html, "<script>"), 1u);  // only the report's own
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_NE(html.find("&amp;amp; not decoded"), std::string::npos);
}

TEST(HtmlReport, IsDeterministic) {
  EXPECT_EQ(WriteHtml(MakeSampleReport(42)), WriteHtml(MakeSampleReport(42)));
  EXPECT_NE(WriteHtml(MakeSampleReport(42)), WriteHtml(MakeSampleReport(43)));
}

TEST(HtmlReport, HandlesAnEmptyRun) {
  const std::string html = WriteHtml(RunReport{});
  EXPECT_NE(html.find("id=\"count-passed\"><b>0</b>"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

}  // namespace
}  // namespace wpsim::reports
