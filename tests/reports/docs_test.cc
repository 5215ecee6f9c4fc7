// docs/reports.md and tests/data/reports/sample-report.* are generated from the fixed sample
// report: this test fails when they are stale. Refresh them with
//   WPSIM_UPDATE_DOCS=1 build-<you>/bin/wpsim_reports_tests --gtest_filter='ReportDocs.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <set>

#include "reports/html.h"
#include "reports/json_report.h"
#include "reports/junit.h"
#include "reports/markdown.h"
#include "tests/reports/sample_report.h"

namespace wpsim::reports {
namespace {

using nlohmann::json;
using testing::MakeSampleReport;

const std::string kSourceDir = WPSIM_SOURCE_DIR;
const std::string kDocPath = kSourceDir + "/docs/reports.md";

bool UpdateMode() {
  const char* v = std::getenv("WPSIM_UPDATE_DOCS");
  return v != nullptr && std::string(v) == "1";
}

const char* kStaleHint =
    " is stale; regenerate with WPSIM_UPDATE_DOCS=1 <build>/bin/wpsim_reports_tests "
    "--gtest_filter='ReportDocs.*'";

std::string HtmlSummaryExcerpt(const std::string& html) {
  const size_t begin = html.find("<section id=\"summary\">");
  const size_t end = html.find("</section>", begin);
  return html.substr(begin, end + std::strlen("</section>") - begin) + "\n";
}

// The generated blocks of docs/reports.md, by marker name.
std::vector<std::pair<std::string, std::string>> GeneratedBlocks() {
  const RunReport r = MakeSampleReport(42);
  const std::string html = WriteHtml(r);
  return {
      {"json", "```json\n" + WriteJson(r) + "```\n"},
      {"junit", "```xml\n" + WriteJunitXml(r) + "```\n"},
      {"markdown", "```markdown\n" + WriteMarkdown(r) + "```\n"},
      {"html", "```html\n" + HtmlSummaryExcerpt(html) + "```\n"},
  };
}

// Replaces the text between "<!-- generated:NAME -->" and "<!-- end generated:NAME -->".
bool Splice(std::string& doc, const std::string& name, const std::string& content,
            std::string* error) {
  const std::string open = "<!-- generated:" + name + " -->\n";
  const std::string close = "<!-- end generated:" + name + " -->";
  const size_t begin = doc.find(open);
  const size_t end = doc.find(close);
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    *error = "docs/reports.md lacks the markers for the generated block \"" + name + "\"";
    return false;
  }
  doc.replace(begin + open.size(), end - begin - open.size(), content);
  return true;
}

void CheckOrUpdate(const std::string& path, const std::string& expected) {
  Result<std::string> current = ReadTextFile(path);
  if (UpdateMode()) {
    if (!current.ok() || *current != expected) {
      ASSERT_TRUE(WriteTextFile(path, expected).ok());
    }
    return;
  }
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_TRUE(*current == expected) << path << kStaleHint;
}

TEST(ReportDocs, ExamplesInDocsAreGeneratedFromTheSampleReport) {
  Result<std::string> doc = ReadTextFile(kDocPath);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  std::string updated = *doc;
  for (const auto& [name, content] : GeneratedBlocks()) {
    std::string error;
    ASSERT_TRUE(Splice(updated, name, content, &error)) << error;
  }
  CheckOrUpdate(kDocPath, updated);
}

TEST(ReportDocs, SampleReportFilesAreCurrent) {
  const RunReport r = MakeSampleReport(42);
  const std::string dir = kSourceDir + "/tests/data/reports/";
  CheckOrUpdate(dir + "sample-report.json", WriteJson(r));
  CheckOrUpdate(dir + "sample-report.xml", WriteJunitXml(r));
  CheckOrUpdate(dir + "sample-report.md", WriteMarkdown(r));
  CheckOrUpdate(dir + "sample-report.html", WriteHtml(r));
}

// Every field path of the JSON report, arrays written as "[]"; the members of maps whose keys
// are data (counters, percentiles) are not listed individually.
void CollectPaths(const json& j, const std::string& path, std::set<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      const std::string child = path.empty() ? key : path + "." + key;
      out.insert(child);
      if (key == "counters" || key == "percentiles_ns") continue;
      CollectPaths(value, child, out);
    }
  } else if (j.is_array()) {
    for (const json& e : j) {
      if (e.is_object()) CollectPaths(e, path + "[]", out);
    }
  }
}

TEST(ReportDocs, EveryJsonFieldIsDescribed) {
  Result<std::string> doc = ReadTextFile(kDocPath);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const size_t reference = doc->find("## JSON field reference");
  ASSERT_NE(reference, std::string::npos) << "docs/reports.md lacks '## JSON field reference'";
  const std::string table = doc->substr(reference, doc->find("\n## ", reference + 1) - reference);
  std::set<std::string> paths;
  CollectPaths(json::parse(WriteJson(MakeSampleReport(42))), "", paths);
  for (const std::string& p : paths) {
    EXPECT_NE(table.find("| `" + p + "` |"), std::string::npos)
        << "JSON field " << p << " is not described in docs/reports.md";
  }
}

}  // namespace
}  // namespace wpsim::reports
