#include "reports/junit.h"

#include <charconv>
#include <map>

#include "reports/escape.h"

namespace wpsim::reports {
namespace {

std::string Seconds(int64_t ns) {
  char buf[32];
  const double s = static_cast<double>(ns < 0 ? 0 : ns) / 1e9;
  auto res = std::to_chars(buf, buf + sizeof buf, s, std::chars_format::fixed, 3);
  return std::string(buf, res.ptr);
}

std::string Attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + XmlEscape(value, /*attribute=*/true) + "\"";
}

// "scenarios/acks/duplicate.yaml" -> "scenarios.acks.duplicate": what JUnit consumers show as
// the class (and use to group tests).
std::string ClassName(std::string_view file) {
  std::string s(file);
  const size_t slash = s.find_last_of('/');
  const size_t dot = s.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) s.resize(dot);
  for (char& c : s) {
    if (c == '/' || c == '\\') c = '.';
  }
  return s;
}

struct Testcase {
  std::string name;
  std::string classname;
  int64_t time_ns = 0;
  Outcome status = Outcome::kPass;
  std::string message;  // the failure/error/skipped message attribute
  std::string type;
  std::string body;
};

void AppendLine(std::string& body, std::string_view label, std::string_view value) {
  if (value.empty()) return;
  body += label;
  body += ": ";
  body += value;
  body += '\n';
}

void AppendFailure(std::string& body, const Failure& f, ClockKind clock) {
  AppendLine(body, "failure", f.message);
  AppendLine(body, "expected", f.expected);
  AppendLine(body, "actual", f.actual);
  if (f.time_ns) {
    AppendLine(body, "at", FormatDurationNs(static_cast<double>(*f.time_ns)) + " (" +
                               std::string(ToString(clock)) + " time)");
  }
}

void AppendReproduction(std::string& body, const RunReport& r, const ScenarioResult& s) {
  body += "seed: " + std::to_string(s.seed) + "  trace hash: " + FormatTraceHash(s.trace_hash) +
          "  target: " + std::string(ToString(r.target)) + "\n";
  AppendLine(body, "reproduce", s.reproduce);
}

std::vector<Testcase> TestcasesFor(const RunReport& r, const ScenarioResult& s) {
  std::vector<Testcase> out;
  const std::string classname = ClassName(s.file);
  std::vector<const ThresholdResult*> broken;
  for (const ThresholdResult& t : s.thresholds) {
    if (!t.passed) broken.push_back(&t);
  }
  auto threshold_lines = [&](std::string& body) {
    for (const ThresholdResult* t : broken) {
      body += "threshold: " + t->expression + " observed " + t->observed;
      if (!t->message.empty()) body += " (" + t->message + ")";
      body += '\n';
    }
  };
  auto problem_type = [](Outcome o) { return o == Outcome::kError ? "error" : "expectation"; };

  if (s.cases.size() < 2) {
    Testcase tc{s.name, classname, s.duration_ns, s.status, "", "", ""};
    if (s.status == Outcome::kSkip) {
      tc.message = s.skip_reason;
    } else if (s.status == Outcome::kFail || s.status == Outcome::kError) {
      for (const CaseResult& c : s.cases) {
        if (c.status == Outcome::kPass || c.status == Outcome::kSkip) continue;
        AppendLine(tc.body, "case", c.case_id);
        AppendLine(tc.body, "failure", c.message);
        AppendLine(tc.body, "expected", c.expected);
        AppendLine(tc.body, "actual", c.actual);
        if (tc.message.empty()) tc.message = c.message;
      }
      for (const Failure& f : s.failures) {
        AppendFailure(tc.body, f, r.clock);
        if (tc.message.empty()) tc.message = f.message;
      }
      threshold_lines(tc.body);
      if (tc.message.empty() && !broken.empty()) {
        tc.message = "threshold " + broken[0]->expression + " failed: observed " +
                     broken[0]->observed;
        tc.type = "threshold";
      }
      if (tc.type.empty()) tc.type = problem_type(s.status);
      AppendLine(tc.body, "violated", s.sequence.violated_expectation);
      AppendReproduction(tc.body, r, s);
    }
    out.push_back(std::move(tc));
    return out;
  }

  bool first = true;
  for (const CaseResult& c : s.cases) {
    Testcase tc{s.name + " [" + c.case_id + "]", classname, first ? s.duration_ns : 0, c.status,
                "", "", ""};
    first = false;
    if (s.status == Outcome::kSkip && c.status == Outcome::kPass) tc.status = Outcome::kSkip;
    if (tc.status == Outcome::kSkip) {
      tc.message = c.message.empty() ? s.skip_reason : c.message;
    } else if (tc.status == Outcome::kFail || tc.status == Outcome::kError) {
      tc.message = c.message;
      tc.type = problem_type(c.status);
      AppendLine(tc.body, "failure", c.message);
      AppendLine(tc.body, "expected", c.expected);
      AppendLine(tc.body, "actual", c.actual);
      for (const Failure& f : s.failures) {
        if (f.case_id == c.case_id) AppendFailure(tc.body, f, r.clock);
      }
      AppendLine(tc.body, "violated", s.sequence.violated_expectation);
      AppendReproduction(tc.body, r, s);
    }
    out.push_back(std::move(tc));
  }
  // Problems that belong to no case get a testcase of their own, so they are not lost.
  std::vector<const Failure*> orphans;
  for (const Failure& f : s.failures) {
    bool matched = false;
    for (const CaseResult& c : s.cases) matched |= !f.case_id.empty() && f.case_id == c.case_id;
    if (!matched) orphans.push_back(&f);
  }
  if (!orphans.empty() || !broken.empty()) {
    Testcase tc{s.name, classname, 0, s.status == Outcome::kError ? Outcome::kError : Outcome::kFail,
                "", "", ""};
    for (const Failure* f : orphans) {
      AppendFailure(tc.body, *f, r.clock);
      if (tc.message.empty()) tc.message = f->message;
    }
    threshold_lines(tc.body);
    if (tc.message.empty()) {
      tc.message = "threshold " + broken[0]->expression + " failed: observed " +
                   broken[0]->observed;
      tc.type = "threshold";
    } else {
      tc.type = problem_type(tc.status);
    }
    AppendReproduction(tc.body, r, s);
    out.push_back(std::move(tc));
  }
  return out;
}

}  // namespace

std::string WriteJunitXml(const RunReport& r) {
  // Suites in order of each file's first appearance.
  std::vector<std::string> files;
  std::map<std::string, std::vector<Testcase>> by_file;
  std::map<std::string, int64_t> file_time;
  for (const ScenarioResult& s : r.scenarios) {
    auto [it, inserted] = by_file.try_emplace(s.file);
    if (inserted) files.push_back(s.file);
    for (Testcase& tc : TestcasesFor(r, s)) it->second.push_back(std::move(tc));
    file_time[s.file] += s.duration_ns;
  }

  struct Counts {
    size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  };
  auto count = [](const std::vector<Testcase>& cases) {
    Counts c;
    for (const Testcase& tc : cases) {
      ++c.tests;
      c.failures += tc.status == Outcome::kFail;
      c.errors += tc.status == Outcome::kError;
      c.skipped += tc.status == Outcome::kSkip;
    }
    return c;
  };

  Counts all;
  for (const auto& [file, cases] : by_file) {
    Counts c = count(cases);
    all.tests += c.tests;
    all.failures += c.failures;
    all.errors += c.errors;
    all.skipped += c.skipped;
  }

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + Attr("name", "wpsim") + Attr("tests", std::to_string(all.tests)) +
         Attr("failures", std::to_string(all.failures)) +
         Attr("errors", std::to_string(all.errors)) +
         Attr("time", Seconds(r.TotalScenarioDurationNs())) + ">\n";
  size_t suite_id = 0;
  for (const std::string& file : files) {
    const std::vector<Testcase>& cases = by_file[file];
    const Counts c = count(cases);
    out += "  <testsuite" + Attr("name", file) + Attr("tests", std::to_string(c.tests)) +
           Attr("failures", std::to_string(c.failures)) +
           Attr("errors", std::to_string(c.errors)) +
           Attr("skipped", std::to_string(c.skipped)) + Attr("time", Seconds(file_time[file])) +
           Attr("timestamp", r.run.start_time) + Attr("hostname", r.run.host) +
           Attr("id", std::to_string(suite_id++)) + Attr("file", file) + ">\n";
    out += "    <properties>\n";
    const std::pair<std::string, std::string> properties[] = {
        {"wpsim.target", std::string(ToString(r.target))},
        {"wpsim.clock", std::string(ToString(r.clock))},
        {"wpsim.seed", std::to_string(r.seed)},
        {"wpsim.trace_hash", FormatTraceHash(r.trace_hash)},
        {"wpsim.version", r.run.version},
    };
    for (const auto& [name, value] : properties) {
      out += "      <property" + Attr("name", name) + Attr("value", value) + "/>\n";
    }
    out += "    </properties>\n";
    for (const Testcase& tc : cases) {
      out += "    <testcase" + Attr("name", tc.name) + Attr("classname", tc.classname) +
             Attr("time", Seconds(tc.time_ns));
      switch (tc.status) {
        case Outcome::kPass:
          out += "/>\n";
          continue;
        case Outcome::kSkip:
          out += ">\n      <skipped" + Attr("message", tc.message) + "/>\n";
          break;
        case Outcome::kFail:
        case Outcome::kError: {
          const char* element = tc.status == Outcome::kFail ? "failure" : "error";
          out += ">\n      <" + std::string(element) + Attr("message", tc.message) +
                 Attr("type", tc.type) + ">" + XmlEscape(tc.body) + "</" + element + ">\n";
          break;
        }
      }
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace wpsim::reports
