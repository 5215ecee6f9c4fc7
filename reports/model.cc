#include "reports/model.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace wpsim::reports {
namespace {

template <typename E, size_t N>
std::optional<E> ParseName(std::string_view s, const std::string_view (&names)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::string_view kOutcomeNames[] = {"pass", "fail", "skip", "error"};
constexpr std::string_view kTargetNames[] = {"sim", "local", "remote"};
constexpr std::string_view kClockNames[] = {"virtual", "real"};
constexpr std::string_view kMetricNames[] = {"publish_to_receive", "ack_rtt", "connect",
                                             "rest_call"};
constexpr std::string_view kClientKindNames[] = {"ws", "json", "reliable", "mqtt", "rest"};
constexpr std::string_view kVerdictNames[] = {"pass", "conformance_failure", "threshold_failure"};

}  // namespace

std::string_view ToString(Outcome v) { return kOutcomeNames[static_cast<int>(v)]; }
std::string_view ToString(Target v) { return kTargetNames[static_cast<int>(v)]; }
std::string_view ToString(ClockKind v) { return kClockNames[static_cast<int>(v)]; }
std::string_view ToString(Metric v) { return kMetricNames[static_cast<int>(v)]; }
std::string_view ToString(ClientKind v) { return kClientKindNames[static_cast<int>(v)]; }
std::string_view ToString(Verdict v) { return kVerdictNames[static_cast<int>(v)]; }
std::optional<Outcome> ParseOutcome(std::string_view s) {
  return ParseName<Outcome>(s, kOutcomeNames);
}
std::optional<Target> ParseTarget(std::string_view s) { return ParseName<Target>(s, kTargetNames); }
std::optional<ClockKind> ParseClockKind(std::string_view s) {
  return ParseName<ClockKind>(s, kClockNames);
}
std::optional<Metric> ParseMetric(std::string_view s) { return ParseName<Metric>(s, kMetricNames); }
std::optional<ClientKind> ParseClientKind(std::string_view s) {
  return ParseName<ClientKind>(s, kClientKindNames);
}

std::string SizeBucketLabel(uint64_t bytes) {
  static constexpr struct {
    uint64_t max;
    const char* label;
  } kBuckets[] = {{64, "0-64B"},           {256, "65-256B"},         {1024, "257B-1KiB"},
                  {4096, "1-4KiB"},        {16384, "4-16KiB"},       {65536, "16-64KiB"},
                  {262144, "64-256KiB"},   {1048576, "256KiB-1MiB"}};
  for (const auto& b : kBuckets) {
    if (bytes <= b.max) return b.label;
  }
  return ">1MiB";
}

std::string FormatTraceHash(uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::string SeriesKey::Label() const {
  std::string out(ToString(metric));
  out += ' ';
  out += ToString(client_kind);
  if (!path.empty()) out += ' ' + path;
  if (!size_bucket.empty()) out += ' ' + size_bucket;
  return out;
}

void ThroughputSeries::Add(int64_t time_ns, uint64_t count) {
  WPSIM_ASSERT(interval_ns > 0);
  if (time_ns < start_ns) {
    dropped += count;
    return;
  }
  const int64_t index = (time_ns - start_ns) / interval_ns;
  if (index >= static_cast<int64_t>(kThroughputBucketsMax)) {
    dropped += count;
    return;
  }
  if (static_cast<size_t>(index) >= counts.size()) counts.resize(static_cast<size_t>(index) + 1);
  counts[static_cast<size_t>(index)] += count;
}

uint64_t ThroughputSeries::Total() const {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return total;
}

double ThroughputSeries::PeakPerSecond() const {
  uint64_t peak = 0;
  for (uint64_t c : counts) peak = std::max(peak, c);
  return static_cast<double>(peak) * 1e9 / static_cast<double>(interval_ns);
}

double ThroughputSeries::MeanPerSecond() const {
  if (counts.empty()) return 0;
  return static_cast<double>(Total()) * 1e9 /
         (static_cast<double>(interval_ns) * static_cast<double>(counts.size()));
}

void SequenceDiagram::AddLifeline(std::string_view name) {
  if (std::find(lifelines.begin(), lifelines.end(), name) == lifelines.end()) {
    lifelines.emplace_back(name);
  }
}

void SequenceDiagram::AddArrow(int64_t time_ns, std::string from, std::string to,
                               std::string label, bool highlighted) {
  AddLifeline(from);
  AddLifeline(to);
  if (arrows.size() >= kSequenceArrowsMax) {
    arrows.erase(arrows.begin());
    ++arrows_omitted;
  }
  arrows.push_back(Arrow{time_ns, std::move(from), std::move(to), std::move(label), highlighted});
}

LatencySeries& ScenarioResult::Latency(const SeriesKey& key) {
  auto it = latency.find(key);
  if (it == latency.end()) {
    it = latency.emplace(key, LatencySeries{Histogram(histogram_significant_digits), false}).first;
  }
  return it->second;
}

LatencySeries& ScenarioResult::Latency(Metric metric, ClientKind kind, std::string_view path,
                                       std::string_view size_bucket) {
  return Latency(SeriesKey{metric, kind, std::string(path), std::string(size_bucket)});
}

ThroughputSeries& ScenarioResult::Throughput(std::string_view series_name, int64_t interval_ns,
                                             int64_t start_ns) {
  WPSIM_ASSERT(interval_ns > 0);
  auto it = throughput.find(std::string(series_name));
  if (it == throughput.end()) {
    ThroughputSeries s;
    s.interval_ns = interval_ns;
    s.start_ns = start_ns;
    it = throughput.emplace(std::string(series_name), std::move(s)).first;
  }
  return it->second;
}

CaseResult& ScenarioResult::AddCase(std::string case_id, Outcome case_status, std::string message,
                                    std::string expected, std::string actual) {
  cases.push_back(CaseResult{std::move(case_id), case_status, std::move(message),
                             std::move(expected), std::move(actual)});
  if (case_status == Outcome::kFail && status == Outcome::kPass) status = Outcome::kFail;
  if (case_status == Outcome::kError && status != Outcome::kError) status = Outcome::kError;
  return cases.back();
}

void ScenarioResult::AddFailure(Failure failure) {
  failures.push_back(std::move(failure));
  if (status != Outcome::kError) status = Outcome::kFail;
}

void ScenarioResult::AddThresholdResult(ThresholdResult result) {
  if (!result.passed && status == Outcome::kPass) status = Outcome::kFail;
  thresholds.push_back(std::move(result));
}

void ScenarioResult::MarkSkipped(std::string reason) {
  status = Outcome::kSkip;
  skip_reason = std::move(reason);
}

void ScenarioResult::MarkError(std::string message) {
  status = Outcome::kError;
  failures.push_back(Failure{std::move(message), {}, {}, {}, std::nullopt});
}

Histogram ScenarioResult::MergedLatency(Metric metric) const {
  Histogram merged(histogram_significant_digits);
  for (const auto& [key, series] : latency) {
    if (key.metric != metric) continue;
    Status s = merged.Merge(series.histogram);
    WPSIM_ASSERT(s.ok());  // all series of a scenario share its precision
  }
  return merged;
}

bool ScenarioResult::HasLatency(Metric metric) const {
  for (const auto& [key, series] : latency) {
    if (key.metric == metric && !series.histogram.empty()) return true;
  }
  return false;
}

uint64_t ScenarioResult::Counter(std::string_view counter) const {
  auto it = counters.find(std::string(counter));
  return it == counters.end() ? 0 : it->second;
}

std::optional<Metric> ScenarioResult::PrimaryMetric() const {
  for (Metric m : {Metric::kPublishToReceive, Metric::kAckRtt, Metric::kConnect,
                   Metric::kRestCall}) {
    if (HasLatency(m)) return m;
  }
  return std::nullopt;
}

bool ScenarioResult::coordinated_omission_corrected() const {
  for (const auto& [key, series] : latency) {
    if (series.coordinated_omission_corrected) return true;
  }
  return false;
}

ScenarioResult& RunReport::AddScenario(std::string file, std::string name) {
  ScenarioResult& s = scenarios.emplace_back();
  s.file = std::move(file);
  s.name = std::move(name);
  s.ordinal = scenarios.size() - 1;
  s.seed = seed;
  s.histogram_significant_digits = histogram_significant_digits;
  return s;
}

Totals RunReport::ComputeTotals() const {
  Totals t;
  for (const ScenarioResult& s : scenarios) {
    switch (s.status) {
      case Outcome::kPass: ++t.passed; break;
      case Outcome::kFail: ++t.failed; break;
      case Outcome::kSkip: ++t.skipped; break;
      case Outcome::kError: ++t.errors; break;
    }
  }
  return t;
}

Verdict RunReport::ComputeVerdict() const {
  bool threshold_failed = false;
  for (const ThresholdResult& t : thresholds) threshold_failed |= !t.passed;
  for (const ScenarioResult& s : scenarios) {
    if (s.status == Outcome::kError) return Verdict::kConformanceFailure;
    bool case_failed = false;
    for (const CaseResult& c : s.cases) case_failed |= c.status == Outcome::kFail;
    if (s.status == Outcome::kFail && (!s.failures.empty() || case_failed)) {
      return Verdict::kConformanceFailure;
    }
    bool scenario_threshold_failed = false;
    for (const ThresholdResult& t : s.thresholds) scenario_threshold_failed |= !t.passed;
    // A scenario marked failed with no failure and no broken threshold is still a failure.
    if (s.status == Outcome::kFail && !scenario_threshold_failed) {
      return Verdict::kConformanceFailure;
    }
    threshold_failed |= scenario_threshold_failed;
  }
  return threshold_failed ? Verdict::kThresholdFailure : Verdict::kPass;
}

uint64_t RunReport::CombinedTraceHash() const {
  std::vector<const ScenarioResult*> order;
  order.reserve(scenarios.size());
  for (const ScenarioResult& s : scenarios) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const ScenarioResult* a, const ScenarioResult* b) {
    if (a->file != b->file) return a->file < b->file;
    return a->ordinal < b->ordinal;
  });
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    h *= 0x100000001b3ULL;
  };
  for (const ScenarioResult* s : order) {
    mix(s->file);
    mix(s->name);
    mix(FormatTraceHash(s->trace_hash));
  }
  return h;
}

std::vector<std::string> RunReport::InjectedBugs() const {
  std::set<std::string> all;
  for (const ScenarioResult& s : scenarios) all.insert(s.injected_bugs.begin(), s.injected_bugs.end());
  return {all.begin(), all.end()};
}

int64_t RunReport::TotalScenarioDurationNs() const {
  int64_t total = 0;
  for (const ScenarioResult& s : scenarios) total += s.duration_ns;
  return total;
}

std::string ShellQuote(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ' ';
    const std::string& a = argv[i];
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.' || c == '/' || c == '=' || c == ':' || c == ',' ||
             c == '@' || c == '+';
    });
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

}  // namespace wpsim::reports
