#include "app/explore.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "app/cli.h"
#include "conformance/explore.h"
#include "conformance/loader.h"
#include "conformance/suite.h"
#include "reports/json_report.h"
#include "reports/reports.h"
#include "service/options.h"

namespace wpsim::app {
namespace {

struct Picked {
  std::string file;
  std::string text;
  std::string name;
};

// Finds the one scenario FILE (and --filter) name; prints why not and returns nullopt.
std::optional<Picked> PickScenario(const ExploreFlags& flags) {
  conformance::ScenarioFilter filter;
  filter.globs = flags.filters;
  conformance::Suite suite = conformance::LoadSuite({flags.path}, filter);
  if (!suite.ok()) {
    std::cerr << conformance::FormatDiagnostics(suite.diagnostics);
    std::cerr << "wpsim explore: " << suite.diagnostics.size() << " problem(s) in scenario files\n";
    return std::nullopt;
  }
  if (suite.scenarios.size() != 1) {
    std::cerr << "wpsim explore: " << suite.scenarios.size()
              << " scenarios match; explore takes exactly one (use --filter NAME)\n";
    for (size_t i = 0; i < suite.scenarios.size() && i < 10; ++i) std::cerr << "  " << suite.scenarios[i].name << "\n";
    return std::nullopt;
  }
  Picked p;
  p.file = suite.scenarios[0].file;
  p.name = suite.scenarios[0].name;
  std::ifstream in(p.file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    std::cerr << "wpsim explore: cannot read " << p.file << "\n";
    return std::nullopt;
  }
  p.text = ss.str();
  return p;
}

std::string SeedList(const std::vector<uint64_t>& seeds, size_t max_shown = 20) {
  std::string s;
  for (size_t i = 0; i < seeds.size() && i < max_shown; ++i) s += (i ? " " : "") + std::to_string(seeds[i]);
  if (seeds.size() > max_shown) s += " ... (+" + std::to_string(seeds.size() - max_shown) + ")";
  return s;
}

std::string OutPathFor(const ExploreFlags& flags, const std::string& name, size_t index) {
  std::string base = flags.out.empty() ? "wpsim-report/explore/" + name + ".yaml" : flags.out;
  if (index == 0) return base;
  std::filesystem::path p(base);
  std::string stem = p.stem().string() + "-" + std::to_string(index + 1);
  return (p.parent_path() / (stem + p.extension().string())).string();
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return out.good();
}

// The progress line of a long exploration, on stderr and only when stderr is a terminal:
// "seeds 1234/10000  2345 seeds/s  3 failing  12s left", redrawn at most every 100 ms of wall
// time and cleared before any other output and at the end.
class ProgressLine {
 public:
  ProgressLine(bool enabled, uint64_t total, double budget_s)
      : enabled_(enabled), total_(total), budget_s_(budget_s), start_(WallNanos()) {}
  ~ProgressLine() { Clear(); }
  // False once the time budget is spent.
  bool Update(uint64_t run, uint64_t failed) {
    const int64_t now = WallNanos();
    const double elapsed = static_cast<double>(now - start_) / 1e9;
    if (enabled_ && now - last_ >= 100'000'000) {
      last_ = now;
      const double rate = elapsed > 0 ? static_cast<double>(run) / elapsed : 0.0;
      char line[200];
      int n = snprintf(line, sizeof line, "\rseeds %llu/%llu  %.0f seeds/s  %llu failing",
                       static_cast<unsigned long long>(run), static_cast<unsigned long long>(total_), rate,
                       static_cast<unsigned long long>(failed));
      if (budget_s_ > 0 && n > 0 && static_cast<size_t>(n) < sizeof line) {
        snprintf(line + n, sizeof line - static_cast<size_t>(n), "  %.0fs left", std::max(0.0, budget_s_ - elapsed));
      } else if (rate > 0 && n > 0 && static_cast<size_t>(n) < sizeof line) {
        snprintf(line + n, sizeof line - static_cast<size_t>(n), "  ~%.0fs to go",
                 static_cast<double>(total_ - std::min(total_, run)) / rate);
      }
      fprintf(stderr, "%s\033[K", line);
      fflush(stderr);
      shown_ = true;
    }
    return budget_s_ <= 0 || elapsed < budget_s_;
  }
  void Clear() {
    if (!shown_) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  uint64_t total_;
  double budget_s_;
  int64_t start_;
  int64_t last_ = 0;
  bool shown_ = false;
};

// The command that replays `seed` as explored: `wpsim run` (the plan of a --swarm seed exists
// only inside explore, so those replay through explore itself).
std::vector<std::string> SeedReplay(const Picked& picked, uint64_t seed, const conformance::ExploreOptions& options) {
  std::vector<std::string> rep;
  if (options.swarm) {
    rep = {"wpsim", "explore", picked.file, "--filter", picked.name, "--swarm", "--start-seed", std::to_string(seed),
           "--seeds", "1", "--no-shrink"};
    if (!options.perturb) rep.push_back("--no-perturb");
  } else {
    rep = {"wpsim", "run", picked.file, "--filter", picked.name, "--seed", std::to_string(seed)};
    if (options.perturb) rep.push_back("--perturb");
  }
  for (service::Bug b : options.extra_bugs) {
    rep.push_back("--inject-bug");
    rep.push_back(std::string(service::BugName(b)));
  }
  return rep;
}

std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

// The observed outcome of scenario `name` in the JSON report `path`; prints why not.
std::optional<std::string> ObservedIn(const std::string& path, const std::string& name) {
  Result<reports::RunReport> report = reports::ReadJsonReportFile(path);
  if (!report.ok()) {
    std::cerr << "wpsim explore: --match " << path << ": " << report.error().message << "\n";
    return std::nullopt;
  }
  for (const reports::ScenarioResult& s : report.value().scenarios) {
    if (s.name != name) continue;
    if (s.observed.empty()) {
      std::cerr << "wpsim explore: --match " << path << ": the run of " << name
                << " recorded no observed outcome (only `wpsim run --target local|remote` records one, "
                   "and not past "
                << conformance::kRecordedOutcomeEventsMax << " observations)\n";
      return std::nullopt;
    }
    return s.observed;
  }
  std::cerr << "wpsim explore: --match " << path << " has no run of scenario " << name << "\n";
  return std::nullopt;
}

// --match: the seed loop until the report's outcome is reproduced, then the shrink.
int RunMatch(const ExploreFlags& flags, conformance::ExploreOptions& options, const Picked& picked,
             const std::vector<std::string>& argv, ProgressLine& bar) {
  options.progress = [&bar](std::string_view line) {
    bar.Clear();
    std::cout << line << "\n" << std::flush;
  };
  std::cout << "matching " << picked.name << " (" << picked.file << ") against " << flags.match << ": seeds "
            << options.start_seed << ".." << options.start_seed + options.seeds - 1 << ", perturbation "
            << (options.perturb ? "on" : "off") << (options.swarm ? ", swarm faults on" : "") << "\n";
  std::cout << "observed: " << options.match << "\n";
  const int64_t wall0 = WallNanos();
  Result<conformance::ExploreResult> explored = conformance::ExploreSeeds(picked.text, picked.file, options);
  if (!explored.ok()) {
    std::cerr << "wpsim explore: " << explored.error().message << (explored.error().message.ends_with("\n") ? "" : "\n");
    return kExitUsage;
  }
  conformance::ExploreResult& result = explored.value();
  bar.Clear();
  const double secs = static_cast<double>(WallNanos() - wall0) / 1e9;
  int code = kExitConformanceFailure;
  if (!result.matched_seed) {
    std::cout << "\nno seed of " << result.seeds_run << " reproduced the observed outcome (" << Seconds(secs)
              << " wall)" << (result.interrupted ? ", stopped by --time-budget" : "")
              << "; the most frequent outcomes instead:\n";
    for (const conformance::CensusEntry& c : result.near_misses) {
      std::cout << "  " << c.count << " x  seed " << c.first_seed << "  " << c.outcome << "\n";
    }
  } else {
    code = kExitOk;
    const uint64_t seed = *result.matched_seed;
    std::cout << "\nseed " << seed << " reproduces the observed outcome (after " << result.seeds_run << " seed(s), "
              << Seconds(secs) << " wall)\n";
    if (result.matched_plan) std::cout << "  swarm fault plan: " << result.matched_plan->Describe() << "\n";
    std::cout << "  replay: " << reports::ShellQuote(SeedReplay(picked, seed, options)) << "\n";
    if (!flags.no_shrink) {
      const std::string& text = result.matched_plan ? result.matched_yaml : picked.text;
      conformance::ShrinkResult s = conformance::ShrinkScenario(text, picked.file, seed, "", options);
      if (!s.reproduced) {
        std::cout << "  shrink: the re-emitted scenario did not reproduce the outcome; not shrunk\n";
      } else {
        std::cout << "  shrunk in " << s.runs << " runs" << (s.budget_exhausted ? " (budget exhausted)" : "")
                  << ": " << s.before.ToString() << " -> " << s.after.ToString() << "\n";
        const std::string out_path = OutPathFor(flags, picked.name, 0);
        const std::string header = "# Scenario found by `wpsim explore " + picked.file + " --match " + flags.match +
                                   "`: seed " + std::to_string(seed) + " reproduces the observed outcome\n# " +
                                   options.match + "\n";
        if (!WriteFile(out_path, header + s.yaml)) {
          std::cerr << "wpsim explore: cannot write " << out_path << "\n";
          return kExitUsage;
        }
        conformance::LoadResult loaded = conformance::LoadScenarioPath(out_path);
        bool ok = false;
        if (loaded.ok()) {
          conformance::RunnerOptions ro;
          ro.seed = seed;
          if (options.perturb) ro.perturb = true;
          ro.extra_bugs = options.extra_bugs;
          reports::ScenarioResult& check = result.report.scenarios.emplace_back();
          check.file = loaded.scenario->file;
          check.name = loaded.scenario->name + " [matched, seed " + std::to_string(seed) + "]";
          ok = conformance::RunAndDescribe(*loaded.scenario, ro, check) == options.match;
          check.observed = options.match;
        }
        std::cout << "  minimal scenario: " << out_path << "\n";
        std::cout << "  reproduce: " << reports::ShellQuote(conformance::ReproduceArgv(out_path, seed, options))
                  << (ok ? "" : "   (WARNING: the written file did not reproduce the outcome)") << "\n";
      }
    }
  }
  reports::RunReport& report = result.report;
  report.trace_hash = report.CombinedTraceHash();
  StampRun(report, argv, WallNanos() - wall0);
  if (!WriteRequestedReports(report, flags.reports, "explore")) return kExitUsage;
  return code;
}

}  // namespace

void RegisterExplore(CLI::App& sub, ExploreFlags& f) {
  sub.add_option("file", f.path, "Scenario file (or a directory, with --filter picking one scenario)")->required();
  sub.add_option("--filter", f.filters, "Glob on scenario name or file (must select exactly one scenario)");
  sub.add_option("--target", f.target, "Only sim can be explored");
  sub.add_option("--seeds", f.seeds, "Number of seeds to run")->capture_default_str()->check(CLI::Range(1, 100000000));
  sub.add_option("--start-seed", f.start_seed, "First seed")->capture_default_str();
  sub.add_flag("--no-perturb", f.no_perturb, "Do not perturb the scheduler (only the seed varies)");
  sub.add_option("--inject-bug", f.inject_bugs, "Switch on a service bug (see wpsim serve --list-bugs); repeatable");
  sub.add_option("--stop-after", f.stop_after,
                 "Stop exploring after K distinct failures (0: run every seed)")->capture_default_str();
  sub.add_flag("--no-shrink", f.no_shrink, "Report failing seeds without shrinking");
  sub.add_option("--shrink-budget", f.shrink_budget, "Scenario runs allowed per shrink")
      ->capture_default_str()->check(CLI::Range(1, 10000000));
  sub.add_option("--check-seeds", f.check_seeds, "Seeds the minimal scenario is retried under")->capture_default_str();
  sub.add_option("--out", f.out, "Minimal scenario file (default wpsim-report/explore/<name>.yaml; -2, -3 ... for further failures)");
  AddReportFileOptions(sub, f.reports, " of the failing seeds");
  sub.add_flag("--verbose,-v", f.verbose, "Print every failing seed and every accepted shrink step");
  sub.add_option("--census", f.census,
                 "Run N seeds (every one: implies --seeds N --stop-after 0) and print the distinct "
                 "observable outcomes with counts and the first seed of each")
      ->check(CLI::Range(1, 100000000));
  sub.add_flag("--swarm", f.swarm,
               "Every seed also draws a fault plan (latency, loss, partitions, ...) from the "
               "scenario's swarm: ranges; a failure's plan is written into its minimal scenario");
  sub.add_option("--time-budget", f.time_budget,
                 "Stop the seed loop after this many seconds of wall time (shrinking still follows)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--match", f.match,
                 "JSON report of a `wpsim run --target local|remote` of this scenario: search the seeds "
                 "for a simulated run whose observed outcome equals the real one, then shrink it");
}

int RunExplore(const ExploreFlags& flags, const std::vector<std::string>& argv) {
  if (flags.target != "sim") {
    std::cerr << "wpsim explore: only the sim target can be explored (seeds and perturbation are simulator features)\n";
    return kExitUsage;
  }
  conformance::ExploreOptions options;
  options.seeds = flags.seeds;
  options.start_seed = flags.start_seed;
  options.perturb = !flags.no_perturb;
  options.stop_after = flags.stop_after;
  options.shrink = !flags.no_shrink;
  options.shrink_budget = flags.shrink_budget;
  options.check_seeds = flags.check_seeds;
  options.verbose = flags.verbose;
  options.swarm = flags.swarm;
  if (flags.census > 0) {
    options.census = true;
    options.seeds = flags.census;
    options.stop_after = 0;
  }
  if (!ParseBugNames(flags.inject_bugs, "explore", options.extra_bugs)) return kExitUsage;
  std::optional<Picked> picked = PickScenario(flags);
  if (!picked) return kExitUsage;
  if (!flags.match.empty()) {
    if (options.census) {
      std::cerr << "wpsim explore: --match and --census do not go together\n";
      return kExitUsage;
    }
    std::optional<std::string> observed = ObservedIn(flags.match, picked->name);
    if (!observed) return kExitUsage;
    options.match = *observed;
    options.stop_after = 0;
    ProgressLine bar(isatty(STDERR_FILENO) != 0, options.seeds, flags.time_budget);
    options.on_seed = [&bar](uint64_t run, uint64_t failed) { return bar.Update(run, failed); };
    return RunMatch(flags, options, *picked, argv, bar);
  }
  ProgressLine bar(isatty(STDERR_FILENO) != 0, options.seeds, flags.time_budget);
  options.progress = [&bar](std::string_view line) {
    bar.Clear();
    std::cout << line << "\n" << std::flush;
  };
  options.on_seed = [&bar](uint64_t run, uint64_t failed) { return bar.Update(run, failed); };

  std::cout << "exploring " << picked->name << " (" << picked->file << "): seeds " << options.start_seed << ".."
            << options.start_seed + options.seeds - 1 << ", perturbation " << (options.perturb ? "on" : "off")
            << (options.swarm ? ", swarm faults on" : "");
  for (service::Bug b : options.extra_bugs) std::cout << ", bug " << service::BugName(b);
  std::cout << "\n";
  const int64_t wall0 = WallNanos();
  Result<conformance::ExploreResult> explored = conformance::ExploreSeeds(picked->text, picked->file, options);
  if (!explored.ok()) {
    std::cerr << "wpsim explore: " << explored.error().message << (explored.error().message.ends_with("\n") ? "" : "\n");
    return kExitUsage;
  }
  conformance::ExploreResult& result = explored.value();
  const int64_t explore_wall = WallNanos() - wall0;
  bar.Clear();
  if (options.shrink) conformance::ShrinkFailures(picked->text, picked->file, options, result);
  const int64_t wall = WallNanos() - wall0;

  std::cout << "\n" << result.seeds_failed << " of " << result.seeds_run << " seeds failed"
            << (result.stopped_early ? " (stopped after " + std::to_string(result.failures.size()) +
                                           " distinct failure(s); --stop-after 0 runs every seed)"
                                     : "")
            << (result.interrupted ? " (stopped by --time-budget)" : "") << ", " << result.failures.size()
            << " distinct failure(s)\n";

  if (options.census) {
    std::cout << "\ncensus: " << result.census.size() << " distinct outcome(s) in " << result.seeds_run
              << " seeds (count, first seed, outcome per member; replay one with the command below it)\n";
    constexpr size_t kShown = 30;
    for (size_t i = 0; i < result.census.size() && i < kShown; ++i) {
      const conformance::CensusEntry& c = result.census[i];
      std::string text = c.outcome;
      if (text.size() > 300) text = text.substr(0, 297) + "...";
      std::cout << "  " << c.count << " x  seed " << c.first_seed << (c.failed ? "  FAIL" : "") << "  " << text << "\n";
      std::cout << "      " << reports::ShellQuote(SeedReplay(*picked, c.first_seed, options)) << "\n";
    }
    result.report.census_scenario = picked->name;
    result.report.census_seeds = result.seeds_run;
    for (const conformance::CensusEntry& c : result.census) {
      result.report.census.push_back(reports::CensusRow{c.outcome, c.count, c.first_seed, c.failed,
                                                        reports::ShellQuote(SeedReplay(*picked, c.first_seed, options))});
    }
    if (result.census.size() > kShown) {
      std::cout << "  ... " << result.census.size() - kShown << " more outcome(s) (all of them in --json/--html)\n";
    }
  }

  for (size_t i = 0; i < result.failures.size(); ++i) {
    conformance::FoundFailure& f = result.failures[i];
    std::cout << "\nfailure #" << i + 1 << ": " << f.signature << "\n";
    std::cout << "  failing seeds (" << f.seeds.size() << "): " << SeedList(f.seeds) << "\n";
    const uint64_t seed = f.seeds.front();
    if (f.swarm_plan) std::cout << "  swarm fault plan of seed " << seed << ": " << f.swarm_plan->Describe() << "\n";
    if (!f.shrunk) {
      std::cout << "  reproduce: " << reports::ShellQuote(SeedReplay(*picked, seed, options)) << "\n";
      continue;
    }
    const conformance::ShrinkResult& s = *f.shrunk;
    if (!s.reproduced) {
      std::cout << "  shrink: the re-emitted scenario did not fail the same way; not shrunk\n";
      continue;
    }
    std::cout << "  shrunk with seed " << seed << " in " << s.runs << " runs"
              << (s.budget_exhausted ? " (budget exhausted)" : "") << ", " << s.steps.size() << " accepted step(s)\n";
    std::cout << (s.control_required
                      ? "  control: kept only candidates that pass with this seed without perturbation and injected bugs\n"
                      : "  control: the scenario fails even without perturbation and injected bugs; shrunk by signature only\n");
    std::cout << "    before: " << s.before.ToString() << "\n";
    std::cout << "    after:  " << s.after.ToString() << "\n";
    std::cout << "  seed dependence: fails without perturbation: " << (f.fails_without_perturbation ? "yes" : "no")
              << "; fails under " << f.check_seeds_failed << " of " << f.check_seeds_run << " seeds "
              << options.start_seed << ".." << options.start_seed + f.check_seeds_run - 1 << "\n";
    const std::string out_path = OutPathFor(flags, picked->name, i);
    std::string header = "# Minimal scenario found by `wpsim explore " + picked->file + "` with seed " +
                         std::to_string(seed) + (options.perturb ? " and perturbation" : "") + ".\n# Fails with: " +
                         f.first_message + "\n# Shrunk from " + s.before.ToString() + "\n#         to " +
                         s.after.ToString() + "\n" +
                         (f.swarm_plan ? "# Swarm fault plan of the seed (the async parallel block of the first step, "
                                         "as far as shrinking kept it): " +
                                             f.swarm_plan->Describe() + "\n"
                                       : "");
    if (!WriteFile(out_path, header + s.yaml)) {
      std::cerr << "wpsim explore: cannot write " << out_path << "\n";
      return kExitUsage;
    }
    reports::ScenarioResult& check = result.report.scenarios.emplace_back();
    const bool ok = conformance::Reproduces(out_path, seed, f.signature, options, check);
    check.name += " [shrunk, seed " + std::to_string(seed) + "]";
    check.ordinal = result.report.scenarios.size() - 1;
    std::cout << "  minimal scenario: " << out_path << "\n";
    std::cout << "  reproduce: " << reports::ShellQuote(conformance::ReproduceArgv(out_path, seed, options))
              << (ok ? "" : "   (WARNING: the written file did not reproduce the failure)") << "\n";
  }

  size_t shrink_runs = 0;
  for (const conformance::FoundFailure& f : result.failures) shrink_runs += f.shrunk ? f.shrunk->runs : 0;
  const double secs = static_cast<double>(explore_wall) / 1e9;
  const double shrink_secs = static_cast<double>(wall - explore_wall) / 1e9;
  char rate[160];
  snprintf(rate, sizeof rate, "explored %llu seeds in %.2fs wall (%.0f seeds/s); shrinking: %zu runs in %.2fs wall",
           static_cast<unsigned long long>(result.seeds_run), secs,
           secs > 0 ? static_cast<double>(result.seeds_run) / secs : 0.0, shrink_runs, shrink_secs);
  std::cout << "\n" << rate << "\n";

  reports::RunReport& report = result.report;
  report.trace_hash = report.CombinedTraceHash();
  StampRun(report, argv, wall);
  if (!WriteRequestedReports(report, flags.reports, "explore")) return kExitUsage;
  return result.failures.empty() ? kExitOk : kExitConformanceFailure;
}

}  // namespace wpsim::app
