#include "reports/junit.h"

#include <gtest/gtest.h>

#include "reports/escape.h"
#include "reports/json_report.h"
#include "tests/reports/sample_report.h"
#include "tests/reports/test_util.h"

namespace wpsim::reports {
namespace {

using testing::HaveTool;
using testing::MakeSampleReport;
using testing::RunCommand;
using testing::ScratchDir;

const std::string kSchema = std::string(WPSIM_SOURCE_DIR) + "/tests/data/reports/junit.xsd";

// Validates `xml` against the JUnit schema with xmllint; returns xmllint's output on failure.
testing::CommandResult Validate(const std::string& xml, const std::string& name) {
  const std::string path = ScratchDir(name) + "/junit.xml";
  EXPECT_TRUE(WriteTextFile(path, xml).ok());
  return RunCommand("xmllint --noout --schema '" + kSchema + "' '" + path + "'");
}

std::string XPath(const std::string& xml, const std::string& name, const std::string& expr) {
  const std::string path = ScratchDir(name) + "/junit.xml";
  EXPECT_TRUE(WriteTextFile(path, xml).ok());
  std::string out = RunCommand("xmllint --xpath \"" + expr + "\" '" + path + "'").output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

RunReport NastyReport() {
  RunReport r;
  r.run.host = "h<o>st&\"'";
  ScenarioResult& s = r.AddScenario("weird/\"quotes\" & <angles>.yaml",
                                    std::string("ctl\x01\x02\x1b chars\ttab\r\nnewline ]]> \xff"));
  s.AddFailure({"message with <tags> & \"quotes\" and \x0b vertical tab",
                "expected </failure> ]]>", "actual \xef\xbf\xbf noncharacter", "", 5});
  s.reproduce = "wpsim run 'weird/\"quotes\" & <angles>.yaml' --seed 0";
  ScenarioResult& skipped = r.AddScenario("weird/\"quotes\" & <angles>.yaml", "skip <me>");
  skipped.MarkSkipped("reason with \x07 bell & <b>");
  ScenarioResult& errored = r.AddScenario("other.yaml", "error");
  errored.MarkError("connection refused");
  return r;
}

TEST(JunitWriter, SampleReportIsValidJunitXml) {
  if (!HaveTool("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian package libxml2-utils)";
  testing::CommandResult v = Validate(WriteJunitXml(MakeSampleReport(42)), "junit-sample");
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(JunitWriter, EscapesMarkupAndControlCharactersIntoValidXml) {
  if (!HaveTool("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian package libxml2-utils)";
  const std::string xml = WriteJunitXml(NastyReport());
  testing::CommandResult v = Validate(xml, "junit-nasty");
  EXPECT_EQ(v.exit_code, 0) << v.output << "\n" << xml;
  EXPECT_NE(xml.find("ctl\\u0001\\u0002\\u001B chars&#9;tab&#13;&#10;newline ]]&gt; \xEF\xBF\xBD"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("noncharacter"), std::string::npos);
  EXPECT_EQ(xml.find("\xef\xbf\xbf"), std::string::npos);  // U+FFFF is not allowed in XML
  // The parser gets the original text back (modulo the forbidden characters).
  EXPECT_EQ(XPath(xml, "junit-nasty-xpath", "string(//testcase[1]/failure/@message)"),
            "message with <tags> & \"quotes\" and \\u000B vertical tab");
}

TEST(JunitWriter, ASchemaViolationIsDetected) {
  if (!HaveTool("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian package libxml2-utils)";
  // The validation must be able to fail: a testcase without a name, a negative count.
  testing::CommandResult v = Validate(
      "<testsuites><testsuite name=\"a\" tests=\"-1\" failures=\"0\" errors=\"0\">"
      "<testcase classname=\"x\"/></testsuite></testsuites>",
      "junit-invalid");
  EXPECT_NE(v.exit_code, 0) << v.output;
}

TEST(JunitWriter, OneSuitePerFileAndOneCasePerScenarioOrCaseId) {
  if (!HaveTool("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian package libxml2-utils)";
  const std::string xml = WriteJunitXml(MakeSampleReport(42));
  EXPECT_EQ(XPath(xml, "junit-count-suites", "count(//testsuite)"), "4");
  // 1 (quickstart) + 2 case IDs (acks) + 1 skipped + 1 load scenario.
  EXPECT_EQ(XPath(xml, "junit-count-cases", "count(//testcase)"), "5");
  EXPECT_EQ(XPath(xml, "junit-count-fail", "count(//testcase/failure)"), "2");
  EXPECT_EQ(XPath(xml, "junit-count-skip", "count(//testcase/skipped)"), "1");
  EXPECT_EQ(XPath(xml, "junit-top", "string(/testsuites/@failures)"), "2");
  EXPECT_EQ(XPath(xml, "junit-case-name",
                  "string(//testsuite[2]/testcase[2]/@name)"),
            "a repeated ackId is answered with Duplicate [acks.duplicate-is-rejected]");
  EXPECT_EQ(XPath(xml, "junit-classname", "string(//testsuite[2]/testcase[1]/@classname)"),
            "scenarios.acks.duplicate");
  EXPECT_EQ(XPath(xml, "junit-skip-reason", "string(//skipped/@message)"),
            "needs network control (partition); not available on target remote");
}

TEST(JunitWriter, FailureCarriesExpectedActualAndTheReproduceCommand) {
  const std::string xml = WriteJunitXml(MakeSampleReport(42));
  EXPECT_NE(xml.find("expected: {&quot;type&quot;:&quot;ack&quot;,&quot;ackId&quot;:7,"
                     "&quot;success&quot;:false"),
            std::string::npos);
  EXPECT_NE(xml.find("actual: ack success"), std::string::npos);
  EXPECT_NE(xml.find("reproduce: wpsim run scenarios/acks/duplicate.yaml --seed 42 "
                     "--inject-bug ack_duplicate_as_success"),
            std::string::npos);
  EXPECT_NE(xml.find("type=\"threshold\""), std::string::npos);
  EXPECT_NE(xml.find("threshold: p99 &lt; 20ms observed"), std::string::npos);
}

TEST(JunitWriter, OrphanFailuresOfAMultiCaseScenarioGetTheirOwnTestcase) {
  RunReport r;
  ScenarioResult& s = r.AddScenario("a.yaml", "multi");
  s.AddCase("one", Outcome::kPass);
  s.AddCase("two", Outcome::kPass);
  s.AddFailure({"invariant broken: delivery to a non-member", "", "", "", std::nullopt});
  const std::string xml = WriteJunitXml(r);
  EXPECT_NE(xml.find("<testcase name=\"multi\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("invariant broken"), std::string::npos);
  EXPECT_NE(xml.find("failures=\"1\""), std::string::npos);
}

TEST(JunitWriter, IsDeterministic) {
  EXPECT_EQ(WriteJunitXml(MakeSampleReport(42)), WriteJunitXml(MakeSampleReport(42)));
}

TEST(XmlEscaping, HandlesEveryClassOfCharacter) {
  EXPECT_EQ(XmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  EXPECT_EQ(XmlEscape("t\tn\nr\r"), "t\tn\nr&#13;");
  EXPECT_EQ(XmlEscape("t\tn\n", true), "t&#9;n&#10;");
  EXPECT_EQ(XmlEscape(std::string("\0\x1f", 2)), "\\u0000\\u001F");
  EXPECT_EQ(XmlEscape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(XmlEscape("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong
  EXPECT_EQ(XmlEscape("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(XmlEscape("\xef\xbf\xbe"), "\\uFFFE");
  EXPECT_EQ(XmlEscape("abc\xe2\x82"), "abc\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
}

}  // namespace
}  // namespace wpsim::reports
