#include "reports/json_report.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wpsim::reports {

using nlohmann::json;

std::string PercentileName(double percentile) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, percentile);
  return "p" + std::string(buf, res.ptr);
}

namespace {

json DecimalString(uint64_t v) { return std::to_string(v); }

json FailureToJson(const Failure& f) {
  json j = {{"message", f.message},
            {"expected", f.expected},
            {"actual", f.actual},
            {"case_id", f.case_id}};
  j["time_ns"] = f.time_ns ? json(*f.time_ns) : json(nullptr);
  return j;
}

json ThresholdToJson(const ThresholdResult& t) {
  return {{"expression", t.expression},
          {"observed", t.observed},
          {"observed_value", t.observed_value},
          {"passed", t.passed},
          {"message", t.message}};
}

json ScenarioToJson(const ScenarioResult& s) {
  json j;
  j["file"] = s.file;
  j["name"] = s.name;
  j["ordinal"] = s.ordinal;
  j["source"] = {{"document", s.source.document}, {"section", s.source.section}};
  j["tags"] = s.tags;
  if (!s.injected_bugs.empty()) j["injected_bugs"] = s.injected_bugs;
  j["status"] = ToString(s.status);
  j["skip_reason"] = s.skip_reason;
  j["duration_ns"] = s.duration_ns;
  j["seed"] = DecimalString(s.seed);
  j["trace_hash"] = FormatTraceHash(s.trace_hash);
  j["reproduce"] = s.reproduce;
  if (!s.observed.empty()) j["observed"] = s.observed;
  j["histogram_significant_digits"] = s.histogram_significant_digits;
  json cases = json::array();
  for (const CaseResult& c : s.cases) {
    cases.push_back({{"case_id", c.case_id},
                     {"status", ToString(c.status)},
                     {"message", c.message},
                     {"expected", c.expected},
                     {"actual", c.actual}});
  }
  j["cases"] = std::move(cases);
  json failures = json::array();
  for (const Failure& f : s.failures) failures.push_back(FailureToJson(f));
  j["failures"] = std::move(failures);
  json thresholds = json::array();
  for (const ThresholdResult& t : s.thresholds) thresholds.push_back(ThresholdToJson(t));
  j["thresholds"] = std::move(thresholds);
  json counters = json::object();
  for (const auto& [name, value] : s.counters) counters[name] = value;
  j["counters"] = std::move(counters);
  json latency = json::array();
  for (const auto& [key, series] : s.latency) {
    latency.push_back({{"metric", ToString(key.metric)},
                       {"client_kind", ToString(key.client_kind)},
                       {"path", key.path},
                       {"size_bucket", key.size_bucket},
                       {"coordinated_omission_corrected", series.coordinated_omission_corrected},
                       {"histogram", HistogramToJson(series.histogram)}});
  }
  j["latency"] = std::move(latency);
  json throughput = json::array();
  for (const auto& [name, series] : s.throughput) {
    throughput.push_back({{"name", name},
                          {"interval_ns", series.interval_ns},
                          {"start_ns", series.start_ns},
                          {"counts", series.counts},
                          {"dropped", series.dropped}});
  }
  j["throughput"] = std::move(throughput);
  if (s.sequence.empty()) {
    j["sequence_diagram"] = nullptr;
  } else {
    json arrows = json::array();
    for (const Arrow& a : s.sequence.arrows) {
      arrows.push_back({{"time_ns", a.time_ns},
                        {"from", a.from},
                        {"to", a.to},
                        {"label", a.label},
                        {"highlighted", a.highlighted}});
    }
    j["sequence_diagram"] = {{"lifelines", s.sequence.lifelines},
                             {"arrows", std::move(arrows)},
                             {"violated_expectation", s.sequence.violated_expectation},
                             {"arrows_omitted", s.sequence.arrows_omitted}};
  }
  return j;
}

// --- Reading -------------------------------------------------------------------------------
// The helpers below throw ReadFailure, which ReadJsonReport turns into an Error value; nothing
// escapes this file.

struct ReadFailure {
  std::string message;
};

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw ReadFailure{(where.empty() ? std::string("(top level)") : where) + ": " + what};
}

std::string Join(const std::string& where, const char* key) {
  return where.empty() ? std::string(key) : where + "." + key;
}
std::string At(const std::string& where, size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

const json& Field(const json& obj, const std::string& where, const char* key) {
  if (!obj.is_object()) Fail(where, "expected an object");
  auto it = obj.find(key);
  if (it == obj.end()) Fail(Join(where, key), "missing");
  return *it;
}
std::string Str(const json& obj, const std::string& where, const char* key) {
  const json& v = Field(obj, where, key);
  if (!v.is_string()) Fail(Join(where, key), "expected a string");
  return v.get<std::string>();
}
int64_t Int(const json& obj, const std::string& where, const char* key) {
  const json& v = Field(obj, where, key);
  if (!v.is_number_integer()) Fail(Join(where, key), "expected an integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    Fail(Join(where, key), "integer out of range");
  }
  return v.get<int64_t>();
}
uint64_t Uint(const json& v, const std::string& where) {
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() &&
                                 v.get<int64_t>() < 0)) {
    Fail(where, "expected a non-negative integer");
  }
  return v.get<uint64_t>();
}
uint64_t Uint(const json& obj, const std::string& where, const char* key) {
  return Uint(Field(obj, where, key), Join(where, key));
}
bool Bool(const json& obj, const std::string& where, const char* key) {
  const json& v = Field(obj, where, key);
  if (!v.is_boolean()) Fail(Join(where, key), "expected true or false");
  return v.get<bool>();
}
double Num(const json& obj, const std::string& where, const char* key) {
  const json& v = Field(obj, where, key);
  if (!v.is_number()) Fail(Join(where, key), "expected a number");
  return v.get<double>();
}
const json& Arr(const json& obj, const std::string& where, const char* key) {
  const json& v = Field(obj, where, key);
  if (!v.is_array()) Fail(Join(where, key), "expected an array");
  return v;
}
uint64_t DecimalU64(const json& obj, const std::string& where, const char* key) {
  std::string s = Str(obj, where, key);
  uint64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) {
    Fail(Join(where, key), "expected an unsigned 64-bit decimal number in a string, got \"" + s +
                               "\"");
  }
  return v;
}
uint64_t HexU64(const json& obj, const std::string& where, const char* key) {
  std::string s = Str(obj, where, key);
  uint64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (s.size() != 16 || res.ec != std::errc() || res.ptr != s.data() + s.size()) {
    Fail(Join(where, key), "expected 16 hex digits, got \"" + s + "\"");
  }
  return v;
}
template <typename T>
T Enum(const json& obj, const std::string& where, const char* key,
       std::optional<T> (*parse)(std::string_view), const char* choices) {
  std::string s = Str(obj, where, key);
  std::optional<T> v = parse(s);
  if (!v) Fail(Join(where, key), "unknown value \"" + s + "\" (expected " + choices + ")");
  return *v;
}
std::vector<std::string> Strings(const json& obj, const std::string& where, const char* key) {
  const json& a = Arr(obj, where, key);
  std::vector<std::string> out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) Fail(At(Join(where, key), i), "expected a string");
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

Histogram ReadHistogram(const json& j, const std::string& where) {
  const int digits = static_cast<int>(Int(j, where, "significant_digits"));
  const json& buckets_json = Arr(j, where, "buckets");
  std::vector<Histogram::Bucket> buckets;
  buckets.reserve(buckets_json.size());
  for (size_t i = 0; i < buckets_json.size(); ++i) {
    const json& b = buckets_json[i];
    const std::string w = At(Join(where, "buckets"), i);
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer()) {
      Fail(w, "expected [value_ns, count]");
    }
    buckets.push_back({b[0].get<int64_t>(), Uint(b[1], w + "[1]")});
  }
  Result<Histogram> h = Histogram::FromBuckets(digits, buckets, Int(j, where, "min_ns"),
                                               Int(j, where, "max_ns"),
                                               Uint(j, where, "clamped_count"));
  if (!h.ok()) Fail(where, h.error().message);
  if (Uint(j, where, "count") != h->count()) {
    Fail(Join(where, "count"), "does not equal the sum of the bucket counts (" +
                                   std::to_string(h->count()) + ")");
  }
  return std::move(h).value();
}

ThresholdResult ReadThreshold(const json& j, const std::string& where) {
  ThresholdResult t;
  t.expression = Str(j, where, "expression");
  t.observed = Str(j, where, "observed");
  t.observed_value = Num(j, where, "observed_value");
  t.passed = Bool(j, where, "passed");
  t.message = Str(j, where, "message");
  return t;
}

ScenarioResult ReadScenario(const json& j, const std::string& where) {
  ScenarioResult s;
  s.file = Str(j, where, "file");
  s.name = Str(j, where, "name");
  s.ordinal = Uint(j, where, "ordinal");
  const json& source = Field(j, where, "source");
  s.source.document = Str(source, Join(where, "source"), "document");
  s.source.section = Str(source, Join(where, "source"), "section");
  s.tags = Strings(j, where, "tags");
  if (j.contains("injected_bugs")) s.injected_bugs = Strings(j, where, "injected_bugs");
  s.status = Enum<Outcome>(j, where, "status", ParseOutcome, "pass, fail, skip or error");
  s.skip_reason = Str(j, where, "skip_reason");
  s.duration_ns = Int(j, where, "duration_ns");
  s.seed = DecimalU64(j, where, "seed");
  s.trace_hash = HexU64(j, where, "trace_hash");
  s.reproduce = Str(j, where, "reproduce");
  if (j.contains("observed")) s.observed = Str(j, where, "observed");
  s.histogram_significant_digits = static_cast<int>(Int(j, where, "histogram_significant_digits"));
  if (s.histogram_significant_digits < Histogram::kMinSignificantDigits ||
      s.histogram_significant_digits > Histogram::kMaxSignificantDigits) {
    Fail(Join(where, "histogram_significant_digits"), "must be between 1 and 5");
  }
  const json& cases = Arr(j, where, "cases");
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string w = At(Join(where, "cases"), i);
    CaseResult c;
    c.case_id = Str(cases[i], w, "case_id");
    c.status = Enum<Outcome>(cases[i], w, "status", ParseOutcome, "pass, fail, skip or error");
    c.message = Str(cases[i], w, "message");
    c.expected = Str(cases[i], w, "expected");
    c.actual = Str(cases[i], w, "actual");
    s.cases.push_back(std::move(c));
  }
  const json& failures = Arr(j, where, "failures");
  for (size_t i = 0; i < failures.size(); ++i) {
    const std::string w = At(Join(where, "failures"), i);
    Failure f;
    f.message = Str(failures[i], w, "message");
    f.expected = Str(failures[i], w, "expected");
    f.actual = Str(failures[i], w, "actual");
    f.case_id = Str(failures[i], w, "case_id");
    if (!Field(failures[i], w, "time_ns").is_null()) f.time_ns = Int(failures[i], w, "time_ns");
    s.failures.push_back(std::move(f));
  }
  const json& thresholds = Arr(j, where, "thresholds");
  for (size_t i = 0; i < thresholds.size(); ++i) {
    s.thresholds.push_back(ReadThreshold(thresholds[i], At(Join(where, "thresholds"), i)));
  }
  const json& counters = Field(j, where, "counters");
  if (!counters.is_object()) Fail(Join(where, "counters"), "expected an object");
  for (const auto& [name, value] : counters.items()) {
    s.counters[name] = Uint(value, Join(Join(where, "counters"), name.c_str()));
  }
  const json& latency = Arr(j, where, "latency");
  for (size_t i = 0; i < latency.size(); ++i) {
    const std::string w = At(Join(where, "latency"), i);
    SeriesKey key;
    key.metric = Enum<Metric>(latency[i], w, "metric", ParseMetric,
                              "publish_to_receive, ack_rtt, connect or rest_call");
    key.client_kind = Enum<ClientKind>(latency[i], w, "client_kind", ParseClientKind,
                                       "ws, json, reliable, mqtt or rest");
    key.path = Str(latency[i], w, "path");
    key.size_bucket = Str(latency[i], w, "size_bucket");
    LatencySeries series{ReadHistogram(Field(latency[i], w, "histogram"), Join(w, "histogram")),
                         Bool(latency[i], w, "coordinated_omission_corrected")};
    if (series.histogram.significant_digits() != s.histogram_significant_digits) {
      Fail(Join(w, "histogram"), "significant_digits differs from the scenario's");
    }
    if (!s.latency.emplace(key, std::move(series)).second) {
      Fail(w, "duplicate series " + key.Label());
    }
  }
  const json& throughput = Arr(j, where, "throughput");
  for (size_t i = 0; i < throughput.size(); ++i) {
    const std::string w = At(Join(where, "throughput"), i);
    ThroughputSeries t;
    std::string name = Str(throughput[i], w, "name");
    t.interval_ns = Int(throughput[i], w, "interval_ns");
    if (t.interval_ns <= 0) Fail(Join(w, "interval_ns"), "must be positive");
    t.start_ns = Int(throughput[i], w, "start_ns");
    const json& counts = Arr(throughput[i], w, "counts");
    if (counts.size() > kThroughputBucketsMax) Fail(Join(w, "counts"), "too many intervals");
    for (size_t k = 0; k < counts.size(); ++k) {
      t.counts.push_back(Uint(counts[k], At(Join(w, "counts"), k)));
    }
    t.dropped = Uint(throughput[i], w, "dropped");
    if (!s.throughput.emplace(name, std::move(t)).second) {
      Fail(w, "duplicate throughput series \"" + name + "\"");
    }
  }
  const json& diagram = Field(j, where, "sequence_diagram");
  if (!diagram.is_null()) {
    const std::string w = Join(where, "sequence_diagram");
    s.sequence.lifelines = Strings(diagram, w, "lifelines");
    const json& arrows = Arr(diagram, w, "arrows");
    if (arrows.size() > kSequenceArrowsMax) Fail(Join(w, "arrows"), "too many arrows");
    for (size_t i = 0; i < arrows.size(); ++i) {
      const std::string aw = At(Join(w, "arrows"), i);
      Arrow a;
      a.time_ns = Int(arrows[i], aw, "time_ns");
      a.from = Str(arrows[i], aw, "from");
      a.to = Str(arrows[i], aw, "to");
      a.label = Str(arrows[i], aw, "label");
      a.highlighted = Bool(arrows[i], aw, "highlighted");
      s.sequence.arrows.push_back(std::move(a));
    }
    s.sequence.violated_expectation = Str(diagram, w, "violated_expectation");
    s.sequence.arrows_omitted = Uint(diagram, w, "arrows_omitted");
  }
  return s;
}

RunReport ReadReport(const json& j) {
  RunReport r;
  if (!j.is_object()) Fail("", "expected a JSON object (a wpsim report)");
  r.schema_version = static_cast<int>(Int(j, "", "schema_version"));
  if (r.schema_version < 1 || r.schema_version > kSchemaVersion) {
    Fail("schema_version", "unsupported version " + std::to_string(r.schema_version) +
                               " (this wpsim reads 1.." + std::to_string(kSchemaVersion) + ")");
  }
  const json& run = Field(j, "", "run");
  r.run.start_time = Str(run, "run", "start_time");
  r.run.duration_ns = Int(run, "run", "duration_ns");
  r.run.host = Str(run, "run", "host");
  r.run.version = Str(run, "run", "version");
  r.run.command_line = Str(run, "run", "command_line");
  r.target = Enum<Target>(j, "", "target", ParseTarget, "sim, local or remote");
  r.seed = DecimalU64(j, "", "seed");
  r.trace_hash = HexU64(j, "", "trace_hash");
  r.clock = Enum<ClockKind>(j, "", "clock", ParseClockKind, "virtual or real");
  r.histogram_significant_digits = static_cast<int>(Int(j, "", "histogram_significant_digits"));
  if (r.histogram_significant_digits < Histogram::kMinSignificantDigits ||
      r.histogram_significant_digits > Histogram::kMaxSignificantDigits) {
    Fail("histogram_significant_digits", "must be between 1 and 5");
  }
  const json& scenarios = Arr(j, "", "scenarios");
  for (size_t i = 0; i < scenarios.size(); ++i) {
    r.scenarios.push_back(ReadScenario(scenarios[i], At("scenarios", i)));
  }
  const json& walls = Arr(run, "run", "scenario_wall_durations_ns");
  if (walls.size() != r.scenarios.size()) {
    Fail("run.scenario_wall_durations_ns", "has " + std::to_string(walls.size()) +
                                               " entries for " +
                                               std::to_string(r.scenarios.size()) + " scenarios");
  }
  for (size_t i = 0; i < walls.size(); ++i) {
    if (!walls[i].is_number_integer()) {
      Fail(At("run.scenario_wall_durations_ns", i), "expected an integer");
    }
    r.scenarios[i].wall_duration_ns = walls[i].get<int64_t>();
  }
  const json& thresholds = Arr(j, "", "thresholds");
  for (size_t i = 0; i < thresholds.size(); ++i) {
    r.thresholds.push_back(ReadThreshold(thresholds[i], At("thresholds", i)));
  }
  if (j.contains("census")) {
    const json& census = Field(j, "", "census");
    r.census_scenario = Str(census, "census", "scenario");
    r.census_seeds = Uint(census, "census", "seeds");
    const json& rows = Arr(census, "census", "outcomes");
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string w = At("census.outcomes", i);
      r.census.push_back(CensusRow{Str(rows[i], w, "outcome"), Uint(rows[i], w, "count"),
                                   Uint(rows[i], w, "first_seed"), Bool(rows[i], w, "failed"),
                                   Str(rows[i], w, "replay")});
    }
  }
  const json& totals = Field(j, "", "totals");
  Totals t{Uint(totals, "totals", "passed"), Uint(totals, "totals", "failed"),
           Uint(totals, "totals", "skipped"), Uint(totals, "totals", "errors")};
  if (!(t == r.ComputeTotals())) {
    Fail("totals", "do not match the scenarios' statuses");
  }
  return r;
}

}  // namespace

json HistogramToJson(const Histogram& h) {
  json buckets = json::array();
  for (const Histogram::Bucket& b : h.NonEmptyBuckets()) buckets.push_back({b.value_ns, b.count});
  json percentiles = json::object();
  std::vector<int64_t> values = h.ValuesAtPercentiles(kReportPercentiles);
  for (size_t i = 0; i < values.size(); ++i) {
    percentiles[PercentileName(kReportPercentiles[i])] = values[i];
  }
  return {{"significant_digits", h.significant_digits()},
          {"count", h.count()},
          {"min_ns", h.min()},
          {"max_ns", h.max()},
          {"mean_ns", std::llround(h.mean())},
          {"stddev_ns", std::llround(h.stddev())},
          {"clamped_count", h.clamped_count()},
          {"percentiles_ns", std::move(percentiles)},
          {"buckets", std::move(buckets)}};
}

Result<Histogram> HistogramFromJson(const json& j, const std::string& where) {
  try {
    return ReadHistogram(j, where);
  } catch (const ReadFailure& f) {
    return MakeError("bad_report", f.message);
  }
}

json ToJson(const RunReport& report) {
  json j;
  j["schema_version"] = report.schema_version;
  json walls = json::array();
  for (const ScenarioResult& s : report.scenarios) walls.push_back(s.wall_duration_ns);
  j["run"] = {{"start_time", report.run.start_time},
              {"duration_ns", report.run.duration_ns},
              {"host", report.run.host},
              {"version", report.run.version},
              {"command_line", report.run.command_line},
              {"scenario_wall_durations_ns", std::move(walls)}};
  j["target"] = ToString(report.target);
  j["seed"] = DecimalString(report.seed);
  j["trace_hash"] = FormatTraceHash(report.trace_hash);
  j["clock"] = ToString(report.clock);
  j["histogram_significant_digits"] = report.histogram_significant_digits;
  const Totals t = report.ComputeTotals();
  j["totals"] = {{"passed", t.passed},
                 {"failed", t.failed},
                 {"skipped", t.skipped},
                 {"errors", t.errors},
                 {"total", t.total()}};
  j["verdict"] = ToString(report.ComputeVerdict());
  j["duration_ns"] = report.TotalScenarioDurationNs();
  json thresholds = json::array();
  for (const ThresholdResult& th : report.thresholds) thresholds.push_back(ThresholdToJson(th));
  j["thresholds"] = std::move(thresholds);
  if (!report.census.empty()) {
    json rows = json::array();
    for (const CensusRow& c : report.census) {
      rows.push_back({{"outcome", c.outcome},
                      {"count", c.count},
                      {"first_seed", c.first_seed},
                      {"failed", c.failed},
                      {"replay", c.replay}});
    }
    j["census"] = {{"scenario", report.census_scenario}, {"seeds", report.census_seeds}, {"outcomes", std::move(rows)}};
  }
  json scenarios = json::array();
  for (const ScenarioResult& s : report.scenarios) scenarios.push_back(ScenarioToJson(s));
  j["scenarios"] = std::move(scenarios);
  return j;
}

namespace {

// dump() escapes control characters and keeps UTF-8; invalid UTF-8 is replaced (U+FFFD) rather
// than aborting the whole report.
std::string DumpScalar(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// An array of scalars, or of arrays of scalars (histogram buckets, counts, tags).
bool IsFlat(const json& v) {
  for (const json& e : v) {
    if (e.is_object()) return false;
    if (e.is_array()) {
      for (const json& x : e) {
        if (x.is_structured()) return false;
      }
    }
  }
  return true;
}

// Indented like dump(2), except that flat arrays stay on one line, so a histogram's buckets or
// a throughput series cost one line instead of hundreds.
void Pretty(const json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += "{\n";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ",\n";
      first = false;
      out.append(static_cast<size_t>(indent + 2), ' ');
      out += DumpScalar(json(it.key()));
      out += ": ";
      Pretty(it.value(), indent + 2, out);
    }
    out += '\n';
    out.append(static_cast<size_t>(indent), ' ');
    out += '}';
  } else if (v.is_array() && !v.empty() && !IsFlat(v)) {
    out += "[\n";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ",\n";
      out.append(static_cast<size_t>(indent + 2), ' ');
      Pretty(v[i], indent + 2, out);
    }
    out += '\n';
    out.append(static_cast<size_t>(indent), ' ');
    out += ']';
  } else {
    out += DumpScalar(v);
  }
}

}  // namespace

std::string WriteJson(const RunReport& report) {
  std::string out;
  Pretty(ToJson(report), 0, out);
  out += '\n';
  return out;
}

Result<RunReport> ReadJsonReport(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to obtain the position for the message.
    try {
      json unused = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
      return MakeError("bad_report", std::string("not valid JSON: ") + e.what());
    }
    return MakeError("bad_report", "not valid JSON");
  }
  try {
    return ReadReport(j);
  } catch (const ReadFailure& f) {
    return MakeError("bad_report", f.message);
  } catch (const json::exception& e) {
    return MakeError("bad_report", std::string("unexpected JSON content: ") + e.what());
  }
}

Result<RunReport> ReadJsonReportFile(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.error();
  Result<RunReport> r = ReadJsonReport(*text);
  if (!r.ok()) return MakeError(r.error().code, path + ": " + r.error().message);
  return r;
}

Status WriteTextFile(const std::string& path, std::string_view content) {
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) return MakeError("io_error", path + ": cannot open for writing");
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return MakeError("io_error", path + ": write failed");
  return Status::Ok();
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("io_error", path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return MakeError("io_error", path + ": read failed");
  return ss.str();
}

}  // namespace wpsim::reports
