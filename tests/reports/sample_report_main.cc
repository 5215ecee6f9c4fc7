// wpsim_reports_sample OUTDIR [SEED]: writes the sample report in all four formats
// (report.json, report.xml, report.html, report.md) for the browser test and for people who want
// to look at a report without running a suite.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "reports/html.h"
#include "reports/json_report.h"
#include "reports/junit.h"
#include "reports/markdown.h"
#include "tests/reports/sample_report.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTDIR [SEED]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 42;
  using namespace wpsim::reports;
  const RunReport r = testing::MakeSampleReport(seed);
  const std::pair<std::string, std::string> files[] = {
      {"report.json", WriteJson(r)},
      {"report.xml", WriteJunitXml(r)},
      {"report.html", WriteHtml(r)},
      {"report.md", WriteMarkdown(r)},
  };
  for (const auto& [name, content] : files) {
    wpsim::Status s = WriteTextFile(dir + "/" + name, content);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.error().message.c_str());
      return 1;
    }
    std::printf("%s/%s\n", dir.c_str(), name.c_str());
  }
  return 0;
}
