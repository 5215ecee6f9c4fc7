// What `wpsim run`, `explore` and `bench` share: wall-clock helpers (which feed only printed
// durations and the report's `run` object, never a simulation: DESIGN.md §4), the report file
// flags and their writing, and --inject-bug parsing.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "reports/model.h"
#include "service/options.h"

namespace wpsim::app {

// A monotonic wall clock in nanoseconds.
int64_t WallNanos();
// The current UTC time as RFC 3339 ("2026-11-26T21:30:00Z").
std::string Rfc3339Now();
// "0.42ms", "125ms", "12.3s".
std::string FormatMs(int64_t ns);

// Fills the report's wall-clock `run` object: start time, duration, version, host, command.
// argv with the secrets a report must not carry masked: the AccessKey of a --connection-string
// value, an --access-key value ("***"). Reports are CI artifacts.
std::vector<std::string> RedactSecrets(const std::vector<std::string>& argv);

void StampRun(reports::RunReport& report, const std::vector<std::string>& argv, int64_t wall_duration_ns);

// --junit/--json/--html/--md.
struct ReportFileFlags {
  std::string junit, json, html, md;
};
// Registers the four flags; `of` ends their help text ("" or " of the failing seeds").
void AddReportFileOptions(CLI::App& sub, ReportFileFlags& flags, const std::string& of = "");
// Writes the requested reports and prints "report: PATH" for each. False (with a message
// naming `command` on stderr) when writing failed.
bool WriteRequestedReports(const reports::RunReport& report, const ReportFileFlags& flags,
                           const std::string& command);

// Colours (ANSI SGR) only where a person reads them: `fd` is a terminal and NO_COLOR is unset
// or empty (no-color.org). Reports, pipes and CI logs never get escape codes.
bool ColourEnabled(int fd);
enum class Colour { kGreen, kRed, kYellow, kBold };
// `text` wrapped in the colour's escape codes when `enabled`; `text` itself otherwise.
std::string Paint(Colour colour, const std::string& text, bool enabled);

// The documented exit code of a verdict (app/cli.h): 0 pass, 1 conformance, 3 threshold.
int ExitCodeOf(reports::Verdict verdict);

// Adds each --inject-bug name to `bugs`; false (with a message naming `command`) on an
// unknown name.
bool ParseBugNames(const std::vector<std::string>& names, const std::string& command,
                   std::set<service::Bug>& bugs);

}  // namespace wpsim::app
