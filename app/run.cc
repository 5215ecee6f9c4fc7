#include "app/run.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <variant>
#include <iostream>

#include "app/cli.h"
#include "app/list.h"
#include "app/mutation.h"
#include "conformance/explore.h"
#include "conformance/real_environment.h"
#include "conformance/runner.h"
#include "conformance/units.h"
#include "conformance/suite.h"
#include "reports/reports.h"
#include "protocol/auth/connection_string.h"
#include "service/options.h"
#include "sim/seam.h"

namespace wpsim::app {
namespace {

using conformance::Scenario;
using conformance::Target;

std::optional<Target> ParseTargetName(const std::string& s) {
  if (s == "sim") return Target::kSim;
  if (s == "local") return Target::kLocal;
  if (s == "remote") return Target::kRemote;
  return std::nullopt;
}

reports::Target ReportTarget(Target t) {
  switch (t) {
    case Target::kSim: return reports::Target::kSim;
    case Target::kLocal: return reports::Target::kLocal;
    case Target::kRemote: return reports::Target::kRemote;
  }
  return reports::Target::kSim;
}

std::vector<std::string> SplitTags(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& t : in) {
    size_t start = 0;
    while (start <= t.size()) {
      size_t comma = t.find(',', start);
      if (comma == std::string::npos) comma = t.size();
      if (comma > start) out.push_back(t.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

// Real targets have no trace (the network is real): their hash would be a meaningless 0.
std::string TraceHashText(Target target, uint64_t hash) {
  if (target != Target::kSim) return "";
  return ", trace hash " + reports::FormatTraceHash(hash);
}

// Without paths: ./scenarios (a checkout), else the suite an installed copy ships in
// <prefix>/share/wpsim/scenarios next to <prefix>/bin/wpsim, else "scenarios" (whose absence the
// loader then reports).
std::string DefaultScenarioDirectory() {
  if (access("scenarios", F_OK) == 0) return "scenarios";
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));  // <prefix>/bin
    const std::string installed = dir.substr(0, dir.rfind('/')) + "/share/wpsim/scenarios";
    if (access(installed.c_str(), F_OK) == 0) return installed;
  }
  return "scenarios";
}

struct Selection {
  std::vector<Scenario> scenarios;
  // Position of each selected scenario in the unsharded selection, and that selection's size:
  // a shard's report numbers its scenarios as the whole run would (report merge sorts by it).
  std::vector<uint64_t> ordinals;
  uint64_t suite_size = 0;
  int exit_code = kExitOk;
};

Selection Select(const RunFlags& flags) {
  Selection sel;
  std::vector<std::string> paths = flags.paths;
  if (paths.empty()) paths.push_back(DefaultScenarioDirectory());
  conformance::ScenarioFilter filter;
  filter.globs = flags.filters;
  filter.tags = SplitTags(flags.tags);
  conformance::Suite suite = conformance::LoadSuite(paths, filter);
  if (!suite.ok()) {
    std::cerr << conformance::FormatDiagnostics(suite.diagnostics);
    std::cerr << "wpsim run: " << suite.diagnostics.size() << " problem(s) in scenario files; nothing was run\n";
    sel.exit_code = kExitUsage;
    return sel;
  }
  std::vector<Scenario> picked = std::move(suite.scenarios);
  sel.suite_size = picked.size();
  for (uint64_t k = 0; k < picked.size(); ++k) sel.ordinals.push_back(k);
  if (!flags.shard.empty()) {
    unsigned i = 0, n = 0;
    if (sscanf(flags.shard.c_str(), "%u/%u", &i, &n) != 2 || n == 0 || i == 0 || i > n) {
      std::cerr << "wpsim run: --shard wants i/n with 1 <= i <= n, got '" << flags.shard << "'\n";
      sel.exit_code = kExitUsage;
      return sel;
    }
    std::vector<Scenario> mine;
    sel.ordinals.clear();
    for (size_t k = 0; k < picked.size(); ++k) {
      if (k % n == i - 1) {
        mine.push_back(std::move(picked[k]));
        sel.ordinals.push_back(k);
      }
    }
    picked = std::move(mine);
  }
  sel.scenarios = std::move(picked);
  return sel;
}

const char* StatusWord(reports::Outcome o) {
  switch (o) {
    case reports::Outcome::kPass: return "PASS";
    case reports::Outcome::kFail: return "FAIL";
    case reports::Outcome::kSkip: return "SKIP";
    case reports::Outcome::kError: return "ERROR";
  }
  return "?";
}

Colour StatusColour(reports::Outcome o) {
  switch (o) {
    case reports::Outcome::kPass: return Colour::kGreen;
    case reports::Outcome::kSkip: return Colour::kYellow;
    case reports::Outcome::kFail:
    case reports::Outcome::kError: return Colour::kRed;
  }
  return Colour::kBold;
}

// Runs every selected scenario once per repeat; prints a line per scenario unless quiet.
// `ordinals` (when given) are the scenarios' positions in the unsharded selection of
// `suite_size`; repeat r of scenario k is then ordinal r * suite_size + ordinals[k].
reports::RunReport RunAll(const std::vector<Scenario>& scenarios, const conformance::RunnerOptions& options,
                          const RunFlags& flags, bool quiet, const std::vector<uint64_t>* ordinals = nullptr,
                          uint64_t suite_size = 0) {
  reports::RunReport report;
  report.target = ReportTarget(options.target);
  report.clock = options.target == Target::kSim ? reports::ClockKind::kVirtual : reports::ClockKind::kReal;
  report.seed = options.seed.value_or(conformance::kDefaultSeed);
  const bool tty = !quiet && isatty(STDERR_FILENO);
  const bool colour = !quiet && ColourEnabled(STDOUT_FILENO);
  const size_t total = scenarios.size() * static_cast<size_t>(std::max(1, flags.repeat));
  size_t done = 0;
  for (int rep = 0; rep < std::max(1, flags.repeat); ++rep) {
    for (size_t k = 0; k < scenarios.size(); ++k) {
      const Scenario& sc = scenarios[k];
      if (tty) {
        fprintf(stderr, "\r[%zu/%zu] %s\033[K", done + 1, total, sc.name.c_str());
        fflush(stderr);
      }
      reports::ScenarioResult& r = report.AddScenario(sc.file, sc.name);
      if (ordinals) r.ordinal = static_cast<uint64_t>(rep) * suite_size + (*ordinals)[k];
      const int64_t wall0 = WallNanos();
      if (options.target == Target::kSim) {
        conformance::RunScenario(sc, options, r);
      } else {
        // A real run records what each client observed, in order: `wpsim explore --match`
        // searches the simulator for a seed that reproduces it.
        r.observed = conformance::RunAndDescribe(
            sc, options, r, conformance::kRecordedOutcomeEventsMax);
      }
      r.wall_duration_ns = WallNanos() - wall0;
      ++done;
      if (tty) fprintf(stderr, "\r\033[K");
      if (quiet) continue;
      std::string line = Paint(StatusColour(r.status), StatusWord(r.status), colour) + "  " + sc.name + "  (" +
                         FormatMs(r.duration_ns) +
                         (options.target == Target::kSim ? " virtual, " : ", ") +
                         FormatMs(r.wall_duration_ns) + " wall)";
      if (r.status == reports::Outcome::kSkip) line += "  skipped: " + r.skip_reason;
      std::cout << line << "\n";
      if (r.status == reports::Outcome::kFail || r.status == reports::Outcome::kError) {
        size_t shown = 0;
        for (const reports::Failure& f : r.failures) {
          if (++shown > 10) {
            std::cout << "      ... " << r.failures.size() - 10 << " more failure(s)\n";
            break;
          }
          std::cout << "    " << (f.case_id.empty() ? "" : "[" + f.case_id + "] ") << f.message << "\n";
          if (!f.expected.empty()) std::cout << "      expected: " << f.expected << "\n";
          if (!f.actual.empty()) std::cout << "      actual:   " << f.actual << "\n";
        }
        for (const reports::ThresholdResult& t : r.thresholds) {
          if (!t.passed) std::cout << "    threshold " << t.expression << " broken: observed " << t.observed << " " << t.message << "\n";
        }
        if (r.status == reports::Outcome::kError && r.failures.empty()) {
          std::cout << "    error: " << r.skip_reason << "\n";
        }
        std::cout << "    seed " << r.seed << TraceHashText(options.target, r.trace_hash) << "\n";
        std::cout << "    reproduce: " << r.reproduce << "\n";
      } else if (flags.verbose) {
        std::cout << "    seed " << r.seed << TraceHashText(options.target, r.trace_hash) << "\n";
      }
      if (r.status == reports::Outcome::kPass) {
        for (const reports::ThresholdResult& t : r.thresholds) {
          if (!t.passed) std::cout << "    threshold " << t.expression << " broken: observed " << t.observed << "\n";
        }
      }
    }
  }
  report.trace_hash = report.CombinedTraceHash();
  return report;
}

// Each bug's suite runs in a child process (app/mutation.h): a bug that crashes wpsim is
// reported as CRASHED and the table goes on. Only a scenario that passes without the bug and
// FAILS with it kills the bug; one that only errors is reported apart (ERRORED).
int RunMutation(const std::vector<Scenario>& scenarios, conformance::RunnerOptions options,
                const RunFlags& flags) {
  if (options.target != Target::kSim) {
    std::cerr << "wpsim run --mutation: injected bugs need --target sim\n";
    return kExitUsage;
  }
  const int64_t wall0 = WallNanos();
  reports::RunReport clean = RunAll(scenarios, options, flags, true);
  const reports::Totals clean_totals = clean.ComputeTotals();
  std::cout << "baseline (no bug): " << clean_totals.passed << " passed, " << clean_totals.failed + clean_totals.errors
            << " failed, " << clean_totals.skipped << " skipped\n";
  std::vector<reports::Outcome> baseline;
  for (const reports::ScenarioResult& r : clean.scenarios) baseline.push_back(r.status);
  std::cout << "\nmutation kill table\n";
  size_t killed = 0;
  size_t crashed = 0;
  size_t errored = 0;
  const auto& bugs = service::AllBugs();
  auto names = [&scenarios](const std::vector<size_t>& which) {
    std::string by;
    for (size_t i = 0; i < which.size() && i < 3; ++i) by += (i ? ", " : "") + scenarios[which[i]].name;
    if (which.size() > 3) by += ", +" + std::to_string(which.size() - 3) + " more";
    return by;
  };
  for (const auto& [bug, description] : bugs) {
    conformance::RunnerOptions o = options;
    o.extra_bugs = {bug};
    // The child reports each scenario's outcome as one byte as soon as it has it, so a crash
    // still tells which scenarios ran and which one was running.
    const ChildResult child = RunInChild([&](const std::function<void(std::string_view)>& emit) {
      for (const Scenario& sc : scenarios) {
        reports::RunReport rep = RunAll({sc}, o, flags, true);
        const char outcome = static_cast<char>('0' + static_cast<int>(rep.scenarios.at(0).status));
        emit(std::string_view(&outcome, 1));
      }
    });
    std::vector<reports::Outcome> now;
    for (char c : child.output) now.push_back(static_cast<reports::Outcome>(c - '0'));
    const MutationOutcome m = JudgeMutation(baseline, now, child.crashed);
    std::string word;
    std::string detail;
    switch (m.verdict) {
      case MutationVerdict::kKilled:
        ++killed;
        word = "KILLED";
        detail = "by " + names(m.killers);
        break;
      case MutationVerdict::kCrashed: {
        ++crashed;
        word = "CRASHED";
        detail = child.signal != 0 ? "signal " + std::to_string(child.signal)
                                   : "exit " + std::to_string(child.exit_code);
        if (now.size() < scenarios.size()) detail += " in " + scenarios[now.size()].name;
        detail += " (not a kill: no scenario failed)";
        break;
      }
      case MutationVerdict::kErrored:
        ++errored;
        word = "ERRORED";
        detail = "no scenario failed; errors in " + names(m.errored);
        break;
      case MutationVerdict::kSurvived:
        word = "SURVIVED";
        detail = std::string(description);
        break;
    }
    printf("  %-26s %-8s %s\n", std::string(service::BugName(bug)).c_str(), word.c_str(), detail.c_str());
  }
  printf("\n%zu of %zu injected bugs killed (%.0f%%), %zu crashed, %zu errored, in %s wall\n", killed, bugs.size(),
         bugs.empty() ? 100.0 : 100.0 * static_cast<double>(killed) / static_cast<double>(bugs.size()), crashed,
         errored, FormatMs(WallNanos() - wall0).c_str());
  return killed == bugs.size() ? kExitOk : kExitConformanceFailure;
}

// WPSIM_REAL_TIME_SCALE=N (real targets only): the time limits a loaded machine cannot keep —
// latency thresholds (percentiles, max, min, mean, stddev) and expectations' `within:` windows —
// are multiplied by N, and each scaled threshold says so in every report. For test suites on
// shared machines (tests/e2e/readme_test.py); unset, the limits are the scenario's.
// Returns the scale (1 when unset), or nullopt after printing why the value is wrong.
std::optional<double> RealTimeScale() {
  const char* text = std::getenv("WPSIM_REAL_TIME_SCALE");
  if (text == nullptr || *text == '\0') return 1.0;
  char* end = nullptr;
  const double scale = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(scale >= 1 && scale <= 100)) {
    std::cerr << "wpsim run: WPSIM_REAL_TIME_SCALE='" << text << "': give a number from 1 to 100\n";
    return std::nullopt;
  }
  return scale;
}

void ScaleTimeLimits(std::vector<Scenario>& scenarios, double scale) {
  char factor[32];
  std::snprintf(factor, sizeof factor, "%g", scale);
  for (Scenario& sc : scenarios) {
    for (conformance::Threshold& t : sc.thresholds) {
      switch (t.parsed.stat) {
        case reports::ThresholdStat::kPercentile:
        case reports::ThresholdStat::kMax:
        case reports::ThresholdStat::kMin:
        case reports::ThresholdStat::kMean:
        case reports::ThresholdStat::kStddev:
          t.parsed.limit *= scale;
          t.expression += std::string(" (limit x") + factor + " by WPSIM_REAL_TIME_SCALE)";
          break;
        default:
          break;
      }
    }
    for (conformance::Expectation& e : sc.expectations) {
      std::visit(
          [scale](auto& args) {
            if constexpr (requires { args.window.within_ns; }) {
              if (args.window.within_ns) {
                *args.window.within_ns =
                    static_cast<int64_t>(static_cast<double>(*args.window.within_ns) * scale);
              }
            }
          },
          e.args);
    }
  }
}

}  // namespace

void RegisterRun(CLI::App& sub, RunFlags& f) {
  sub.add_option("paths", f.paths, "Scenario files or directories (default: ./scenarios, else the installed suite)");
  sub.add_option("--target", f.target, "sim | local | remote")->check(CLI::IsMember({"sim", "local", "remote"}));
  sub.add_option("--connection-string", f.connection_string,
                 "Endpoint=...;AccessKey=... (default: env WebPubSubConnectionString)");
  sub.add_option("--ca", f.ca_file, "Extra CA certificates (PEM) for https/wss endpoints");
  sub.add_option("--listen", f.listen,
                 "local without a connection string: HOST:PORT of the in-process service (default 127.0.0.1:0)");
  sub.add_option("--upstream-listen", f.upstream_listen,
                 "Real targets: HOST:PORT where event-handler scenarios host their application server (point the hub's handler there)");
  sub.add_flag("--print-upstream-config", f.print_upstream_config,
               "Print the `wpsim serve --config` hubs that point the selected event-handler scenarios at --upstream-listen, and exit");
  sub.add_option("--hub-suffix", f.hub_suffix,
                 "Real targets: appended to every hub name; auto = a random one per run for an external service, none for the in-process one")
      ->capture_default_str();
  sub.add_option("--max-real-wait", f.max_real_wait,
                 "Real targets: skip scenarios whose declared waits exceed this (e.g. 30s; 0 = no limit)")
      ->capture_default_str();
  sub.add_option("--seed", f.seed, "Seed for every scenario (default: the scenario's, else 1)");
  // One value per use (repeat the flag for more), so a path after them stays a path.
  sub.add_option("--filter", f.filters, "Glob on scenario name or file (repeatable)")
      ->allow_extra_args(false);
  sub.add_option("--tags", f.tags, "Comma-separated tags; !t excludes")->allow_extra_args(false);
  sub.add_option("--repeat", f.repeat, "Run the selection N times")->check(CLI::Range(1, 100000));
  sub.add_option("--shard", f.shard, "Run shard i of n (1-based), e.g. 2/8");
  AddReportFileOptions(sub, f.reports);
  sub.add_flag("--verbose,-v", f.verbose, "Print steps, seeds and trace hashes");
  sub.add_flag("--mutation", f.mutation, "Run the suite once per injectable service bug; print the kill table");
  sub.add_flag("--perturb", f.perturb, "Sim: break scheduler ties and jitter delays from the seed");
  sub.add_option("--inject-bug", f.inject_bugs, "Sim: switch on a service bug (see wpsim serve --list-bugs)")
      ->allow_extra_args(false);
  sub.add_flag("--list", f.list,
               "List the selected scenarios (tags, case IDs) without running them; one scenario: its steps");
}

int RunRun(const RunFlags& flags, const std::vector<std::string>& argv) {
  if (flags.list) {
    Selection sel = Select(flags);
    if (sel.exit_code != kExitOk) return sel.exit_code;
    if (sel.scenarios.empty()) {
      std::cerr << "wpsim run --list: no scenario matches the paths, --filter and --tags given\n";
      return kExitUsage;
    }
    PrintScenarioList(sel.scenarios, stdout);
    return kExitOk;
  }
  if (flags.print_upstream_config) {
    if (flags.upstream_listen.empty()) {
      std::cerr << "wpsim run --print-upstream-config: give --upstream-listen HOST:PORT (the address "
                   "the service's event handlers will call)\n";
      return kExitUsage;
    }
    Result<sim::Address> at = sim::Address::Parse(flags.upstream_listen);
    if (!at.ok() || at->port == 0) {
      std::cerr << "wpsim run: --upstream-listen: "
                << (at.ok() ? "the port cannot be 0 here (the configuration must name it)" : at.error().message)
                << "\n";
      return kExitUsage;
    }
    Selection sel = Select(flags);
    if (sel.exit_code != kExitOk) return sel.exit_code;
    std::vector<const Scenario*> with_upstream;
    for (const Scenario& sc : sel.scenarios) {
      if (sc.upstream.present) with_upstream.push_back(&sc);
    }
    if (with_upstream.empty()) {
      std::cerr << "wpsim run --print-upstream-config: no selected scenario has an upstream: section\n";
      return kExitUsage;
    }
    std::cout << conformance::UpstreamServeConfig(with_upstream, flags.upstream_listen);
    return kExitOk;
  }
  std::optional<Target> target = ParseTargetName(flags.target);
  if (!target) {
    std::cerr << "wpsim run: unknown target '" << flags.target << "'\n";
    return kExitUsage;
  }
  conformance::RunnerOptions options;
  options.target = *target;
  options.seed = flags.seed;
  options.verbose = flags.verbose;
  options.ca_file = flags.ca_file;
  if (flags.perturb) options.perturb = true;
  options.connection_string = flags.connection_string;
  if (options.connection_string.empty()) {
    if (const char* env = std::getenv("WebPubSubConnectionString")) options.connection_string = env;
  }
  // Without --ca, trust what OpenSSL-based tools (curl, Python) trust through SSL_CERT_FILE, as
  // the line `wpsim serve --tls` prints sets it (the system store plus its development CA).
  if (options.ca_file.empty() && *target != Target::kSim && !options.connection_string.empty()) {
    if (const char* env = std::getenv("SSL_CERT_FILE"); env != nullptr && env[0] != '\0') {
      if (access(env, R_OK) != 0) {
        std::cerr << "wpsim run: SSL_CERT_FILE: cannot read " << env
                  << " (unset it, or point it at a PEM bundle)\n";
        return kExitUsage;
      }
      options.ca_file = env;
    }
  }
  if (*target == Target::kRemote && options.connection_string.empty()) {
    std::cerr << "wpsim run: --target remote needs --connection-string or WebPubSubConnectionString\n";
    return kExitUsage;
  }
  if (*target != Target::kSim && !options.connection_string.empty()) {
    Result<protocol::auth::ConnectionString> cs = protocol::auth::ParseConnectionString(options.connection_string);
    if (!cs.ok()) {
      std::cerr << "wpsim run: connection string: " << cs.error().message << "\n";
      return kExitUsage;
    }
  }
  if (*target == Target::kSim && (!flags.connection_string.empty() || !flags.ca_file.empty() ||
                                  !flags.listen.empty() || !flags.upstream_listen.empty())) {
    std::cerr << "wpsim run: --connection-string, --ca, --listen and --upstream-listen need --target local or remote\n";
    return kExitUsage;
  }
  if (!flags.upstream_listen.empty()) {
    const bool external = *target == Target::kRemote || !options.connection_string.empty();
    Result<sim::Address> at = sim::Address::Parse(flags.upstream_listen);
    if (!at.ok()) {
      std::cerr << "wpsim run: --upstream-listen: " << at.error().message << "\n";
      return kExitUsage;
    }
    if (external && at->port == 0) {
      std::cerr << "wpsim run: --upstream-listen: give a port (0 is only for the in-process service: "
                   "a running service's handler must name it)\n";
      return kExitUsage;
    }
    options.upstream_listen = flags.upstream_listen;
  }
  if (!flags.listen.empty()) {
    if (*target != Target::kLocal || !options.connection_string.empty()) {
      std::cerr << "wpsim run: --listen is for --target local without a connection string (the in-process service)\n";
      return kExitUsage;
    }
    Result<sim::Address> listen = sim::Address::Parse(flags.listen);
    if (!listen.ok()) {
      std::cerr << "wpsim run: --listen: " << listen.error().message << "\n";
      return kExitUsage;
    }
    options.listen = flags.listen;
  }
  if (!flags.ca_file.empty() && access(flags.ca_file.c_str(), R_OK) != 0) {
    std::cerr << "wpsim run: --ca: cannot read " << flags.ca_file << "\n";
    return kExitUsage;
  }
  {
    Result<int64_t> wait = conformance::ParseDuration(flags.max_real_wait);
    if (flags.max_real_wait == "0") {
      options.max_real_wait_ns = 0;
    } else if (!wait.ok()) {
      std::cerr << "wpsim run: --max-real-wait: " << wait.error().message << "\n";
      return kExitUsage;
    } else {
      options.max_real_wait_ns = wait.value();
    }
  }
  if (*target != Target::kSim) {
    const bool external = *target == Target::kRemote || !options.connection_string.empty();
    if (flags.hub_suffix == "auto") {
      if (external) options.hub_suffix = conformance::RandomHubSuffix();
    } else if (flags.hub_suffix != "none") {
      for (char c : flags.hub_suffix) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_`,.[]").find(c) == std::string_view::npos) {
          std::cerr << "wpsim run: --hub-suffix: '" << c << "' cannot appear in a hub name\n";
          return kExitUsage;
        }
      }
      options.hub_suffix = flags.hub_suffix;
    }
    if (!options.hub_suffix.empty()) std::cout << "hub suffix " << options.hub_suffix << "\n";
  }
  if (!ParseBugNames(flags.inject_bugs, "run", options.extra_bugs)) return kExitUsage;
  Selection sel = Select(flags);
  if (sel.exit_code != kExitOk) return sel.exit_code;
  if (sel.scenarios.empty()) {
    std::cerr << "wpsim run: no scenario matches the paths, --filter and --tags given (`wpsim run --list` shows names and tags)\n";
    return kExitUsage;
  }
  if (*target != Target::kSim) {
    const std::optional<double> scale = RealTimeScale();
    if (!scale) return kExitUsage;
    if (*scale != 1) {
      ScaleTimeLimits(sel.scenarios, *scale);
      std::cout << "WPSIM_REAL_TIME_SCALE=" << *scale
                << ": latency thresholds and within: windows multiplied by it\n";
    }
  }
  if (flags.mutation) return RunMutation(sel.scenarios, options, flags);
  if (!options.upstream_listen.empty()) {
    size_t n = 0;
    for (const Scenario& sc : sel.scenarios) n += sc.upstream.present ? 1 : 0;
    if (n > 0) {
      const bool external = *target == Target::kRemote || !options.connection_string.empty();
      std::cout << "application server (event handlers) of " << n << " scenario(s) on http://"
                << options.upstream_listen << "/";
      if (external) {
        std::cout << "<hub>/...: the service's handlers must call it (`wpsim run ... --upstream-listen "
                  << options.upstream_listen << " --print-upstream-config` writes them for wpsim serve --config)";
      }
      std::cout << "\n";
    }
  }

  const int64_t wall0 = WallNanos();
  reports::RunReport report = RunAll(sel.scenarios, options, flags, false, &sel.ordinals, sel.suite_size);
  StampRun(report, argv, WallNanos() - wall0);

  const reports::Totals totals = report.ComputeTotals();
  std::cout << "\nseed " << report.seed
            << (*target == Target::kSim ? ", run trace hash " + reports::FormatTraceHash(report.trace_hash) : "")
            << ", " << FormatMs(report.run.duration_ns) << " wall\n";
  if (!WriteRequestedReports(report, flags.reports, "run")) return kExitUsage;
  std::cout << totals.passed << " passed, " << totals.failed + totals.errors << " failed, " << totals.skipped
            << " skipped\n";
  return ExitCodeOf(report.ComputeVerdict());
}

}  // namespace wpsim::app
