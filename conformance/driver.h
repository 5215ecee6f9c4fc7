// The conformance driver's run context: what the runner (conformance/runner.cc) and the step
// families (conformance/steps/<family>.cc) share while one scenario runs.
//
// Theory of operation. The runner is a small driver: it schedules steps, owns time and the
// environment, and knows no protocol. Each step family (websocket, json, reliable, mqtt, rest,
// network, upstream, delivery) registers, one line each in conformance/driver_registry.cc, how
// its steps are issued and how its expectations and invariants are judged (FamilyRegistry).
//
// Observation stream. Every client observation (clients/observation.h) reaches
// RunContext::Observe as it happens: the context does the run-wide bookkeeping (connection ids,
// latencies, throughput, sequence-diagram arrows), then hands the event to the one-shot waiters
// of the steps in flight (a step's completion, an ack or a CONNACK it waits for) and to every
// evaluator listening to that member. Nothing keeps the stream itself: an evaluator keeps only
// what its verdict needs (counters, the next expected item, the first mismatch and a few recent
// messages for its failure message), and gives its verdict in Finish() after the run settles.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "clients/mqtt_client.h"
#include "clients/observation.h"
#include "clients/rest_client.h"
#include "clients/wire_client.h"
#include "clients/ws_client.h"
#include "conformance/expectations.h"
#include "conformance/runner.h"
#include "conformance/scenario.h"
#include "conformance/shape/steps.h"
#include "conformance/targets.h"
#include "reports/model.h"

namespace wpsim::conformance {

// Iteration context of repeat blocks: "${i}" substitution and the intended send time.
struct IterContext {
  std::vector<std::pair<std::string, uint64_t>> vars;  // name -> value, innermost last
  std::optional<int64_t> intended_ns;
  std::string Apply(std::string s) const;
  void ApplyJson(nlohmann::json& j) const;
};

std::string Replace(std::string s, std::string_view from, std::string_view to);

// A step in flight: done() says whether it completed; past deadline_ns it timed out.
struct Pending {
  uint32_t step = 0;
  std::function<bool()> done;
  int64_t deadline_ns = 0;
  bool timeout_is_failure = true;
  bool stays_done = true;  // done() never turns false again (all but a quiescing barrier)
};
using PendingList = std::vector<Pending>;

// A one-shot wait on a member's observation stream: the first observation `match` accepts
// after the waiter was added completes it.
struct Waiter {
  std::function<bool(const ObservedEvent&)> match;
  bool done = false;
};

// A REST call a step made, and its answer.
struct RestRecord {
  uint32_t member = 0;
  std::string label;
  int64_t issued_ns = 0;
  bool done = false;
  int status = 0;
  std::string body;
  std::string error_code;
  int64_t time_ns = 0;
};

// A request with an ackId a step sent (join, leave, sendToGroup, event), and its ack.
struct AckRecord {
  uint32_t member = 0;
  uint64_t ack_id = 0;
  int64_t issued_ns = 0;
  std::optional<KeptEvent> ack;  // the first ack with ack_id after the request
  bool transport_ended = false;  // the transport closed (or the upgrade failed) since
  bool settled() const { return ack.has_value() || transport_ended; }
};

// An MQTT request of a step (SUBSCRIBE, UNSUBSCRIBE, PUBLISH QoS>0) or a connect (CONNACK):
// the acknowledgement answering it.
struct MqttRecord {
  uint32_t member = 0;
  uint16_t packet_id = 0;
  std::optional<KeptEvent> answer;  // the acknowledgement (or CONNACK)
  std::optional<KeptEvent> last;    // connects: the last observation while unanswered
  bool transport_ended = false;     // the transport closed (or the upgrade failed) since
  bool settled() const { return answer.has_value() || transport_ended; }
};

// Where a wire step's checks start: the wire connection it used and the number of events
// that had arrived on it when the step was issued (conformance/steps/wire.cc).
struct WireMark {
  std::shared_ptr<clients::WireClient> client;
  size_t index = 0;
  int64_t time_ns = 0;
};

struct MemberState {
  std::unique_ptr<clients::WsClient> ws;
  // MQTT members keep one client (and so one MQTT session state) across connects.
  std::unique_ptr<clients::MqttClient> mqtt;
  std::vector<std::unique_ptr<clients::WsClient>> old_ws;
  std::unique_ptr<clients::RestClient> rest;
  uint32_t transport = 0;
  std::string connection_id;
  std::set<std::string> all_connection_ids;  // every connection id it had (upstream matching)
  std::string reconnection_token;
  uint64_t next_auto_ack = 1;
  std::set<uint64_t> explicit_acks;
  uint64_t max_sequence_id = 0;
  std::optional<int64_t> connect_issued_ns;
  bool auto_recover = true;
  std::map<uint64_t, int64_t> ack_issued;        // ack id -> issue time (latest)
  std::vector<std::shared_ptr<Waiter>> waiters;  // one-shot waits in flight
  // The status of the member's first WebSocket upgrade answer (101 or the refusal), 0 before.
  int first_upgrade_status = 0;
  // Byte-level connection of the wire steps (http_request, ws_frame, mqtt_packet).
  std::shared_ptr<clients::WireClient> wire;
  std::map<uint32_t, WireMark> wire_marks;  // step id -> where its checks start (latest issue)
};

// A publish the runner made (for latency and invariants).
struct PublishRecord {
  uint32_t publisher = 0;
  int64_t time_ns = 0;
  std::string path;
  uint64_t index = 0;     // per publisher
  bool intended = false;  // time_ns is the open-loop intended send time (not the issue time)
  // What the built-in liveness checks need (eventually: all_acked_delivered): the group sent
  // to ("" for broadcasts and other paths), and how the publish was acknowledged: the ack of a
  // sendToGroup with an ackId, or the index into rest_records of a REST send.
  std::string group;
  std::shared_ptr<AckRecord> ack;
  int64_t rest_record = -1;
};

// An expectation's time window once known: [open, close] in run time.
struct Window {
  int64_t open = 0;
  int64_t close = 0;
};

// Judges one expectation or invariant from the observation stream.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // One observation of member `member`, with the run clock (only members the evaluator listens
  // to, see RunContext::Listen).
  virtual void OnObservation(uint32_t member, const ObservedEvent& event) {
    (void)member;
    (void)event;
  }
  // The run has settled: record failures (RunContext::Fail) for a broken expectation.
  virtual void Finish() = 0;
};

class RunContext;

// What a family contributes, keyed by step, expectation and invariant kind.
struct FamilyRegistry {
  // Issues step `s` (one iteration of it) and appends what its completion waits for.
  using Issue = void (*)(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out);
  // Called once per step of this kind before the run starts (e.g. reserving explicit ackIds).
  using Prepare = void (*)(RunContext& cx, const Step& s);
  // Makes the evaluator of one expectation / invariant; it listens before the first step.
  using MakeExpectation = std::unique_ptr<Evaluator> (*)(RunContext& cx, const Expectation& e);
  using MakeInvariant = std::unique_ptr<Evaluator> (*)(RunContext& cx, const Invariant& inv);

  // A step kind: its YAML key, reader and documented fields (shape.name is StepKindName), and
  // how it runs (no issue function: the driver runs it itself, as the flow family's steps).
  struct StepEntry {
    shape::StepShape shape;
    Issue issue = nullptr;
    Prepare prepare = nullptr;
  };
  std::vector<StepEntry> steps;  // in registration order
  // The entry of a kind; null for a type no family registered.
  const StepEntry* Find(StepKind kind) const;
  std::map<ExpectKind, MakeExpectation> expectations;
  std::map<InvariantKind, MakeInvariant> invariants;
  // Run once when the run starts (after every Prepare), e.g. programming the app server.
  std::vector<void (*)(RunContext&)> on_start;

  // A step kind's one registration line: its step type (the family's struct the reader puts in
  // Step::args), its shape and how it runs. Each type and each YAML key is registered once.
  template <typename T>
  void AddStep(shape::StepShape shape, Issue issue = nullptr, Prepare prepare = nullptr) {
    shape.kind = StepKindOf<T>();
    Add(std::move(shape), issue, prepare);
  }
  void AddExpectation(ExpectKind kind, MakeExpectation make) { expectations[kind] = make; }
  void AddInvariant(InvariantKind kind, MakeInvariant make) { invariants[kind] = make; }
  // The evaluator of the kind is an `E` made from the run context and the expectation (invariant).
  template <typename E>
  void AddExpectation(ExpectKind kind) {
    AddExpectation(kind, [](RunContext& cx, const Expectation& e) -> std::unique_ptr<Evaluator> {
      return std::make_unique<E>(cx, e);
    });
  }
  template <typename E>
  void AddInvariant(InvariantKind kind) {
    AddInvariant(kind, [](RunContext& cx, const Invariant& inv) -> std::unique_ptr<Evaluator> {
      return std::make_unique<E>(cx, inv);
    });
  }

 private:
  void Add(shape::StepShape shape, Issue issue, Prepare prepare);
  // kind -> index into `steps` (looked up only: the order of the addresses is never seen).
  std::map<StepKind, size_t> index_;
};

// Every family, registered once (conformance/driver_registry.cc).
const FamilyRegistry& Families();

class RunContext {
 public:
  RunContext(const Scenario& scenario, const RunnerOptions& options,
             reports::ScenarioResult& result, Environment& env);
  ~RunContext();
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const Scenario& sc;
  const RunnerOptions& options;
  reports::ScenarioResult& result;
  Environment& env;

  std::vector<MemberState> members;
  std::vector<std::string> connection_ids;  // per member, its current connection id
  std::vector<int64_t> step_issued;         // first issue time per step, -1 before
  std::map<uint32_t, int64_t> last_issued;  // latest issue time per step
  std::vector<Pending> async_pending;
  std::map<uint32_t, std::vector<std::shared_ptr<AckRecord>>> step_acks;
  std::map<uint32_t, std::vector<size_t>> step_rest;
  std::map<uint32_t, std::vector<std::shared_ptr<MqttRecord>>>
      step_mqtt;  // subscribe/unsubscribe/publish
  std::map<uint32_t, std::vector<std::shared_ptr<MqttRecord>>>
      step_connects;  // MQTT connects (CONNACK)
  std::vector<RestRecord> rest_records;
  // all_pages REST steps: the response callbacks that call themselves for the next page.
  std::vector<std::shared_ptr<clients::RestClient::ResponseFn>> rest_callbacks;
  std::map<std::string, std::vector<PublishRecord>> publishes;
  std::map<uint32_t, uint64_t> publish_counter;
  bool issuing_intended = false;       // the step being issued is an open-loop iteration
  int64_t end_ns = 0;                  // the run's end (set before Finish)
  std::set<std::string> failed_cases;  // case ids with a failure

  // --- the observation stream --------------------------------------------------------------

  // Routes member m's client observations to Observe (the clients' on_observation hook).
  std::function<void(const clients::Observation&)> ObserverFor(uint32_t m);
  void Observe(uint32_t m, const clients::Observation& o);
  // Evaluator `e` receives every observation of member m from now on.
  void Listen(uint32_t m, Evaluator* e);
  // A one-shot wait on member m's next observations (added before the request is sent).
  std::shared_ptr<Waiter> Wait(uint32_t m, std::function<bool(const ObservedEvent&)> match);
  // The same as a completion: true once member m observed something `match` accepts.
  std::function<bool()> Until(uint32_t m, std::function<bool(const ObservedEvent&)> match);
  // Step s in flight until done(), for at most its timeout from now.
  Pending Awaiting(const Step& s, std::function<bool()> done) {
    return Pending{s.id, std::move(done), env.Now() + StepTimeout(s), true};
  }

  // --- reporting -----------------------------------------------------------------------------

  void Arrow(int64_t t, std::string from, std::string to, std::string label);
  void HighlightLastArrow();
  void Fail(std::string message, std::string expected, std::string actual, std::string case_id,
            std::optional<int64_t> time = std::nullopt);
  // Marks the arrows drawn for member m at `time` as the ones that broke an expectation.
  void Highlight(uint32_t m, int64_t time);
  std::string Where(const Expectation& e) const;
  Window WindowOf(const TimeWindow& w) const;
  static std::string DescribeWindow(const Window& w);

  // --- shared step helpers -----------------------------------------------------------------

  int64_t StepTimeout(const Step& s) const { return s.timeout_ns.value_or(sc.run.step_timeout_ns); }
  // "${i}" and "${alice.connection_id}" / "${alice.user}" substituted.
  std::string Template(const std::string& s, const IterContext& ctx) const;
  nlohmann::json Templated(const nlohmann::json& j) const;
  static std::string Filler(uint64_t n);
  void RecordPublish(uint32_t m, const std::string& key, int64_t time, std::string path);
  // The same publish also reachable under another key (e.g. its base64 for binary receivers).
  void RecordPublishAlias(uint32_t m, const std::string& key, int64_t time,
                          const std::string& path);
  void StartThroughput(const RepeatStep& r, int64_t start);
  bool throughput_started() const { return throughput_interval_ns_ != 0; }
  std::vector<uint32_t> Targets(const std::optional<ClientRef>& ref, bool all) const;

  // The sequence diagram of a failing run.
  void EmitSequence();

 private:
  void Bookkeep(uint32_t m, const clients::Observation& o, int64_t now);

  std::vector<std::vector<Evaluator*>> listeners_;
  std::vector<reports::Arrow> arrows_;
  size_t delivered_arrows_ = 0;
  // (time, lifeline) of observations that broke an expectation: their arrows are highlighted.
  std::set<std::pair<int64_t, std::string>> highlights_;
  int64_t throughput_interval_ns_ = 0;  // 0: no open-loop block yet, no throughput series
  int64_t throughput_start_ns_ = 0;
  reports::ThroughputSeries* sent_series_ = nullptr;  // in result.throughput, once started
  reports::ThroughputSeries* delivered_series_ = nullptr;
  uint64_t serial_ = 0;
};

// The last few messages (IsMessage) a member saw inside a window, for "recent: ..." in failure
// messages: a bounded ring plus the count of everything that passed. A delivery is kept as the
// few fields its description shows (about 120 bytes, not a whole Observation).
class RecentMessages {
 public:
  explicit RecentMessages(size_t capacity) : capacity_(capacity) {}
  void Add(const ObservedEvent& e);
  // "nothing", or "... N earlier; a; b; c" with at most `max` (<= capacity) entries.
  std::string Describe(size_t max) const;

 private:
  struct Entry {
    clients::Observation::Kind kind = clients::Observation::Kind::kGroupMessage;
    std::string group;
    std::optional<std::string> from_user_id;
    protocol::webpubsub::Payload payload;
    std::optional<uint64_t> sequence_id;
    // Other kinds and MQTT packets: their description, rendered when seen (a whole Observation
    // is about 960 bytes, and every member keeps its `connected` here while idle).
    std::string described;
    void Set(const clients::Observation& o);
    std::string Describe() const;
  };
  size_t capacity_;
  uint64_t seen_ = 0;
  std::vector<Entry> ring_;  // the last min(seen_, capacity_), oldest at next_ once full
  size_t next_ = 0;
};

// Feeds an evaluator's in-window observations from the stream. A window that opens at a step
// not issued yet may still open at the current instant (the step is issued later in the same
// instant), so observations of the latest instant are held until that is known.
class WindowFilter {
 public:
  WindowFilter(const RunContext& cx, const TimeWindow& w) : cx_(cx), w_(w) {}
  // Calls in_window(e) for e and for held observations that turned out to be in the window.
  template <typename F>
  void Feed(const ObservedEvent& e, F&& in_window) {
    Resolve(e.time_ns, in_window);
    if (w_.after_step && cx_.step_issued[*w_.after_step] < 0) {
      held_.emplace_back(e);
      return;
    }
    if (Inside(e.time_ns)) in_window(e);
  }
  // At the end of the run: releases what the window's final bounds admit.
  template <typename F>
  void Flush(F&& in_window) {
    Resolve(INT64_MAX, in_window);
  }

 private:
  bool Inside(int64_t t) const;
  template <typename F>
  void Resolve(int64_t now, F& in_window) {
    if (held_.empty()) return;
    const bool known = cx_.step_issued[*w_.after_step] >= 0;
    if (!known && held_.front().time_ns == now) return;
    std::vector<KeptEvent> held = std::move(held_);
    held_.clear();
    if (!known) return;  // time moved on: the window opens later than all of them
    for (const KeptEvent& h : held) {
      if (Inside(h.time_ns)) in_window(h.view());
    }
  }

  const RunContext& cx_;
  TimeWindow w_;
  std::vector<KeptEvent> held_;  // observations of one instant, window opening unknown
};

// Count specs in failure messages: "exactly 3", "1..2", "at least 1", "at most 0".
std::string DescribeCount(const CountSpec& c);
// Whether every member of `want` is in `got` with an equal value (objects recursively).
bool JsonSubset(const nlohmann::json& want, const nlohmann::json& got);
std::string JoinStatuses(const std::vector<int>& s);
reports::ClientKind ReportKind(ClientKind k);

}  // namespace wpsim::conformance
