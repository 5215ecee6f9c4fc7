#include "conformance/driver.h"

#include <algorithm>

#include "conformance/builtin_checks.h"
#include "protocol/mqtt/types.h"

namespace wpsim::conformance {

using clients::Observation;
namespace mqtt = protocol::mqtt;

namespace {
constexpr size_t kSequenceArrowsWanted = reports::kSequenceArrowsMax;
// Deliveries drawn as arrows (the diagram keeps the end of a run; deliveries are the bulk).
constexpr size_t kDeliveryArrowsMax = 200;
}  // namespace

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::string IterContext::Apply(std::string s) const {
  for (const auto& [name, value] : vars) s = Replace(s, "${" + name + "}", std::to_string(value));
  return s;
}

void IterContext::ApplyJson(nlohmann::json& j) const {
  if (vars.empty()) return;
  if (j.is_string()) {
    j = Apply(j.get<std::string>());
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) ApplyJson(v);
  }
}

reports::ClientKind ReportKind(ClientKind k) {
  switch (k) {
    case ClientKind::kWebSocket:
      return reports::ClientKind::kWs;
    case ClientKind::kJson:
      return reports::ClientKind::kJson;
    case ClientKind::kReliable:
    case ClientKind::kReliableProtobuf:  // reports group the protobuf kinds with their twins
      return reports::ClientKind::kReliable;
    case ClientKind::kProtobuf:
      return reports::ClientKind::kJson;
    case ClientKind::kMqtt311:
    case ClientKind::kMqtt5:
      return reports::ClientKind::kMqtt;
    case ClientKind::kRest:
      return reports::ClientKind::kRest;
  }
  return reports::ClientKind::kWs;
}

std::string DescribeCount(const CountSpec& c) {
  return c.exactly                 ? "exactly " + std::to_string(*c.exactly)
         : c.at_least && c.at_most ? std::to_string(*c.at_least) + ".." + std::to_string(*c.at_most)
         : c.at_least              ? "at least " + std::to_string(*c.at_least)
                                   : "at most " + std::to_string(c.at_most.value_or(0));
}

bool JsonSubset(const nlohmann::json& want, const nlohmann::json& got) {
  if (want.is_object()) {
    if (!got.is_object()) return false;
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!got.contains(it.key()) || !JsonSubset(it.value(), got[it.key()])) return false;
    }
    return true;
  }
  return want == got;
}

std::string JoinStatuses(const std::vector<int>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? " or " : "") + std::to_string(s[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// RecentMessages, WindowFilter

void RecentMessages::Entry::Set(const Observation& o) {
  kind = o.kind;
  const bool delivery = !o.mqtt && (o.kind == Observation::Kind::kGroupMessage ||
                                    o.kind == Observation::Kind::kServerMessage ||
                                    o.kind == Observation::Kind::kRawMessage);
  if (!delivery) {
    described = DescribeObservation(o);
    return;
  }
  described.clear();
  described.shrink_to_fit();
  group = o.group;
  from_user_id = o.from_user_id;
  payload = o.payload;
  sequence_id = o.sequence_id;
}

std::string RecentMessages::Entry::Describe() const {
  if (!described.empty()) return described;
  Observation o;
  o.kind = kind;
  o.group = group;
  o.from_user_id = from_user_id;
  o.payload = payload;
  o.sequence_id = sequence_id;
  return DescribeObservation(o);
}

void RecentMessages::Add(const ObservedEvent& e) {
  ++seen_;
  if (ring_.size() < capacity_) {
    ring_.emplace_back().Set(e.observation);
    return;
  }
  ring_[next_].Set(e.observation);
  next_ = (next_ + 1) % capacity_;
}

std::string RecentMessages::Describe(size_t max) const {
  if (seen_ == 0) return "nothing";
  const size_t shown = std::min<size_t>(max, ring_.size());
  std::string out;
  if (seen_ > shown) out = "... " + std::to_string(seen_ - shown) + " earlier; ";
  // ring_ in arrival order is ring_[next_], ring_[next_ + 1], ... (wrapping).
  for (size_t i = ring_.size() - shown; i < ring_.size(); ++i) {
    if (i > ring_.size() - shown) out += "; ";
    out += ring_[(next_ + i) % ring_.size()].Describe();
  }
  return out;
}

bool WindowFilter::Inside(int64_t t) const {
  int64_t open = 0;
  if (w_.after_step) open = std::max<int64_t>(0, cx_.step_issued[*w_.after_step]);
  if (t < open) return false;
  if (w_.within_ns && t > open + *w_.within_ns) return false;
  if (w_.until_step && cx_.step_issued[*w_.until_step] >= 0 && t > cx_.step_issued[*w_.until_step])
    return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// RunContext

RunContext::RunContext(const Scenario& scenario, const RunnerOptions& run_options,
                       reports::ScenarioResult& run_result, Environment& environment)
    : sc(scenario), options(run_options), result(run_result), env(environment) {
  members.resize(sc.members.size());
  connection_ids.resize(sc.members.size());
  step_issued.assign(sc.steps.size(), -1);
  listeners_.resize(sc.members.size());
}

RunContext::~RunContext() {
  for (MemberState& m : members) {
    if (m.ws) m.ws->on_observation = nullptr;
    for (auto& w : m.old_ws) w->on_observation = nullptr;
    if (m.rest) m.rest->on_observation = nullptr;
    if (m.mqtt) m.mqtt->on_observation = nullptr;
  }
}

std::function<void(const Observation&)> RunContext::ObserverFor(uint32_t m) {
  return [this, m](const Observation& o) { Observe(m, o); };
}

void RunContext::Listen(uint32_t m, Evaluator* e) {
  std::vector<Evaluator*>& list = listeners_[m];
  if (std::find(list.begin(), list.end(), e) == list.end()) list.push_back(e);
}

std::shared_ptr<Waiter> RunContext::Wait(uint32_t m,
                                         std::function<bool(const ObservedEvent&)> match) {
  auto w = std::make_shared<Waiter>();
  w->match = std::move(match);
  members[m].waiters.push_back(w);
  return w;
}

std::function<bool()> RunContext::Until(uint32_t m,
                                        std::function<bool(const ObservedEvent&)> match) {
  std::shared_ptr<Waiter> w = Wait(m, std::move(match));
  return [w] { return w->done; };
}

void RunContext::Observe(uint32_t m, const Observation& o) {
  MemberState& ms = members[m];
  const int64_t now = env.Now();
  if (o.kind == Observation::Kind::kRecovered) ms.transport++;
  Bookkeep(m, o, now);
  const ObservedEvent ev{o, now, ms.transport, ++serial_};
  if (!ms.waiters.empty()) {
    for (const std::shared_ptr<Waiter>& w : ms.waiters) {
      if (!w->done && w->match(ev)) w->done = true;
    }
    std::erase_if(ms.waiters, [](const std::shared_ptr<Waiter>& w) { return w->done; });
  }
  for (Evaluator* e : listeners_[m]) e->OnObservation(m, ev);
  if (options.on_observation) options.on_observation(m, o);
}

// Run-wide bookkeeping of one observation: the member's ids, latencies, throughput and the
// sequence diagram's arrows.
void RunContext::Bookkeep(uint32_t m, const Observation& o, int64_t now) {
  MemberState& ms = members[m];
  const ClientKind kind = sc.ClientOf(m).kind;
  const reports::ClientKind rk = ReportKind(kind);
  if (ms.first_upgrade_status == 0) {
    if (o.kind == Observation::Kind::kHandshakeFailed) ms.first_upgrade_status = o.http_status;
    if (o.kind == Observation::Kind::kOpened) ms.first_upgrade_status = 101;
  }
  switch (o.kind) {
    case Observation::Kind::kConnected:
      ms.connection_id = o.connection_id;
      connection_ids[m] = o.connection_id;
      ms.all_connection_ids.insert(o.connection_id);
      if (!o.reconnection_token.empty()) ms.reconnection_token = o.reconnection_token;
      if (o.mqtt) Arrow(now, "service", sc.members[m].name, DescribeObservation(o));
      [[fallthrough]];
    case Observation::Kind::kOpened:
      if (ms.connect_issued_ns &&
          (o.kind == Observation::Kind::kConnected || kind == ClientKind::kWebSocket)) {
        if (options.record_latency) {
          result.Latency(reports::Metric::kConnect, rk)
              .histogram.Record(std::max<int64_t>(1, now - *ms.connect_issued_ns));
        }
        ms.connect_issued_ns.reset();
      }
      break;
    case Observation::Kind::kAck: {
      auto it = ms.ack_issued.find(o.ack_id);
      if (it != ms.ack_issued.end()) {
        if (options.record_latency) {
          result.Latency(reports::Metric::kAckRtt, rk)
              .histogram.Record(std::max<int64_t>(1, now - it->second));
        }
        ms.ack_issued.erase(it);
      }
      // error_rate (reports/model.h): answered requests, and the ones that failed.
      if (!o.mqtt) {
        result.Count(reports::kCounterAcks);
        if (!o.success && o.error_name != "Duplicate") result.Count(reports::kCounterErrors);
      } else if (o.mqtt->packet == "puback" || o.mqtt->packet == "pubrec") {
        result.Count(reports::kCounterMqttAcks);
        if (!o.mqtt->reason_codes.empty() && static_cast<int>(o.mqtt->reason_codes[0]) >= 0x80) {
          result.Count(reports::kCounterErrors);
        }
      }
      if (o.mqtt) {
        std::string codes;
        for (mqtt::ReasonCode c : o.mqtt->reason_codes)
          codes += " " + std::to_string(static_cast<int>(c));
        Arrow(now, "service", sc.members[m].name,
              o.mqtt->packet + " " + std::to_string(o.ack_id) + codes);
      } else {
        Arrow(now, "service", sc.members[m].name,
              "ack " + std::to_string(o.ack_id) + (o.success ? "" : " " + o.error_name));
      }
      break;
    }
    case Observation::Kind::kDisconnected:
      if (o.mqtt) {
        Arrow(now, "service", sc.members[m].name,
              "DISCONNECT " +
                  std::to_string(o.mqtt->reason_codes.empty()
                                     ? 0
                                     : static_cast<int>(o.mqtt->reason_codes[0])) +
                  (o.text.empty() ? "" : " " + o.text));
      }
      break;
    case Observation::Kind::kGroupMessage:
    case Observation::Kind::kServerMessage:
    case Observation::Kind::kRawMessage: {
      if (o.sequence_id) ms.max_sequence_id = std::max(ms.max_sequence_id, *o.sequence_id);
      result.Count(reports::kCounterDelivered);
      if (delivered_series_ && now >= throughput_start_ns_) delivered_series_->Add(now);
      auto it = options.record_latency ? publishes.find(PayloadText(o)) : publishes.end();
      if (it != publishes.end()) {
        const PublishRecord* best = nullptr;
        for (const PublishRecord& p : it->second) {
          if (p.time_ns <= now) best = &p;
        }
        if (best) {
          auto& series = result.Latency(reports::Metric::kPublishToReceive, rk, best->path,
                                        reports::SizeBucketLabel(o.payload.data.view().size()));
          series.histogram.Record(std::max<int64_t>(1, now - best->time_ns));
          // Open-loop sends are timed from their intended send time (coordinated omission).
          if (best->intended) series.coordinated_omission_corrected = true;
        }
      }
      if (delivered_arrows_ < kDeliveryArrowsMax) {
        ++delivered_arrows_;
        Arrow(now, "service", sc.members[m].name, DescribeObservation(o));
      }
      break;
    }
    case Observation::Kind::kClosed:
    case Observation::Kind::kHandshakeFailed:
      Arrow(now, "service", sc.members[m].name, DescribeObservation(o));
      break;
    case Observation::Kind::kSequenceRepeated: {
      // Checked on every scenario: a reliable transport never repeats a sequence id (§6.1).
      const std::string id = std::to_string(o.sequence_id.value_or(0));
      Fail(sc.members[m].name + " received sequenceId " + id + " twice on one connection",
           "each sequenceId at most once per transport, increasing",
           "sequenceId " + id + " " + o.text,
           std::string(BuiltInCheckOf(BuiltIn::kSequenceIdOnce).case_id), now);
      HighlightLastArrow();
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

void RunContext::Arrow(int64_t t, std::string from, std::string to, std::string label) {
  if (arrows_.size() >= 4 * kSequenceArrowsWanted)
    arrows_.erase(arrows_.begin(), arrows_.begin() + kSequenceArrowsWanted);
  arrows_.push_back(reports::Arrow{t, std::move(from), std::move(to), std::move(label), false});
}

void RunContext::HighlightLastArrow() {
  if (!arrows_.empty()) arrows_.back().highlighted = true;
}

void RunContext::Fail(std::string message, std::string expected, std::string actual,
                      std::string case_id, std::optional<int64_t> time) {
  reports::Failure f;
  f.message = std::move(message);
  f.expected = std::move(expected);
  f.actual = std::move(actual);
  f.case_id = case_id;
  f.time_ns = time;
  if (!f.case_id.empty()) failed_cases.insert(f.case_id);
  result.AddFailure(std::move(f));
}

void RunContext::Highlight(uint32_t m, int64_t time) {
  highlights_.emplace(time, sc.members[m].name);
}

std::string RunContext::Where(const Expectation& e) const {
  return std::string(ExpectKindName(e.kind())) + " at " + FormatPos(e.pos);
}

Window RunContext::WindowOf(const TimeWindow& w) const {
  Window out{0, end_ns};
  if (w.after_step) out.open = std::max<int64_t>(0, step_issued[*w.after_step]);
  if (w.within_ns) out.close = std::min(out.close, out.open + *w.within_ns);
  if (w.until_step && step_issued[*w.until_step] >= 0)
    out.close = std::min(out.close, step_issued[*w.until_step]);
  return out;
}

std::string RunContext::DescribeWindow(const Window& w) {
  return "[" + FormatTime(w.open) + ", " + FormatTime(w.close) + "]";
}

void RunContext::EmitSequence() {
  for (const Member& m : sc.members) result.sequence.AddLifeline(m.name);
  result.sequence.AddLifeline("service");
  if (sc.upstream.present) result.sequence.AddLifeline("app");  // the scripted application server
  size_t from = arrows_.size() > kSequenceArrowsWanted ? arrows_.size() - kSequenceArrowsWanted : 0;
  for (size_t i = from; i < arrows_.size(); ++i) {
    const reports::Arrow& a = arrows_[i];
    const bool marked = highlights_.count({a.time_ns, a.to}) > 0 ||
                        (a.from != "service" && highlights_.count({a.time_ns, a.from}) > 0);
    result.sequence.AddArrow(a.time_ns, a.from, a.to, a.label, a.highlighted || marked);
  }
  if (!result.failures.empty())
    result.sequence.violated_expectation = result.failures.front().message;
}

// ---------------------------------------------------------------------------------------------
// Shared step helpers

std::string RunContext::Template(const std::string& s, const IterContext& ctx) const {
  std::string out = ctx.Apply(s);
  if (out.find("${") == std::string::npos) return out;
  for (uint32_t m = 0; m < sc.members.size(); ++m) {
    const std::string& name = sc.members[m].name;
    out = Replace(out, "${" + name + ".connection_id}", members[m].connection_id);
    out = Replace(out, "${" + name + ".user}", sc.members[m].user.value_or(""));
  }
  return out;
}

nlohmann::json RunContext::Templated(const nlohmann::json& j) const {
  if (j.is_string()) return Template(j.get<std::string>(), IterContext{});
  if (!j.is_structured()) return j;
  nlohmann::json out = j;
  for (auto it = out.begin(); it != out.end(); ++it) *it = Templated(*it);
  return out;
}

std::string RunContext::Filler(uint64_t n) {
  std::string s;
  s.reserve(n);
  for (uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

void RunContext::RecordPublish(uint32_t m, const std::string& key, int64_t time, std::string path) {
  auto& list = publishes[key];
  list.push_back(PublishRecord{m, time, std::move(path), publish_counter[m]++, issuing_intended});
  result.Count(reports::kCounterSent);
  if (sent_series_ && time >= throughput_start_ns_) sent_series_->Add(time);
}

void RunContext::RecordPublishAlias(uint32_t m, const std::string& key, int64_t time,
                                    const std::string& path) {
  publishes[key].push_back(PublishRecord{m, time, path, publish_counter[m] - 1, issuing_intended});
}

// Throughput over time is recorded from the first open-loop (`repeat` with `rate`) block on,
// in intervals chosen so the block's planned length spans about 50 of them (1-2-5 steps,
// 1 ms to 10 s): messages_sent at each publish, messages_delivered at each delivery.
void RunContext::StartThroughput(const RepeatStep& r, int64_t start) {
  int64_t planned = r.duration_ns.value_or(0);
  if (r.count) planned = std::max(planned, r.rate->IntendedOffsetNs(*r.count));
  const int64_t wanted = std::max<int64_t>(1, planned / 50);
  int64_t interval = 1'000'000;
  for (int64_t decade = 1'000'000; decade <= 10'000'000'000; decade *= 10) {
    for (int64_t step : {decade, 2 * decade, 5 * decade}) {
      if (step <= 10'000'000'000 && step <= wanted) interval = step;
    }
  }
  throughput_interval_ns_ = interval;
  throughput_start_ns_ = start;
  // std::map nodes are stable: the per-delivery path adds to the series without a lookup.
  sent_series_ = &result.Throughput(reports::kCounterSent, interval, start);
  delivered_series_ = &result.Throughput(reports::kCounterDelivered, interval, start);
}

std::vector<uint32_t> RunContext::Targets(const std::optional<ClientRef>& ref, bool all) const {
  if (ref) return ref->members;
  std::vector<uint32_t> out;
  if (all) {
    for (uint32_t m = 0; m < sc.members.size(); ++m) out.push_back(m);
  }
  return out;
}

}  // namespace wpsim::conformance
