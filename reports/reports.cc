#include "reports/reports.h"

namespace wpsim::reports {

ReportPaths DefaultReportPaths(const std::string& dir) {
  return ReportPaths{dir + "/junit.xml", dir + "/report.json", dir + "/report.html",
                     dir + "/summary.md"};
}

Result<std::vector<std::string>> WriteReports(const RunReport& report, const ReportPaths& paths) {
  std::vector<std::string> written;
  struct Output {
    const std::string& path;
    std::string (*render)(const RunReport&);
  };
  const Output outputs[] = {{paths.junit, WriteJunitXml},
                            {paths.json, WriteJson},
                            {paths.html, WriteHtml},
                            {paths.markdown, WriteMarkdown}};
  for (const Output& o : outputs) {
    if (o.path.empty()) continue;
    Status s = WriteTextFile(o.path, o.render(report));
    if (!s.ok()) return s.error();
    written.push_back(o.path);
  }
  return written;
}

}  // namespace wpsim::reports
