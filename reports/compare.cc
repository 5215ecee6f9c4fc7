#include "reports/compare.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "reports/threshold.h"

namespace wpsim::reports {
namespace {

std::string ScenarioId(const ScenarioResult& s) { return s.file + " :: " + s.name; }

// A statistic of CompareOptions::statistics, resolved.
struct Statistic {
  std::string name;
  enum Kind { kPercentile, kMax, kMin, kMean } kind = kPercentile;
  double percentile = 0;
};

Result<std::vector<Statistic>> ParseStatistics(const std::vector<std::string>& names) {
  std::vector<Statistic> out;
  for (const std::string& name : names) {
    Statistic s;
    s.name = name;
    if (name == "max") {
      s.kind = Statistic::kMax;
    } else if (name == "min") {
      s.kind = Statistic::kMin;
    } else if (name == "mean") {
      s.kind = Statistic::kMean;
    } else if (name.size() > 1 && name[0] == 'p') {
      double p = 0;
      auto res = std::from_chars(name.data() + 1, name.data() + name.size(), p);
      if (res.ec != std::errc() || res.ptr != name.data() + name.size() || p < 0 || p > 100) {
        return MakeError("bad_option", "unknown statistic \"" + name +
                                           "\" (expected pNN such as p99.9, max, min or mean)");
      }
      s.percentile = p;
    } else {
      return MakeError("bad_option", "unknown statistic \"" + name +
                                         "\" (expected pNN such as p99.9, max, min or mean)");
    }
    out.push_back(s);
  }
  return out;
}

int64_t Evaluate(const Histogram& h, const Statistic& s) {
  switch (s.kind) {
    case Statistic::kMax: return h.max();
    case Statistic::kMin: return h.min();
    case Statistic::kMean: return std::llround(h.mean());
    case Statistic::kPercentile: return h.ValueAtPercentile(s.percentile);
  }
  return 0;
}

std::string Pad(std::string s, size_t width, bool right = false) {
  // Width in characters (UTF-8 aware enough for µ).
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  if (chars >= width) return s;
  const std::string fill(width - chars, ' ');
  return right ? fill + s : s + fill;
}

std::string Percent(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
  std::string s(buf, res.ptr);
  if (v >= 0) s = "+" + s;
  return s + "%";
}

int Severity(Outcome o) {
  switch (o) {
    case Outcome::kSkip: return 0;
    case Outcome::kPass: return 1;
    case Outcome::kFail: return 2;
    case Outcome::kError: return 3;
  }
  return 0;
}

}  // namespace

std::string CompareOutcome::Table() const {
  // Column widths fitted to the content (benchstat style), so the table aligns for any label.
  size_t series_w = 6, stat_w = 4, old_w = 3, new_w = 3, delta_w = 5;
  auto chars = [](const std::string& t) {
    size_t n = 0;
    for (unsigned char c : t) n += (c & 0xC0) != 0x80;
    return n;
  };
  struct Cells {
    std::string old_s, new_s, delta_s;
  };
  std::vector<Cells> cells;
  for (const CompareRow& r : rows) {
    Cells c{FormatDurationNs(static_cast<double>(r.old_ns)),
            FormatDurationNs(static_cast<double>(r.new_ns)), Percent(r.delta_percent)};
    series_w = std::max(series_w, chars(r.series));
    stat_w = std::max(stat_w, chars(r.statistic));
    old_w = std::max(old_w, chars(c.old_s));
    new_w = std::max(new_w, chars(c.new_s));
    delta_w = std::max(delta_w, chars(c.delta_s));
    cells.push_back(std::move(c));
  }
  std::string out;
  if (!rows.empty()) {
    out += "  " + Pad("series", series_w) + "  " + Pad("stat", stat_w) + "  " +
           Pad("old", old_w, true) + "  " + Pad("new", new_w, true) + "  " +
           Pad("delta", delta_w, true) + "\n";
  }
  std::string current;
  for (size_t i = 0; i < rows.size(); ++i) {
    const CompareRow& r = rows[i];
    if (r.scenario != current) {
      current = r.scenario;
      out += current + "\n";
    }
    out += "  " + Pad(r.series, series_w) + "  " + Pad(r.statistic, stat_w) + "  " +
           Pad(cells[i].old_s, old_w, true) + "  " + Pad(cells[i].new_s, new_w, true) + "  " +
           Pad(cells[i].delta_s, delta_w, true) + (r.regressed ? "  REGRESSION" : "") + "\n";
  }
  for (const std::string& s : status_changes) out += "status: " + s + "\n";
  for (const std::string& s : only_in_old) out += "only in old: " + s + "\n";
  for (const std::string& s : only_in_new) out += "only in new: " + s + "\n";
  size_t regressed = 0;
  for (const CompareRow& r : rows) regressed += r.regressed;
  out += regression ? "regression: " + std::to_string(regressed) + " statistic(s) beyond tolerance" +
                          (status_changes.empty() ? std::string()
                                                  : ", " + std::to_string(status_changes.size()) +
                                                        " status change(s)") +
                          "\n"
                    : "no regression (" + std::to_string(rows.size()) + " statistic(s) compared)\n";
  return out;
}

Result<CompareOutcome> CompareReports(const RunReport& old_report, const RunReport& new_report,
                                      const CompareOptions& options) {
  if (!(options.tolerance_percent >= 0)) {
    return MakeError("bad_option", "tolerance must be a non-negative percentage");
  }
  Result<std::vector<Statistic>> stats = ParseStatistics(options.statistics);
  if (!stats.ok()) return stats.error();
  auto wanted = [&options](Metric m) {
    return options.metrics.empty() ||
           std::find(options.metrics.begin(), options.metrics.end(), m) != options.metrics.end();
  };

  std::map<std::string, const ScenarioResult*> old_by_id;
  for (const ScenarioResult& s : old_report.scenarios) old_by_id.emplace(ScenarioId(s), &s);
  std::set<std::string> seen;
  CompareOutcome out;
  for (const ScenarioResult& neu : new_report.scenarios) {
    const std::string id = ScenarioId(neu);
    seen.insert(id);
    auto it = old_by_id.find(id);
    if (it == old_by_id.end()) {
      out.only_in_new.push_back(id);
      continue;
    }
    const ScenarioResult& old = *it->second;
    if (options.status_regressions && Severity(neu.status) >= 2 && old.status == Outcome::kPass) {
      out.status_changes.push_back(id + ": " + std::string(ToString(old.status)) + " -> " +
                                   std::string(ToString(neu.status)));
      out.regression = true;
    }
    for (const auto& [key, series] : neu.latency) {
      if (!wanted(key.metric) || series.histogram.empty()) continue;
      auto old_series = old.latency.find(key);
      if (old_series == old.latency.end() || old_series->second.histogram.empty()) continue;
      for (const Statistic& st : *stats) {
        CompareRow row;
        row.scenario = id;
        row.series = key.Label();
        row.statistic = st.name;
        row.old_ns = Evaluate(old_series->second.histogram, st);
        row.new_ns = Evaluate(series.histogram, st);
        if (row.old_ns > 0) {
          row.delta_percent = static_cast<double>(row.new_ns - row.old_ns) /
                              static_cast<double>(row.old_ns) * 100.0;
        }
        row.regressed = static_cast<double>(row.new_ns) >
                            static_cast<double>(row.old_ns) *
                                (1.0 + options.tolerance_percent / 100.0) &&
                        row.new_ns - row.old_ns > options.noise_floor_ns;
        out.regression |= row.regressed;
        out.rows.push_back(std::move(row));
      }
    }
  }
  for (const ScenarioResult& s : old_report.scenarios) {
    if (!seen.count(ScenarioId(s))) out.only_in_old.push_back(ScenarioId(s));
  }
  return out;
}

namespace {

Status MergeScenarioInto(ScenarioResult& into, const ScenarioResult& from) {
  if (from.histogram_significant_digits != into.histogram_significant_digits) {
    return MakeError("merge_mismatch", ScenarioId(from) +
                                           ": histograms have different significant digits");
  }
  for (const auto& [key, series] : from.latency) {
    LatencySeries& target = into.Latency(key);
    Status s = target.histogram.Merge(series.histogram);
    if (!s.ok()) return s;
    target.coordinated_omission_corrected |= series.coordinated_omission_corrected;
  }
  for (const auto& [name, count] : from.counters) into.counters[name] += count;
  for (const auto& [name, series] : from.throughput) {
    auto it = into.throughput.find(name);
    if (it == into.throughput.end()) {
      into.throughput.emplace(name, series);
      continue;
    }
    ThroughputSeries& target = it->second;
    if (target.interval_ns != series.interval_ns) {
      return MakeError("merge_mismatch", ScenarioId(from) + ": throughput series \"" + name +
                                             "\" has different intervals in different shards");
    }
    for (size_t i = 0; i < series.counts.size(); ++i) {
      if (series.counts[i] == 0) continue;
      target.Add(series.start_ns + static_cast<int64_t>(i) * series.interval_ns,
                 series.counts[i]);
    }
    target.dropped += series.dropped;
  }
  into.cases.insert(into.cases.end(), from.cases.begin(), from.cases.end());
  into.failures.insert(into.failures.end(), from.failures.begin(), from.failures.end());
  for (const std::string& tag : from.tags) {
    if (std::find(into.tags.begin(), into.tags.end(), tag) == into.tags.end()) {
      into.tags.push_back(tag);
    }
  }
  if (Severity(from.status) > Severity(into.status)) {
    into.status = from.status;
    if (!from.reproduce.empty()) into.reproduce = from.reproduce;
  }
  if (into.status != Outcome::kSkip) into.skip_reason.clear();
  into.duration_ns = std::max(into.duration_ns, from.duration_ns);
  into.wall_duration_ns = std::max(into.wall_duration_ns, from.wall_duration_ns);
  into.ordinal = std::min(into.ordinal, from.ordinal);
  if (into.sequence.empty()) into.sequence = from.sequence;
  return Status::Ok();
}

// Re-evaluates thresholds over merged data; an expression that no longer parses (written by
// another version) keeps its recorded result.
template <typename Data>
void Reevaluate(std::vector<ThresholdResult>& thresholds, const Data& data) {
  for (ThresholdResult& t : thresholds) {
    Result<Threshold> parsed = ParseThreshold(t.expression);
    if (parsed.ok()) t = EvaluateThreshold(*parsed, data);
  }
}

}  // namespace

Result<RunReport> MergeReports(std::span<const RunReport> reports) {
  if (reports.empty()) return MakeError("merge_empty", "nothing to merge");
  const RunReport& first = reports[0];
  RunReport merged;
  merged.target = first.target;
  merged.clock = first.clock;
  merged.seed = first.seed;
  merged.histogram_significant_digits = first.histogram_significant_digits;
  merged.run = first.run;
  std::vector<std::string> hosts, versions, command_lines;
  auto add_unique = [](std::vector<std::string>& list, const std::string& v) {
    if (!v.empty() && std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
  };
  std::map<std::pair<std::string, std::string>, size_t> index;  // (file, name) -> position
  for (size_t i = 0; i < reports.size(); ++i) {
    const RunReport& r = reports[i];
    const std::string which = "report " + std::to_string(i + 1);
    if (r.target != first.target) {
      return MakeError("merge_mismatch", which + " ran against target " +
                                             std::string(ToString(r.target)) + ", report 1 against " +
                                             std::string(ToString(first.target)));
    }
    if (r.clock != first.clock) {
      return MakeError("merge_mismatch", which + " uses the " + std::string(ToString(r.clock)) +
                                             " clock, report 1 the " +
                                             std::string(ToString(first.clock)));
    }
    if (r.seed != first.seed) {
      return MakeError("merge_mismatch", which + " has seed " + std::to_string(r.seed) +
                                             ", report 1 seed " + std::to_string(first.seed) +
                                             ": shards of one run share the seed");
    }
    if (r.histogram_significant_digits != first.histogram_significant_digits) {
      return MakeError("merge_mismatch",
                       which + " records histograms with " +
                           std::to_string(r.histogram_significant_digits) +
                           " significant digits, report 1 with " +
                           std::to_string(first.histogram_significant_digits) +
                           ": an exact merge needs the same precision");
    }
    if (r.run.start_time < merged.run.start_time && !r.run.start_time.empty()) {
      merged.run.start_time = r.run.start_time;
    }
    merged.run.duration_ns = std::max(merged.run.duration_ns, r.run.duration_ns);
    add_unique(hosts, r.run.host);
    add_unique(versions, r.run.version);
    add_unique(command_lines, r.run.command_line);
    for (const ScenarioResult& s : r.scenarios) {
      auto [it, inserted] = index.try_emplace({s.file, s.name}, merged.scenarios.size());
      if (inserted) {
        merged.scenarios.push_back(s);
        continue;
      }
      ScenarioResult& into = merged.scenarios[it->second];
      Status st = MergeScenarioInto(into, s);
      if (!st.ok()) return MakeError(st.error().code, which + ": " + st.error().message);
      Reevaluate(into.thresholds, into);
    }
    if (i == 0) merged.thresholds = r.thresholds;
  }
  auto join = [](const std::vector<std::string>& list, std::string_view sep) {
    std::string out;
    for (const std::string& v : list) out += (out.empty() ? "" : std::string(sep)) + v;
    return out;
  };
  merged.run.host = join(hosts, ", ");
  merged.run.version = join(versions, ", ");
  merged.run.command_line = join(command_lines, " ; ");
  std::stable_sort(merged.scenarios.begin(), merged.scenarios.end(),
                   [](const ScenarioResult& a, const ScenarioResult& b) {
                     if (a.ordinal != b.ordinal) return a.ordinal < b.ordinal;
                     if (a.file != b.file) return a.file < b.file;
                     return a.name < b.name;
                   });
  // `wpsim run --shard` records each scenario's position in the unsharded run, so the sort
  // restores that run's order; renumbering keeps the ordinals dense (it changes nothing when
  // every shard is merged, and closes the gaps when some are missing).
  for (size_t i = 0; i < merged.scenarios.size(); ++i) merged.scenarios[i].ordinal = i;
  Reevaluate(merged.thresholds, merged);
  merged.trace_hash = merged.CombinedTraceHash();
  return merged;
}

}  // namespace wpsim::reports
