// The report data model: what a run of wpsim produced, independent of any output format.
//
// The scenario runner fills a RunReport (AddScenario, then the ScenarioResult builders); the
// writers (JUnit XML, JSON, HTML, Markdown) render it; `wpsim report compare|merge` reads it back
// from JSON. Every container is ordered (vectors in insertion order, std::map by key), so the
// rendering of a report is a pure function of its contents.
//
// Determinism contract: everything that depends on the wall clock or the machine lives in
// RunReport::run (and ScenarioResult::wall_duration_ns, which the JSON writer places under
// `run`). On the sim target every other field is a function of the scenarios and the seed, so a
// rerun with the same seed gives byte-identical JSON outside `run`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/histogram.h"

namespace wpsim::reports {

// Version of the JSON schema (docs/reports.md). Bump on any incompatible change.
inline constexpr int kSchemaVersion = 1;

enum class Outcome { kPass, kFail, kSkip, kError };
enum class Target { kSim, kLocal, kRemote };
enum class ClockKind { kVirtual, kReal };
// What a latency series measures.
enum class Metric { kPublishToReceive, kAckRtt, kConnect, kRestCall };
// The kind of client on the measuring end.
enum class ClientKind { kWs, kJson, kReliable, kMqtt, kRest };

// Stable lower-case names used in every format: "pass", "sim", "virtual", "publish_to_receive",
// "ws", ... Parse* return nullopt for unknown names.
std::string_view ToString(Outcome v);
std::string_view ToString(Target v);
std::string_view ToString(ClockKind v);
std::string_view ToString(Metric v);
std::string_view ToString(ClientKind v);
std::optional<Outcome> ParseOutcome(std::string_view s);
std::optional<Target> ParseTarget(std::string_view s);
std::optional<ClockKind> ParseClockKind(std::string_view s);
std::optional<Metric> ParseMetric(std::string_view s);
std::optional<ClientKind> ParseClientKind(std::string_view s);

// Canonical message paths (the `path` of a publish_to_receive series). Other strings are allowed.
inline constexpr std::string_view kPathClientToGroup = "client_to_group";
inline constexpr std::string_view kPathClientToServer = "client_to_server";
inline constexpr std::string_view kPathServerToAll = "server_to_all";
inline constexpr std::string_view kPathServerToGroup = "server_to_group";
inline constexpr std::string_view kPathServerToUser = "server_to_user";
inline constexpr std::string_view kPathServerToConnection = "server_to_connection";
inline constexpr std::string_view kPathMqttTopic = "mqtt_topic";

// Message-size buckets, powers of four from 64 bytes: "0-64B", "65-256B", "257B-1KiB",
// "1-4KiB", "4-16KiB", "16-64KiB", "64-256KiB", "256KiB-1MiB", ">1MiB".
std::string SizeBucketLabel(uint64_t bytes);

// 16 lower-case hex digits, the form the CLI prints.
std::string FormatTraceHash(uint64_t hash);

// Identifies a latency series inside a scenario. `path` and `size_bucket` are empty where they
// do not apply (connect, ack round trips, REST calls).
struct SeriesKey {
  Metric metric = Metric::kPublishToReceive;
  ClientKind client_kind = ClientKind::kWs;
  std::string path;
  std::string size_bucket;

  auto operator<=>(const SeriesKey&) const = default;
  bool operator==(const SeriesKey&) const = default;
  // "publish_to_receive ws client_to_group 0-64B" (empty parts left out).
  std::string Label() const;
};

struct LatencySeries {
  Histogram histogram;
  // True when samples were recorded from the intended send time (open-loop load) or with
  // Histogram::RecordCorrected; the report says so next to the figures.
  bool coordinated_omission_corrected = false;
};

// Events counted per fixed interval of the run's clock, for load scenarios.
inline constexpr size_t kThroughputBucketsMax = 100'000;
struct ThroughputSeries {
  int64_t interval_ns = 1'000'000'000;
  int64_t start_ns = 0;          // start of counts[0]
  std::vector<uint64_t> counts;  // counts[i]: events in [start + i*interval, start + (i+1)*interval)
  uint64_t dropped = 0;          // events before start_ns or past kThroughputBucketsMax buckets

  void Add(int64_t time_ns, uint64_t count = 1);
  uint64_t Total() const;
  // Events per second in the busiest interval, and over the whole series.
  double PeakPerSecond() const;
  double MeanPerSecond() const;
};

// A message sequence diagram of a failing run (Maelstrom-style): lifelines for the clients and
// the service, arrows in virtual time, the violated expectation highlighted.
inline constexpr size_t kSequenceArrowsMax = 400;
struct Arrow {
  int64_t time_ns = 0;
  std::string from;
  std::string to;
  std::string label;
  bool highlighted = false;
  bool operator==(const Arrow&) const = default;
};
struct SequenceDiagram {
  std::vector<std::string> lifelines;  // left to right
  std::vector<Arrow> arrows;           // in time order
  std::string violated_expectation;
  // Arrows dropped because the diagram keeps only the last kSequenceArrowsMax (the end of a
  // failing run is where the violation is).
  uint64_t arrows_omitted = 0;

  // Adds a lifeline unless present (call in the desired left-to-right order).
  void AddLifeline(std::string_view name);
  // Appends an arrow, adding unknown lifelines; drops the oldest arrow beyond the maximum.
  void AddArrow(int64_t time_ns, std::string from, std::string to, std::string label,
                bool highlighted = false);
  bool empty() const { return arrows.empty() && violated_expectation.empty(); }
};

// One case of a scenario (scenarios with several case IDs report each).
struct CaseResult {
  std::string case_id;
  Outcome status = Outcome::kPass;
  std::string message;
  std::string expected;
  std::string actual;
};

// One violated expectation.
struct Failure {
  std::string message;
  std::string expected;
  std::string actual;
  std::string case_id;               // empty when not tied to a case
  std::optional<int64_t> time_ns;    // run clock, when known
};

// One evaluated threshold (SLO) expression.
struct ThresholdResult {
  std::string expression;   // as written, e.g. "p99 < 50ms"
  std::string observed;     // for people, e.g. "62.3 ms"
  double observed_value = 0;  // ns for times, ratio for error_rate, 1/s for throughput
  bool passed = false;
  std::string message;      // why it could not be evaluated, if so
};

// Which seed document and section a scenario derives from.
struct Source {
  std::string document;
  std::string section;
};

// Well-known counter names (ScenarioResult::counters); thresholds read them.
inline constexpr std::string_view kCounterOperations = "operations";  // steps and iterations run
// Requests the service answered with a verdict (docs/scenarios.md "Thresholds"): error_rate is
// kCounterErrors over their sum, and falls back to kCounterOperations when there are none.
// REST calls made (a failure: an answer >= 400, or none: status 0, the transport failed).
inline constexpr std::string_view kCounterRestCalls = "rest_calls";
// JSON/protobuf acks received (a failure: success false, except Duplicate, which answers a
// resend of a request that was applied).
inline constexpr std::string_view kCounterAcks = "acks";
// MQTT PUBACK/PUBREC received for QoS 1/2 publishes (a failure: reason code >= 0x80).
inline constexpr std::string_view kCounterMqttAcks = "mqtt_acks";
// Failed requests of the three kinds above: the error_rate numerator.
inline constexpr std::string_view kCounterErrors = "errors";
inline constexpr std::string_view kCounterDelivered = "messages_delivered";  // throughput
inline constexpr std::string_view kCounterSent = "messages_sent";

struct ScenarioResult {
  std::string file;   // scenario file, relative to the repository or PATH
  std::string name;
  uint64_t ordinal = 0;  // position in the unsharded run; merged reports sort by (file, ordinal)
  Source source;
  std::vector<std::string> tags;
  // Service bugs switched on for this run (`service.inject_bug`, --inject-bug, --mutation),
  // sorted: such a run is meant to fail. Empty for an ordinary run (and left out of JSON).
  std::vector<std::string> injected_bugs;
  Outcome status = Outcome::kPass;
  std::string skip_reason;
  int64_t duration_ns = 0;       // in the run's clock (virtual on sim: deterministic)
  int64_t wall_duration_ns = 0;  // wall clock; serialized under `run`, never compared
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  std::string reproduce;  // one command line that reproduces this scenario exactly
  // Per member, in order, what it observed that a race can change (conformance::RunOutcome):
  // "sub: ack 1 ok, g:m | w: g:m". Recorded by `wpsim run` on local/remote (empty on sim and
  // when it would be too long); `wpsim explore --match` searches seeds for a run with the same.
  std::string observed;
  std::vector<CaseResult> cases;
  std::vector<Failure> failures;
  std::vector<ThresholdResult> thresholds;
  std::map<std::string, uint64_t> counters;
  std::map<SeriesKey, LatencySeries> latency;
  std::map<std::string, ThroughputSeries> throughput;
  SequenceDiagram sequence;  // filled for failing scenarios
  int histogram_significant_digits = Histogram::kDefaultSignificantDigits;

  // Builders for the runner.
  LatencySeries& Latency(const SeriesKey& key);
  LatencySeries& Latency(Metric metric, ClientKind kind, std::string_view path = {},
                         std::string_view size_bucket = {});
  ThroughputSeries& Throughput(std::string_view series_name, int64_t interval_ns,
                               int64_t start_ns = 0);
  void Count(std::string_view counter, uint64_t n = 1) { counters[std::string(counter)] += n; }
  CaseResult& AddCase(std::string case_id, Outcome status, std::string message = {},
                      std::string expected = {}, std::string actual = {});
  // Records a violated expectation and marks the scenario failed (unless it is an error).
  void AddFailure(Failure failure);
  // Records an evaluated threshold (see reports/threshold.h); a broken one fails the scenario.
  void AddThresholdResult(ThresholdResult result);
  void MarkSkipped(std::string reason);
  // The scenario could not run to a verdict (e.g. the target was unreachable).
  void MarkError(std::string message);

  // Every series of `metric` merged into one histogram (empty if there is none).
  Histogram MergedLatency(Metric metric) const;
  bool HasLatency(Metric metric) const;
  uint64_t Counter(std::string_view counter) const;
  // The metric summary tables show: publish_to_receive if it has samples, else the first metric
  // (in enum order) that has; nullopt when the scenario recorded no latency at all.
  std::optional<Metric> PrimaryMetric() const;
  bool coordinated_omission_corrected() const;
};

// Wall-clock and environment facts: the only part of a report that differs between reruns.
struct RunInfo {
  std::string start_time;   // RFC 3339, UTC
  int64_t duration_ns = 0;  // wall clock
  std::string host;
  std::string version;      // wpsim version
  std::string command_line;
};

struct Totals {
  uint64_t passed = 0;
  uint64_t failed = 0;
  uint64_t skipped = 0;
  uint64_t errors = 0;
  uint64_t total() const { return passed + failed + skipped + errors; }
  bool operator==(const Totals&) const = default;
};

// Overall verdict; the CLI maps it to exit codes 0, 1, 3.
enum class Verdict { kPass, kConformanceFailure, kThresholdFailure };
std::string_view ToString(Verdict v);

// One distinct outcome of `wpsim explore --census`.
struct CensusRow {
  std::string outcome;  // conformance::RunOutcome's description
  uint64_t count = 0;
  uint64_t first_seed = 0;
  bool failed = false;  // the first seed's run failed an expectation
  std::string replay;   // the command that replays the first seed
};

struct RunReport {
  int schema_version = kSchemaVersion;
  RunInfo run;
  Target target = Target::kSim;
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  ClockKind clock = ClockKind::kVirtual;
  int histogram_significant_digits = Histogram::kDefaultSignificantDigits;
  std::vector<ScenarioResult> scenarios;
  std::vector<ThresholdResult> thresholds;  // run-wide SLOs (CLI flags)
  // `wpsim explore --census`: the distinct outcomes, most frequent first (empty otherwise).
  std::string census_scenario;
  uint64_t census_seeds = 0;
  std::vector<CensusRow> census;

  // Appends a scenario (ordinal = its index) and returns it; the reference stays valid until
  // the next AddScenario.
  ScenarioResult& AddScenario(std::string file, std::string name);
  Totals ComputeTotals() const;
  // kConformanceFailure if a scenario errored or failed an expectation; otherwise
  // kThresholdFailure if a scenario or run threshold failed; otherwise kPass.
  Verdict ComputeVerdict() const;
  // The run's trace hash as the combination of the scenarios' hashes in (file, ordinal) order
  // (FNV-1a 64 over file, name and hash), so merged shards reproduce the unsharded value.
  uint64_t CombinedTraceHash() const;
  // Sum of the scenarios' durations in the run's clock.
  int64_t TotalScenarioDurationNs() const;
  // Every scenario's injected_bugs, sorted, each once.
  std::vector<std::string> InjectedBugs() const;
};

// Quotes argv for a POSIX shell, e.g. for ScenarioResult::reproduce.
std::string ShellQuote(const std::vector<std::string>& argv);

}  // namespace wpsim::reports
