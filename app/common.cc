#include "app/common.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>

#include "app/cli.h"
#include "reports/reports.h"

namespace wpsim::app {

int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatMs(int64_t ns) {
  char buf[32];
  if (ns < 10'000'000) {
    snprintf(buf, sizeof buf, "%.2fms", static_cast<double>(ns) / 1e6);
  } else if (ns < 10'000'000'000) {
    snprintf(buf, sizeof buf, "%.0fms", static_cast<double>(ns) / 1e6);
  } else {
    snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

std::vector<std::string> RedactSecrets(const std::vector<std::string>& argv) {
  // AccessKey=<key> up to the next ';' (or the end), in any case as ParseConnectionString reads it.
  auto redact = [](std::string value) {
    std::string lower = value;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t at = lower.find("accesskey="); at != std::string::npos; at = lower.find("accesskey=", at + 1)) {
      const size_t begin = at + 10;
      size_t end = value.find(';', begin);
      if (end == std::string::npos) end = value.size();
      value.replace(begin, end - begin, "***");
      lower.replace(begin, end - begin, "***");
    }
    return value;
  };
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if ((a == "--connection-string" || a == "--access-key") && i + 1 < argv.size()) {
      out.push_back(a);
      ++i;
      out.push_back(a == "--access-key" ? std::string("***") : redact(argv[i]));
    } else if (a.rfind("--connection-string=", 0) == 0) {
      out.push_back(redact(a));
    } else if (a.rfind("--access-key=", 0) == 0) {
      out.push_back("--access-key=***");
    } else {
      out.push_back(a);
    }
  }
  return out;
}

void StampRun(reports::RunReport& report, const std::vector<std::string>& argv, int64_t wall_duration_ns) {
  report.run.start_time = Rfc3339Now();
  report.run.duration_ns = wall_duration_ns;
  report.run.version = WPSIM_VERSION;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) report.run.host = host;
  report.run.command_line = reports::ShellQuote(RedactSecrets(argv));
}

void AddReportFileOptions(CLI::App& sub, ReportFileFlags& f, const std::string& of) {
  sub.add_option("--junit", f.junit, "Write a JUnit XML report" + of);
  sub.add_option("--json", f.json, "Write a JSON report" + of);
  sub.add_option("--html", f.html, "Write an HTML report" + of);
  sub.add_option("--md", f.md, "Write a Markdown summary" + of);
}

bool WriteRequestedReports(const reports::RunReport& report, const ReportFileFlags& f,
                           const std::string& command) {
  const reports::ReportPaths paths{f.junit, f.json, f.html, f.md};
  if (paths.junit.empty() && paths.json.empty() && paths.html.empty() && paths.markdown.empty()) {
    return true;
  }
  Result<std::vector<std::string>> written = reports::WriteReports(report, paths);
  if (!written.ok()) {
    std::cerr << "wpsim " << command << ": writing reports failed: " << written.error().message << "\n";
    return false;
  }
  for (const std::string& p : written.value()) std::cout << "report: " << p << "\n";
  return true;
}

bool ColourEnabled(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return isatty(fd) == 1;
}

std::string Paint(Colour colour, const std::string& text, bool enabled) {
  if (!enabled) return text;
  const char* code = "";
  switch (colour) {
    case Colour::kGreen:
      code = "\033[32m";
      break;
    case Colour::kRed:
      code = "\033[31m";
      break;
    case Colour::kYellow:
      code = "\033[33m";
      break;
    case Colour::kBold:
      code = "\033[1m";
      break;
  }
  return code + text + "\033[0m";
}

int ExitCodeOf(reports::Verdict verdict) {
  switch (verdict) {
    case reports::Verdict::kPass: return kExitOk;
    case reports::Verdict::kConformanceFailure: return kExitConformanceFailure;
    case reports::Verdict::kThresholdFailure: return kExitThreshold;
  }
  return kExitOk;
}

bool ParseBugNames(const std::vector<std::string>& names, const std::string& command,
                   std::set<service::Bug>& bugs) {
  for (const std::string& name : names) {
    std::optional<service::Bug> bug = service::ParseBug(name);
    if (!bug) {
      std::cerr << "wpsim " << command << ": unknown bug '" << name << "' (see wpsim serve --list-bugs)\n";
      return false;
    }
    bugs.insert(*bug);
  }
  return true;
}

}  // namespace wpsim::app
