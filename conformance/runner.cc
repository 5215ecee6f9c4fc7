#include "conformance/runner.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "base/encoding.h"
#include "clients/mqtt_client.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "conformance/expectations.h"
#include "conformance/real_environment.h"
#include "conformance/targets.h"
#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/rest/router.h"
#include "reports/threshold.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace wps = protocol::webpubsub;
namespace auth = protocol::auth;
namespace mqtt = protocol::mqtt;

constexpr size_t kSequenceArrowsWanted = reports::kSequenceArrowsMax;

reports::ClientKind ReportKind(ClientKind k) {
  switch (k) {
    case ClientKind::kWebSocket: return reports::ClientKind::kWs;
    case ClientKind::kJson: return reports::ClientKind::kJson;
    case ClientKind::kReliable: return reports::ClientKind::kReliable;
    case ClientKind::kMqtt311:
    case ClientKind::kMqtt5: return reports::ClientKind::kMqtt;
    case ClientKind::kRest: return reports::ClientKind::kRest;
  }
  return reports::ClientKind::kWs;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

// Iteration context of repeat blocks: "${i}" substitution and the intended send time.
struct IterContext {
  std::vector<std::pair<std::string, uint64_t>> vars;  // name -> value, innermost last
  std::optional<int64_t> intended_ns;
  std::string Apply(std::string s) const {
    for (const auto& [name, value] : vars) s = Replace(s, "${" + name + "}", std::to_string(value));
    return s;
  }
  void ApplyJson(nlohmann::json& j) const {
    if (vars.empty()) return;
    if (j.is_string()) {
      j = Apply(j.get<std::string>());
    } else if (j.is_array() || j.is_object()) {
      for (auto& v : j) ApplyJson(v);
    }
  }
};

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

struct AckRecord {
  uint32_t member = 0;
  uint64_t ack_id = 0;
  int64_t issued_ns = 0;
  size_t log_mark = 0;
};

// An MQTT request of a step (SUBSCRIBE, UNSUBSCRIBE, PUBLISH QoS>0) or a connect (CONNACK):
// where in the member's log its answer is looked for.
struct MqttRecord {
  uint32_t member = 0;
  uint16_t packet_id = 0;
  size_t log_mark = 0;
};

struct MemberState {
  std::unique_ptr<clients::WsClient> ws;
  // MQTT members keep one client (and so one MQTT session state) across connects.
  std::unique_ptr<clients::MqttClient> mqtt;
  std::vector<std::unique_ptr<clients::WsClient>> old_ws;
  std::unique_ptr<clients::RestClient> rest;
  std::vector<ObservedEvent> log;
  uint32_t transport = 0;
  std::string connection_id;
  std::set<std::string> all_connection_ids;  // every connection id it had (upstream matching)
  std::string reconnection_token;
  uint64_t next_auto_ack = 1;
  std::set<uint64_t> explicit_acks;
  uint64_t max_sequence_id = 0;
  std::optional<int64_t> connect_issued_ns;
  bool auto_recover = true;
  std::map<uint64_t, int64_t> ack_issued;  // ack id -> issue time (latest)
};

struct Pending {
  uint32_t step = 0;
  std::function<bool()> done;
  int64_t deadline_ns = 0;
  bool timeout_is_failure = true;
};

// A publish the runner made (for latency and invariants).
struct PublishRecord {
  uint32_t publisher = 0;
  int64_t time_ns = 0;
  std::string path;
  uint64_t index = 0;  // per publisher
  bool intended = false;  // time_ns is the open-loop intended send time (not the issue time)
};

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const RunnerOptions& options,
              reports::ScenarioResult& result, Environment& env)
      : sc_(scenario), options_(options), result_(result), env_(env) {
    members_.resize(sc_.members.size());
    step_issued_.assign(sc_.steps.size(), -1);
    // Members addressed by a `recover` step recover explicitly, not by themselves.
    for (const Step& s : sc_.steps) {
      if (s.kind() == StepKind::kRecover) {
        for (uint32_t m : s.As<RecoverStep>().clients.members) members_[m].auto_recover = false;
      }
      if (const ClientRef* ref = s.Clients()) {
        (void)ref;
      }
      if (s.kind() == StepKind::kJoin || s.kind() == StepKind::kLeave) {
        const GroupStep& g = s.kind() == StepKind::kJoin
                                 ? static_cast<const GroupStep&>(s.As<JoinStep>())
                                 : static_cast<const GroupStep&>(s.As<LeaveStep>());
        if (g.ack.mode == AckSpec::Mode::kExplicit) {
          for (uint32_t m : g.clients.members) members_[m].explicit_acks.insert(g.ack.id);
        }
      } else if (s.kind() == StepKind::kSendToGroup) {
        const auto& g = s.As<SendToGroupStep>();
        if (g.ack.mode == AckSpec::Mode::kExplicit) {
          for (uint32_t m : g.clients.members) members_[m].explicit_acks.insert(g.ack.id);
        }
      } else if (s.kind() == StepKind::kEvent) {
        const auto& g = s.As<EventStep>();
        if (g.ack.mode == AckSpec::Mode::kExplicit) {
          for (uint32_t m : g.clients.members) members_[m].explicit_acks.insert(g.ack.id);
        }
      }
    }
  }

  ~ScenarioRun() {
    for (MemberState& m : members_) {
      if (m.ws) m.ws->on_observation = nullptr;
      for (auto& w : m.old_ws) w->on_observation = nullptr;
      if (m.rest) m.rest->on_observation = nullptr;
      if (m.mqtt) m.mqtt->on_observation = nullptr;
    }
  }

  void Run() {
    const int64_t start = env_.Now();
    ApplyScheduledPartitions(start);
    ProgramAppServer();
    for (uint32_t id : sc_.root_steps) {
      if (env_.Now() - start > sc_.run.time_limit_ns) {
        Fail("the run exceeded run.time_limit (" + FormatDuration(sc_.run.time_limit_ns) + ")",
             "", "", "");
        break;
      }
      if (!budget_ok_) break;
      ExecSequential(id, start, IterContext{});
    }
    // Outstanding async operations get their timeout too.
    Await(async_pending_);
    async_pending_.clear();
    RunFor(sc_.run.settle_ns);
    end_ns_ = env_.Now();
    Evaluate();
    result_.duration_ns = end_ns_ - start;
    result_.trace_hash = env_.TraceHash();
  }

 private:
  // ---------------------------------------------------------------------------------------
  // Time

  void RunFor(int64_t duration) {
    const int64_t deadline = env_.Now() + duration;
    Drive(deadline, [] { return false; });
  }

  void Drive(int64_t deadline, const std::function<bool()>& done) {
    if (!budget_ok_) return;
    Status s = env_.RunUntil(deadline, done);
    if (!s.ok()) {
      budget_ok_ = false;
      result_.MarkError(s.error().message);
    }
  }

  void Await(std::vector<Pending>& pending) {
    if (pending.empty()) return;
    int64_t deadline = 0;
    for (const Pending& p : pending) deadline = std::max(deadline, p.deadline_ns);
    Drive(deadline, [&pending] {
      for (const Pending& p : pending) {
        if (!p.done()) return false;
      }
      return true;
    });
    for (const Pending& p : pending) {
      if (!p.done() && p.timeout_is_failure && budget_ok_) {
        const Step& s = sc_.steps[p.step];
        Fail("step '" + std::string(StepKindName(s.kind())) + "' at " + FormatPos(s.pos) +
                 " did not complete in time",
             "completion within " + FormatDuration(StepTimeout(s)), "still pending", s.case_id);
      }
    }
  }

  int64_t StepTimeout(const Step& s) const { return s.timeout_ns.value_or(sc_.run.step_timeout_ns); }

  // ---------------------------------------------------------------------------------------
  // Steps

  void ExecSequential(uint32_t id, int64_t block_start, const IterContext& ctx) {
    const Step& s = sc_.steps[id];
    if (s.at_ns) Drive(block_start + *s.at_ns, [] { return false; });
    std::vector<Pending> pending = Issue(id, ctx);
    if (s.async) {
      for (Pending& p : pending) async_pending_.push_back(std::move(p));
      return;
    }
    Await(pending);
  }

  std::vector<Pending> Issue(uint32_t id, const IterContext& ctx) {
    const Step& s = sc_.steps[id];
    const int64_t now = env_.Now();
    issuing_intended_ = ctx.intended_ns.has_value();
    if (step_issued_[id] < 0) step_issued_[id] = now;
    last_issued_[id] = now;
    if (options_.verbose) {
      fprintf(stderr, "  [%s] %s %s\n", FormatDuration(now).c_str(),
              std::string(StepKindName(s.kind())).c_str(), FormatPos(s.pos).c_str());
    }
    std::vector<Pending> out;
    const int64_t deadline = now + StepTimeout(s);
    auto add = [&](std::function<bool()> done) {
      out.push_back(Pending{id, std::move(done), deadline, true});
    };
    switch (s.kind()) {
      case StepKind::kConnect: {
        const auto& c = s.As<ConnectStep>();
        for (uint32_t m : c.clients.members) add(Connect(m, c, s));
        break;
      }
      case StepKind::kDisconnect: {
        const auto& d = s.As<DisconnectStep>();
        for (uint32_t m : d.clients.members) {
          MemberState& ms = members_[m];
          if (ms.mqtt) {
            const size_t mark = ms.log.size();
            const bool was_open = ms.mqtt->open();
            mqtt::Properties props;
            props.session_expiry_interval = d.session_expiry_s;
            for (const MqttUserProperty& u : d.user_properties) props.user_properties.push_back({u.name, u.value});
            const auto code = static_cast<mqtt::ReasonCode>(d.mqtt_reason_code.value_or(0));
            (void)ms.mqtt->Disconnect(code, std::move(props));
            Arrow(now, sc_.members[m].name, "service", "DISCONNECT " + std::to_string(static_cast<int>(code)));
            if (was_open) add([this, m, mark] { return HasAfter(m, mark, Observation::Kind::kClosed); });
            continue;
          }
          if (!ms.ws) continue;
          const size_t mark = ms.log.size();
          const bool was_open = ms.ws->open();
          uint16_t code = d.send_code ? d.code.value_or(1000) : 1005;
          ms.ws->Close(code, d.reason);
          Arrow(now, sc_.members[m].name, "service", "close " + std::to_string(code));
          if (was_open) add([this, m, mark] { return HasAfter(m, mark, Observation::Kind::kClosed); });
        }
        break;
      }
      case StepKind::kKill: {
        for (uint32_t m : s.As<KillStep>().clients.members) {
          if (members_[m].ws) members_[m].ws->Kill();
          if (members_[m].mqtt) members_[m].mqtt->Kill();
          Arrow(now, sc_.members[m].name, "service", "kill");
        }
        break;
      }
      case StepKind::kRecover: {
        const auto& r = s.As<RecoverStep>();
        for (uint32_t m : r.clients.members) add(Recover(m, r.fault));
        break;
      }
      case StepKind::kJoin:
      case StepKind::kLeave: {
        const bool join = s.kind() == StepKind::kJoin;
        const GroupStep& g = join ? static_cast<const GroupStep&>(s.As<JoinStep>())
                                  : static_cast<const GroupStep&>(s.As<LeaveStep>());
        const std::string group = ctx.Apply(g.group);
        for (uint32_t m : g.clients.members) {
          std::optional<uint64_t> ack = AckIdFor(m, g.ack);
          MemberState& ms = members_[m];
          if (!ms.ws) continue;
          Status st = join ? ms.ws->JoinGroup(group, ack) : ms.ws->LeaveGroup(group, ack);
          Arrow(now, sc_.members[m].name, "service",
                std::string(join ? "joinGroup " : "leaveGroup ") + group);
          if (st.ok() && ack) add(AwaitAck(id, m, *ack, now));
        }
        break;
      }
      case StepKind::kSendToGroup: {
        const auto& g = s.As<SendToGroupStep>();
        const std::string group = ctx.Apply(g.group);
        for (uint32_t m : g.clients.members) {
          std::optional<uint64_t> ack = AckIdFor(m, g.ack);
          MemberState& ms = members_[m];
          if (!ms.ws) continue;
          Status st;
          if (!g.payload.data_type || !g.payload.has_data) {
            nlohmann::json req = {{"type", "sendToGroup"}, {"group", group}};
            if (g.payload.data_type) req["dataType"] = DataTypeName(*g.payload.data_type);
            if (g.payload.has_data) req["data"] = PayloadJson(g.payload, ctx);
            if (ack) req["ackId"] = *ack;
            if (g.no_echo) req["noEcho"] = *g.no_echo;
            st = ms.ws->SendRawText(req.dump());
          } else {
            st = ms.ws->SendToGroup(group, ToWire(g.payload, ctx), ack, g.no_echo.value_or(false));
          }
          RecordPublish(m, WireText(g.payload, ctx), ctx.intended_ns.value_or(now),
                        std::string(reports::kPathClientToGroup));
          Arrow(now, sc_.members[m].name, "service", "sendToGroup " + group);
          if (st.ok() && ack) add(AwaitAck(id, m, *ack, ctx.intended_ns.value_or(now)));
        }
        break;
      }
      case StepKind::kEvent: {
        const auto& e = s.As<EventStep>();
        for (uint32_t m : e.clients.members) {
          std::optional<uint64_t> ack = AckIdFor(m, e.ack);
          MemberState& ms = members_[m];
          if (!ms.ws) continue;
          Status st = ms.ws->SendEvent(ctx.Apply(e.event), ToWire(e.payload, ctx), ack);
          Arrow(now, sc_.members[m].name, "service", "event " + e.event);
          if (st.ok() && ack) add(AwaitAck(id, m, *ack, now));
        }
        break;
      }
      case StepKind::kSequenceAck: {
        const auto& a = s.As<SequenceAckStep>();
        for (uint32_t m : a.clients.members) {
          MemberState& ms = members_[m];
          if (!ms.ws) continue;
          (void)ms.ws->SequenceAck(a.sequence_id.value_or(ms.max_sequence_id));
        }
        break;
      }
      case StepKind::kPing: {
        for (uint32_t m : s.As<PingStep>().clients.members) {
          MemberState& ms = members_[m];
          if (!ms.ws) continue;
          const size_t mark = ms.log.size();
          if (ms.ws->Ping().ok()) {
            add([this, m, mark] { return HasAfter(m, mark, Observation::Kind::kPong); });
          }
        }
        break;
      }
      case StepKind::kSendRaw: {
        const auto& r = s.As<SendRawStep>();
        for (uint32_t m : r.clients.members) {
          MemberState& ms = members_[m];
          if (!ms.ws) continue;
          std::string bytes = ctx.Apply(r.bytes);
          if (r.binary) {
            (void)ms.ws->SendRawBinary(std::span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
          } else {
            (void)ms.ws->SendRawText(bytes);
          }
          Arrow(now, sc_.members[m].name, "service", "raw frame");
        }
        break;
      }
      case StepKind::kSubscribe: {
        const auto& sub = s.As<SubscribeStep>();
        std::vector<mqtt::Subscription> list;
        std::string topics;
        for (const MqttSubscription& x : sub.subscriptions) {
          mqtt::Subscription t;
          t.topic_filter = ctx.Apply(x.topic);
          t.options.qos = x.qos;
          t.options.no_local = x.no_local;
          t.options.retain_as_published = x.retain_as_published;
          t.options.retain_handling = x.retain_handling;
          topics += (topics.empty() ? "" : ",") + t.topic_filter;
          list.push_back(std::move(t));
        }
        mqtt::Properties props;
        if (sub.subscription_identifier) props.subscription_identifiers.push_back(*sub.subscription_identifier);
        for (const MqttUserProperty& u : sub.user_properties) props.user_properties.push_back({u.name, u.value});
        for (uint32_t m : sub.clients.members) {
          SendMqttRequest(id, m, now, "SUBSCRIBE " + topics, add,
                          [&](clients::MqttClient& c) { return c.Subscribe(list, props); });
        }
        break;
      }
      case StepKind::kUnsubscribe: {
        const auto& un = s.As<UnsubscribeStep>();
        std::vector<std::string> topics;
        for (const std::string& t : un.topics) topics.push_back(ctx.Apply(t));
        for (uint32_t m : un.clients.members) {
          SendMqttRequest(id, m, now, "UNSUBSCRIBE", add,
                          [&](clients::MqttClient& c) { return c.Unsubscribe(topics); });
        }
        break;
      }
      case StepKind::kPublish: {
        const auto& pub = s.As<PublishStep>();
        clients::MqttPublishOptions o;
        o.topic = ctx.Apply(pub.topic);
        const std::string payload = pub.filler_bytes ? Filler(*pub.filler_bytes) : Template(pub.payload, ctx);
        o.payload = clients::MqttPublishOptions::Bytes(payload);
        o.qos = pub.qos;
        o.retain = pub.retain;
        o.properties = ToMqttProperties(pub.properties);
        for (uint32_t m : pub.clients.members) {
          MemberState& ms = members_[m];
          if (!ms.mqtt) continue;
          const size_t mark = ms.log.size();
          const int64_t intended = ctx.intended_ns.value_or(now);
          Result<uint16_t> packet = ms.mqtt->Publish(o);
          RecordMqttPublish(m, payload, o.properties.content_type, intended);
          Arrow(now, sc_.members[m].name, "service", "PUBLISH " + o.topic + " qos " + std::to_string(o.qos));
          if (!packet.ok() || o.qos == 0) continue;
          ms.ack_issued[*packet] = intended;
          step_mqtt_[id].push_back(MqttRecord{m, *packet, mark});
          add(AwaitMqttAck(m, *packet, mark));
        }
        break;
      }
      case StepKind::kRest: add(Rest(id, s.As<RestStep>(), ctx)); break;
      case StepKind::kWait: {
        const int64_t until = now + s.As<WaitStep>().duration_ns;
        out.push_back(Pending{id, [this, until] { return env_.Now() >= until; }, until, false});
        break;
      }
      case StepKind::kBarrier: {
        std::vector<Pending> waiting = std::move(async_pending_);
        async_pending_.clear();
        const bool quiesce = s.As<BarrierStep>().quiesce;
        auto shared = std::make_shared<std::vector<Pending>>(std::move(waiting));
        add([this, shared, quiesce] {
          for (const Pending& p : *shared) {
            if (!p.done()) return false;
          }
          return !quiesce || env_.Quiescent();
        });
        break;
      }
      case StepKind::kParallel: {
        std::vector<uint32_t> children = s.children;
        std::stable_sort(children.begin(), children.end(), [this](uint32_t a, uint32_t b) {
          return sc_.steps[a].at_ns.value_or(0) < sc_.steps[b].at_ns.value_or(0);
        });
        std::vector<Pending> all;
        for (uint32_t c : children) {
          const Step& child = sc_.steps[c];
          if (child.at_ns) Drive(now + *child.at_ns, [] { return false; });
          if (child.kind() == StepKind::kParallel || child.kind() == StepKind::kRepeat) {
            ExecSequential(c, now, ctx);
            continue;
          }
          for (Pending& p : Issue(c, ctx)) all.push_back(std::move(p));
        }
        Await(all);
        break;
      }
      case StepKind::kRepeat: ExecRepeat(s, ctx); break;
      case StepKind::kPartition: {
        const auto& p = s.As<PartitionStep>();
        if (sim::SimNetwork* net = env_.network()) {
          for (uint32_t m : Targets(p.clients, p.all)) {
            sim::PartitionDirection d =
                p.direction == PartitionDirection::kBoth ? sim::PartitionDirection::kBothWays
                : p.direction == PartitionDirection::kClientToService ? sim::PartitionDirection::kAToB
                                                                      : sim::PartitionDirection::kBToA;
            (void)net->Partition(env_.HostOf(m), "service", d);
            Arrow(now, sc_.members[m].name, "service", "partition");
          }
          if (p.upstream && env_.app_server()) {
            // The application server plays the client's side ("app" is host A, like c.<name>).
            (void)net->Partition("app", "service",
                                 p.direction == PartitionDirection::kBoth ? sim::PartitionDirection::kBothWays
                                 : p.direction == PartitionDirection::kClientToService ? sim::PartitionDirection::kAToB
                                                                                       : sim::PartitionDirection::kBToA);
            Arrow(now, "service", "app", "partition");
          }
        }
        break;
      }
      case StepKind::kHeal: {
        const auto& h = s.As<HealStep>();
        if (sim::SimNetwork* net = env_.network()) {
          for (uint32_t m : Targets(h.clients, h.all)) (void)net->Heal(env_.HostOf(m), "service");
          if (h.upstream && env_.app_server()) (void)net->Heal("app", "service");
        }
        break;
      }
      case StepKind::kDelay: {
        const auto& d = s.As<DelayStep>();
        if (sim::SimNetwork* net = env_.network()) {
          // The link as the scenario set it up (defaults, then the client's or the upstream's
          // own settings), then the step's changes.
          const sim::LinkConfig defaults = net->options().default_link;
          for (uint32_t m : Targets(d.clients, d.all)) {
            const sim::LinkConfig cfg = ToLinkConfig(d.link, ToLinkConfig(sc_.ClientOf(m).network, defaults));
            (void)net->SetLink(env_.HostOf(m), "service", cfg);
          }
          if (d.upstream && env_.app_server()) {
            (void)net->SetLink("service", "app", ToLinkConfig(d.link, ToLinkConfig(sc_.network.upstream, defaults)));
          }
        }
        break;
      }
      case StepKind::kReset: {
        if (sim::SimNetwork* net = env_.network()) {
          for (uint32_t m : s.As<ResetStep>().clients.members) {
            (void)net->ResetStreams(env_.HostOf(m), "service");
            Arrow(now, sc_.members[m].name, "service", "reset");
          }
        }
        break;
      }
      case StepKind::kSetClockSkew: {
        const auto& c = s.As<ClockSkewStep>();
        if (sim::SimNetwork* net = env_.network()) {
          if (!c.clients) {
            (void)net->SetClockSkew("service", c.skew_ns);
          } else {
            for (uint32_t m : c.clients->members) (void)net->SetClockSkew(env_.HostOf(m), c.skew_ns);
          }
        }
        break;
      }
    }
    return out;
  }

  void ExecRepeat(const Step& s, const IterContext& outer) {
    const auto& r = s.As<RepeatStep>();
    const int64_t start = env_.Now();
    std::vector<Pending> open_loop;
    if (r.rate && !throughput_interval_ns_) StartThroughput(r, start);
    for (uint64_t k = 0;; ++k) {
      if (r.count && k >= *r.count) break;
      if (!r.count && !r.duration_ns) break;
      if (!budget_ok_) break;
      std::optional<int64_t> intended;
      if (r.rate) {
        intended = start + r.rate->IntendedOffsetNs(k);
        if (r.duration_ns && *intended - start >= *r.duration_ns) break;
        Drive(*intended, [] { return false; });
      } else if (r.duration_ns && env_.Now() - start >= *r.duration_ns) {
        break;
      }
      IterContext ctx = outer;
      ctx.vars.emplace_back(r.index_var, k);
      ctx.intended_ns = intended;
      for (uint32_t c : s.children) {
        if (r.rate) {
          const Step& child = sc_.steps[c];
          if (child.kind() == StepKind::kParallel || child.kind() == StepKind::kRepeat) {
            ExecSequential(c, *intended, ctx);
          } else {
            for (Pending& p : Issue(c, ctx)) open_loop.push_back(std::move(p));
          }
        } else {
          ExecSequential(c, start, ctx);
        }
      }
      result_.Count(reports::kCounterOperations);
    }
    Await(open_loop);
  }

  std::vector<uint32_t> Targets(const std::optional<ClientRef>& ref, bool all) const {
    if (ref) return ref->members;
    std::vector<uint32_t> out;
    if (all) {
      for (uint32_t m = 0; m < sc_.members.size(); ++m) out.push_back(m);
    }
    return out;
  }

  void ApplyScheduledPartitions(int64_t start) {
    sim::SimNetwork* net = env_.network();
    if (!net) return;
    for (const ScheduledPartition& p : sc_.network.partitions) {
      std::vector<std::string> hosts;
      if (p.upstream) {
        if (!env_.app_server()) continue;
        hosts.push_back("app");
      }
      for (uint32_t m : p.clients.members) hosts.push_back(env_.HostOf(m));
      sim::PartitionDirection d =
          p.direction == PartitionDirection::kBoth ? sim::PartitionDirection::kBothWays
          : p.direction == PartitionDirection::kClientToService ? sim::PartitionDirection::kAToB
                                                                : sim::PartitionDirection::kBToA;
      net->scheduler().ScheduleAt(start + p.at_ns, [net, hosts, d] {
        for (const std::string& h : hosts) (void)net->Partition(h, "service", d);
      });
      if (p.duration_ns) {
        net->scheduler().ScheduleAt(start + p.at_ns + *p.duration_ns, [net, hosts] {
          for (const std::string& h : hosts) (void)net->Heal(h, "service");
        });
      }
    }
  }

  // --- connect / recover ---------------------------------------------------------------

  std::string Token(uint32_t m, const TokenOptions& t) {
    const Client& c = sc_.ClientOf(m);
    const Member& mem = sc_.members[m];
    if (t.fault == TokenFault::kMissing) return "";
    if (t.fault == TokenFault::kMalformed) return "not-a-jwt";
    const int64_t now = env_.ClientRuntime(m).UnixNow() / sim::kSecond;
    int64_t iat = now;
    int64_t exp = now + t.lifetime_ns.value_or(3600 * sim::kSecond) / sim::kSecond;
    std::optional<int64_t> nbf;
    if (t.fault == TokenFault::kExpired) {
      iat = now - 7200;
      exp = now - 3600;
    }
    if (t.fault == TokenFault::kNotYetValid) nbf = now + 3600;
    const auth::ConnectionString& cs = env_.connection_string();
    const bool is_mqtt = IsMqtt(c.kind);
    std::string aud = t.audience.value_or(
        auth::ClientAudience(cs, sc_.hub, is_mqtt ? auth::ClientType::kMqtt : auth::ClientType::kDefault));
    if (t.fault == TokenFault::kWrongAudience) {
      aud = cs.Endpoint() + (is_mqtt ? "/clients/mqtt/hubs/not-" : "/client/hubs/not-") + sc_.hub;
    }
    nlohmann::ordered_json payload = nlohmann::ordered_json::object();
    if (!c.roles.empty()) {
      if (t.role_as_string && c.roles.size() == 1) {
        payload["role"] = c.roles[0];
      } else {
        payload["role"] = c.roles;
      }
    }
    if (!c.groups.empty()) payload[t.group_claim] = c.groups;
    payload["iat"] = iat;
    if (nbf) payload["nbf"] = *nbf;
    if (t.fault != TokenFault::kNoExpiry) payload["exp"] = exp;
    payload["aud"] = aud;
    if (mem.user && !mem.user->empty()) payload["sub"] = *mem.user;
    for (const auto& [name, value] : t.claims) payload[name] = value;
    const std::string text = payload.dump();
    const std::string key =
        t.fault == TokenFault::kWrongKey ? std::string("a-different-key-of-sufficient-length-0123456789")
                                         : cs.access_key;
    if (t.fault == TokenFault::kAlgNone) {
      const std::string header = R"({"alg":"none","typ":"JWT"})";
      auto b64 = [](const std::string& s) {
        return Base64UrlEncode(std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(s.data()), s.size()));
      };
      return b64(header) + "." + b64(text) + ".";
    }
    std::string token = auth::Sign(text, key);
    if (t.fault == TokenFault::kBadSignature && !token.empty()) {
      char& last = token[token.size() - 2];
      last = last == 'A' ? 'B' : 'A';
    }
    return token;
  }

  // What WebSocket and MQTT clients share: where to dial, the Host header, the hub, the token
  // (the connect step's token options over the client's) and the client's extra headers.
  template <typename Options>
  void FillUpgrade(Options& o, uint32_t m, const ConnectStep* c) {
    const Client& cl = sc_.ClientOf(m);
    o.service = env_.ServiceAddress();
    o.dial = env_.Dialer(m);
    const auth::ConnectionString& cs = env_.connection_string();
    o.host_header = cs.host + (cs.port ? ":" + std::to_string(*cs.port) : "");
    o.hub = sc_.hub;
    const TokenOptions& t = c && c->token ? *c->token : cl.token;
    o.access_token = Token(m, t);
    o.token_in_header = t.via == TokenPlacement::kHeader;
    o.extra_headers = cl.headers;
  }

  clients::WsClientOptions WsOptions(uint32_t m, const ConnectStep* c) {
    const Client& cl = sc_.ClientOf(m);
    clients::WsClientOptions o;
    o.kind = cl.kind == ClientKind::kWebSocket ? clients::WsClientKind::kRaw
             : cl.kind == ClientKind::kReliable ? clients::WsClientKind::kReliable
                                                : clients::WsClientKind::kJson;
    FillUpgrade(o, m, c);
    o.subprotocols = c && c->subprotocols ? c->subprotocols : cl.subprotocols;
    std::string q;
    for (const auto& [k, v] : cl.query) {
      if (!q.empty()) q += "&";
      q += protocol::http::PercentEncode(k) + "=" + protocol::http::PercentEncode(v);
    }
    o.extra_query = q;
    o.auto_sequence_ack = cl.sequence_ack == SequenceAckMode::kAuto;
    o.auto_recover = members_[m].auto_recover;
    return o;
  }

  void Attach(uint32_t m, std::unique_ptr<clients::WsClient> client) {
    MemberState& ms = members_[m];
    if (ms.ws) {
      ms.ws->on_observation = nullptr;
      ms.old_ws.push_back(std::move(ms.ws));
    }
    ms.ws = std::move(client);
    ms.ws->on_observation = [this, m](const Observation& o) { OnObservation(m, o); };
  }

  static mqtt::Properties ToMqttProperties(const MqttPublishProperties& p) {
    mqtt::Properties out;
    out.content_type = p.content_type;
    out.message_expiry_interval = p.message_expiry_s;
    out.payload_format_indicator = p.payload_format_indicator;
    out.response_topic = p.response_topic;
    if (p.correlation_data) out.correlation_data = std::vector<uint8_t>(p.correlation_data->begin(), p.correlation_data->end());
    out.topic_alias = p.topic_alias;
    for (const MqttUserProperty& u : p.user_properties) out.user_properties.push_back({u.name, u.value});
    return out;
  }

  // The MQTT client options of member m: the client's settings, then the connect step's.
  clients::MqttClientOptions MqttOptionsFor(uint32_t m, const ConnectStep* c) {
    const Client& cl = sc_.ClientOf(m);
    const Member& mem = sc_.members[m];
    const MqttOptions& mo = cl.mqtt;
    clients::MqttClientOptions o;
    FillUpgrade(o, m, c);
    if (c && c->subprotocols) {
      o.subprotocols = *c->subprotocols;
    } else if (cl.subprotocols) {
      o.subprotocols = *cl.subprotocols;
    }
    std::string q;
    for (const auto& [k, v] : cl.query) {
      q += (q.empty() ? "?" : "&") + protocol::http::PercentEncode(k) + "=" + protocol::http::PercentEncode(v);
    }
    if (!q.empty()) o.path = "/clients/mqtt/hubs/" + protocol::http::PercentEncode(sc_.hub) + q;
    o.version = cl.kind == ClientKind::kMqtt311 ? mqtt::ProtocolVersion::kV311 : mqtt::ProtocolVersion::kV5;
    mqtt::Connect& cn = o.connect;
    if (mo.client_id) {
      cn.client_id = Replace(*mo.client_id, "{i}", std::to_string(mem.index));
    } else {
      for (char ch : mem.name) {
        if (ch != '[' && ch != ']') cn.client_id.push_back(ch);
      }
    }
    cn.clean_start = c && c->clean_start ? *c->clean_start : mo.clean_start;
    cn.keep_alive = c && c->keepalive_s ? *c->keepalive_s : mo.keepalive_s;
    cn.username = mo.username;
    if (mo.password) cn.password = std::vector<uint8_t>(mo.password->begin(), mo.password->end());
    if (cl.kind == ClientKind::kMqtt5) {
      cn.properties.session_expiry_interval = c && c->session_expiry_s ? c->session_expiry_s : mo.session_expiry_s;
      cn.properties.receive_maximum = mo.receive_maximum;
      cn.properties.maximum_packet_size = mo.maximum_packet_size;
      cn.properties.topic_alias_maximum = mo.topic_alias_maximum;
      if (mo.request_problem_information) cn.properties.request_problem_information = *mo.request_problem_information ? 1 : 0;
      if (mo.request_response_information) cn.properties.request_response_information = *mo.request_response_information ? 1 : 0;
      for (const MqttUserProperty& u : mo.user_properties) cn.properties.user_properties.push_back({u.name, u.value});
    }
    if (mo.will) {
      mqtt::Will w;
      w.topic = mo.will->topic;
      w.payload.assign(mo.will->payload.begin(), mo.will->payload.end());
      w.qos = mo.will->qos;
      w.retain = mo.will->retain;
      if (cl.kind == ClientKind::kMqtt5) {
        w.properties = ToMqttProperties(mo.will->properties);
        w.properties.topic_alias.reset();
        w.properties.will_delay_interval = mo.will->delay_s;
      }
      cn.will = std::move(w);
    }
    return o;
  }

  std::function<bool()> ConnectMqtt(uint32_t m, const ConnectStep& c) {
    MemberState& ms = members_[m];
    clients::MqttClientOptions o = MqttOptionsFor(m, &c);
    if (!ms.mqtt) {
      ms.mqtt = std::make_unique<clients::MqttClient>(env_.ClientRuntime(m), sc_.members[m].name, o);
      ms.mqtt->on_observation = [this, m](const Observation& ob) { OnObservation(m, ob); };
    } else {
      ms.mqtt->options() = o;  // the session state (unacknowledged publishes) stays
    }
    ms.transport++;
    ms.connect_issued_ns = env_.Now();
    const size_t mark = ms.log.size();
    ms.mqtt->Connect();
    Arrow(env_.Now(), sc_.members[m].name, "service", "CONNECT");
    return [this, m, mark] {
      for (size_t i = mark; i < members_[m].log.size(); ++i) {
        Observation::Kind k = members_[m].log[i].observation.kind;
        if (k == Observation::Kind::kHandshakeFailed || k == Observation::Kind::kClosed ||
            k == Observation::Kind::kConnected) {
          return true;
        }
      }
      return false;
    };
  }

  // Sends one MQTT request of step `id` from member m (an MQTT client; others are skipped),
  // draws its arrow, records it for the step's ack expectations and awaits its acknowledgement.
  template <typename Add, typename Send>
  void SendMqttRequest(uint32_t id, uint32_t m, int64_t now, const std::string& label, Add& add, Send send) {
    MemberState& ms = members_[m];
    if (!ms.mqtt) return;
    const size_t mark = ms.log.size();
    Result<uint16_t> packet = send(*ms.mqtt);
    Arrow(now, sc_.members[m].name, "service", label);
    if (!packet.ok()) return;
    step_mqtt_[id].push_back(MqttRecord{m, *packet, mark});
    add(AwaitMqttAck(m, *packet, mark));
  }

  // Completes when the acknowledgement with this packet id arrives (SUBACK, UNSUBACK, PUBACK,
  // PUBCOMP or an error PUBREC) or the transport ends.
  std::function<bool()> AwaitMqttAck(uint32_t m, uint16_t packet_id, size_t mark) {
    return [this, m, packet_id, mark] {
      const MemberState& s = members_[m];
      for (size_t i = mark; i < s.log.size(); ++i) {
        const Observation& o = s.log[i].observation;
        if (o.kind == Observation::Kind::kAck && o.ack_id == packet_id) return true;
        if (o.kind == Observation::Kind::kClosed || o.kind == Observation::Kind::kHandshakeFailed) return true;
      }
      return false;
    };
  }

  std::function<bool()> Connect(uint32_t m, const ConnectStep& c, const Step& s) {
    if (IsMqtt(sc_.ClientOf(m).kind)) {
      step_connects_[s.id].push_back(MqttRecord{m, 0, members_[m].log.size()});
      return ConnectMqtt(m, c);
    }
    MemberState& ms = members_[m];
    Attach(m, std::make_unique<clients::WsClient>(env_.ClientRuntime(m), sc_.members[m].name,
                                                  WsOptions(m, &c)));
    ms.transport++;
    ms.connect_issued_ns = env_.Now();
    const size_t mark = ms.log.size();
    ms.ws->Connect();
    Arrow(env_.Now(), sc_.members[m].name, "service", "connect");
    const bool json = sc_.ClientOf(m).kind != ClientKind::kWebSocket;
    return [this, m, mark, json] {
      for (size_t i = mark; i < members_[m].log.size(); ++i) {
        Observation::Kind k = members_[m].log[i].observation.kind;
        if (k == Observation::Kind::kHandshakeFailed || k == Observation::Kind::kClosed) return true;
        if (k == Observation::Kind::kConnected) return true;
        if (!json && k == Observation::Kind::kOpened) return true;
      }
      return false;
    };
  }

  std::function<bool()> Recover(uint32_t m, RecoverFault fault) {
    MemberState& ms = members_[m];
    clients::WsClientOptions o = WsOptions(m, nullptr);
    o.access_token.clear();
    o.auto_recover = false;
    std::string id = ms.connection_id;
    std::string token = ms.reconnection_token;
    if (fault == RecoverFault::kBadToken) token = token.empty() ? "bad" : token + "x";
    if (fault == RecoverFault::kUnknownConnection) id = "0123456789abcdef0123456789abcdef";
    std::string q = "awps_connection_id=" + protocol::http::PercentEncode(id) +
                    "&awps_reconnection_token=" + protocol::http::PercentEncode(token);
    o.extra_query = o.extra_query.empty() ? q : q + "&" + o.extra_query;
    Attach(m, std::make_unique<clients::WsClient>(env_.ClientRuntime(m), sc_.members[m].name, o));
    ms.transport++;
    const size_t mark = ms.log.size();
    ms.ws->Connect();
    Arrow(env_.Now(), sc_.members[m].name, "service", "recover");
    return [this, m, mark] {
      for (size_t i = mark; i < members_[m].log.size(); ++i) {
        Observation::Kind k = members_[m].log[i].observation.kind;
        if (k == Observation::Kind::kHandshakeFailed || k == Observation::Kind::kClosed ||
            k == Observation::Kind::kOpened || k == Observation::Kind::kRecovered) {
          return true;
        }
      }
      return false;
    };
  }

  // --- acks ------------------------------------------------------------------------------

  std::optional<uint64_t> AckIdFor(uint32_t m, const AckSpec& a) {
    switch (a.mode) {
      case AckSpec::Mode::kNone: return std::nullopt;
      case AckSpec::Mode::kExplicit: return a.id;
      case AckSpec::Mode::kAuto: {
        MemberState& ms = members_[m];
        while (ms.explicit_acks.count(ms.next_auto_ack)) ++ms.next_auto_ack;
        return ms.next_auto_ack++;
      }
    }
    return std::nullopt;
  }

  std::function<bool()> AwaitAck(uint32_t step, uint32_t m, uint64_t ack_id, int64_t issued) {
    MemberState& ms = members_[m];
    const size_t mark = ms.log.size();
    ms.ack_issued[ack_id] = issued;
    step_acks_[step].push_back(AckRecord{m, ack_id, issued, mark});
    return [this, m, ack_id, mark] {
      const MemberState& s = members_[m];
      for (size_t i = mark; i < s.log.size(); ++i) {
        const Observation& o = s.log[i].observation;
        if (o.kind == Observation::Kind::kAck && o.ack_id == ack_id) return true;
        if (o.kind == Observation::Kind::kClosed || o.kind == Observation::Kind::kHandshakeFailed) {
          return true;
        }
      }
      return false;
    };
  }

  bool HasAfter(uint32_t m, size_t mark, Observation::Kind kind) const {
    const MemberState& s = members_[m];
    for (size_t i = mark; i < s.log.size(); ++i) {
      if (s.log[i].observation.kind == kind) return true;
    }
    return false;
  }

  // --- payloads --------------------------------------------------------------------------

  static std::string Filler(uint64_t n) {
    std::string s;
    s.reserve(n);
    for (uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
    return s;
  }

  nlohmann::json PayloadJson(const Payload& p, const IterContext& ctx) const {
    if (p.filler_bytes) return Filler(*p.filler_bytes);
    nlohmann::json j = p.data;
    ctx.ApplyJson(j);
    return j;
  }

  wps::Payload ToWire(const Payload& p, const IterContext& ctx) const {
    nlohmann::json j = PayloadJson(p, ctx);
    const DataType t = p.data_type.value_or(DataType::kJson);
    if (p.filler_bytes && t == DataType::kJson) return wps::Payload::Json(j.dump());
    switch (t) {
      case DataType::kJson: return wps::Payload::Json(j.dump());
      case DataType::kText: return wps::Payload::Text(j.is_string() ? j.get<std::string>() : j.dump());
      case DataType::kBinary:
      case DataType::kProtobuf: {
        std::vector<uint8_t> bytes;
        if (j.is_string()) {
          if (auto d = Base64Decode(j.get<std::string>())) bytes = std::move(*d);
        }
        return t == DataType::kBinary ? wps::Payload::Binary(bytes) : wps::Payload::Protobuf(bytes);
      }
    }
    return wps::Payload::Json(j.dump());
  }

  // The text a receiver's PayloadText() would show for this publish (latency matching key).
  std::string WireText(const Payload& p, const IterContext& ctx) const {
    wps::Payload w = ToWire(p, ctx);
    if (w.type == wps::DataType::kBinary || w.type == wps::DataType::kProtobuf) {
      std::string_view v = w.data.view();
      return Base64Encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
    }
    return std::string(w.data.view());
  }

  void RecordPublish(uint32_t m, const std::string& key, int64_t time, std::string path) {
    auto& list = publishes_[key];
    list.push_back(PublishRecord{m, time, std::move(path), publish_counter_[m]++, issuing_intended_});
    result_.Count(reports::kCounterSent);
    if (sent_series_ && time >= throughput_start_ns_) sent_series_->Add(time);
  }

  // Throughput over time is recorded from the first open-loop (`repeat` with `rate`) block on,
  // in intervals chosen so the block's planned length spans about 50 of them (1-2-5 steps,
  // 1 ms to 10 s): messages_sent at each publish, messages_delivered at each delivery.
  void StartThroughput(const RepeatStep& r, int64_t start) {
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
    sent_series_ = &result_.Throughput(reports::kCounterSent, interval, start);
    delivered_series_ = &result_.Throughput(reports::kCounterDelivered, interval, start);
  }

  // An MQTT PUBLISH is matched by its bytes (what MQTT receivers and text receivers see) and,
  // when receivers may see it as binary, by their base64 (JSON receivers, PayloadText).
  void RecordMqttPublish(uint32_t m, const std::string& payload, const std::optional<std::string>& content_type,
                         int64_t time) {
    const std::string path(reports::kPathMqttTopic);
    RecordPublish(m, payload, time, path);
    (void)content_type;
    const std::string b64 = Base64Encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
    if (b64 != payload) {
      publishes_[b64].push_back(PublishRecord{m, time, path, publish_counter_[m] - 1, issuing_intended_});
    }
  }

  // --- REST ------------------------------------------------------------------------------

  std::string ConnectionIdOf(const ConnectionTarget& t) const {
    if (t.literal_id) return *t.literal_id;
    if (t.client && !t.client->members.empty()) return members_[t.client->members[0]].connection_id;
    return "";
  }

  std::string Template(const std::string& s, const IterContext& ctx) const {
    std::string out = ctx.Apply(s);
    if (out.find("${") == std::string::npos) return out;
    for (uint32_t m = 0; m < sc_.members.size(); ++m) {
      const std::string& name = sc_.members[m].name;
      out = Replace(out, "${" + name + ".connection_id}", members_[m].connection_id);
      out = Replace(out, "${" + name + ".user}", sc_.members[m].user.value_or(""));
    }
    return out;
  }

  clients::RestClient& RestClientFor(uint32_t m) {
    MemberState& ms = members_[m];
    if (!ms.rest) {
      clients::RestClientOptions o;
      o.service = env_.ServiceAddress();
      o.connection_string = env_.connection_string();
      o.dial = env_.Dialer(m);
      ms.rest = std::make_unique<clients::RestClient>(env_.ClientRuntime(m), sc_.members[m].name, o);
    }
    return *ms.rest;
  }

  std::function<bool()> Rest(uint32_t step, const RestStep& r, const IterContext& ctx) {
    namespace http = protocol::http;
    namespace rest = protocol::rest;
    std::string method, path, content_type, body;
    std::vector<std::pair<std::string, std::string>> query;
    auto enc = [](const std::string& s) { return http::PercentEncode(s); };
    if (r.op == RestOp::kRequest) {
      method = r.method;
      path = Replace(Template(r.path, ctx), "{hub}", enc(sc_.hub));
      for (const auto& [k, v] : r.query_params) query.emplace_back(k, Template(v, ctx));
    } else {
      const rest::Operation op = *RestOperationOf(r.op);
      method = std::string(rest::OperationMethod(op));
      path = std::string(rest::OperationPath(op));
      path = Replace(path, "{hub}", enc(sc_.hub));
      if (r.group) path = Replace(path, "{group}", enc(Template(*r.group, ctx)));
      if (r.connection) path = Replace(path, "{connectionId}", enc(ConnectionIdOf(*r.connection)));
      if (r.user) path = Replace(path, "{userId}", enc(Template(*r.user, ctx)));
      if (r.permission) path = Replace(path, "{permission}", std::string(PermissionWireName(*r.permission)));
      if (r.excluded) {
        for (uint32_t m : r.excluded->members) query.emplace_back("excluded", members_[m].connection_id);
      }
      for (const std::string& id : r.excluded_ids) query.emplace_back("excluded", Template(id, ctx));
      const bool groups_op = r.op == RestOp::kAddToGroups || r.op == RestOp::kRemoveFromGroups;
      if (r.filter && !groups_op) query.emplace_back("filter", Template(*r.filter, ctx));
      if (r.message_ttl_seconds) query.emplace_back("messageTtlSeconds", std::to_string(*r.message_ttl_seconds));
      if (r.reason) query.emplace_back("reason", Template(*r.reason, ctx));
      if (r.target_name) query.emplace_back("targetName", Template(*r.target_name, ctx));
      if (r.max_page_size) query.emplace_back("maxpagesize", std::to_string(*r.max_page_size));
      if (r.top) query.emplace_back("top", std::to_string(*r.top));
      if (r.continuation_token) query.emplace_back("continuationToken", *r.continuation_token);
      if (r.op == RestOp::kGenerateToken) {
        if (r.user) query.emplace_back("userId", Template(*r.user, ctx));
        for (const std::string& role : r.roles) query.emplace_back("role", role);
        for (const std::string& g : r.groups) query.emplace_back("group", g);
        if (r.minutes_to_expire) query.emplace_back("minutesToExpire", std::to_string(*r.minutes_to_expire));
        if (r.client_type) query.emplace_back("clientType", *r.client_type);
      }
      if (groups_op && !r.has_body) {
        nlohmann::json b = {{"groups", r.groups}};
        if (r.filter) b["filter"] = Template(*r.filter, ctx);
        body = b.dump();
        content_type = "application/json";
      }
    }
    if (r.has_body) {
      body = Template(r.body, ctx);
      content_type = r.content_type.empty() ? "application/json" : r.content_type;
    }
    std::string target = path;
    for (size_t i = 0; i < query.size(); ++i) {
      target += i == 0 ? "?" : "&";
      target += enc(query[i].first) + "=" + enc(query[i].second);
    }
    const int64_t now = env_.Now();
    const std::string label = "s" + std::to_string(step) + "#" + std::to_string(rest_records_.size());
    const size_t index = rest_records_.size();
    rest_records_.push_back(RestRecord{r.client, label, now});
    step_rest_[step].push_back(index);
    const bool is_send = r.op == RestOp::kSendToAll || r.op == RestOp::kSendToGroup ||
                         r.op == RestOp::kSendToUser || r.op == RestOp::kSendToConnection;
    if (is_send) {
      std::string key = body;
      if (content_type.rfind("application/octet-stream", 0) == 0) {
        key = Base64Encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
      }
      std::string p(r.op == RestOp::kSendToAll     ? reports::kPathServerToAll
                    : r.op == RestOp::kSendToGroup ? reports::kPathServerToGroup
                    : r.op == RestOp::kSendToUser  ? reports::kPathServerToUser
                                                   : reports::kPathServerToConnection);
      RecordPublish(r.client, key, ctx.intended_ns.value_or(now), p);
      if (key == body) {
        // MQTT 3.1.1 receivers (and MQTT 5 ones without a content type) see the body as binary,
        // which PayloadText keys by its base64 (as RecordMqttPublish does the other way round).
        const std::string b64 = Base64Encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
        if (b64 != key) {
          publishes_[b64].push_back(
              PublishRecord{r.client, ctx.intended_ns.value_or(now), p, publish_counter_[r.client] - 1, issuing_intended_});
        }
      }
    }
    Arrow(now, sc_.members[r.client].name, "service", method + " " + path);
    result_.Count(reports::kCounterOperations);
    clients::RestCallOptions call = RestCallOptionsFor(r, ctx);
    // all_pages: follow nextLink and record one response whose `value` holds every page's.
    auto pages = std::make_shared<nlohmann::json>(nlohmann::json::array());
    auto on_response = std::make_shared<clients::RestClient::ResponseFn>();
    *on_response = [this, index, intended = ctx.intended_ns.value_or(now), all = r.all_pages, call,
                    pages, weak = std::weak_ptr<clients::RestClient::ResponseFn>(on_response),
                    member = r.client](const protocol::http::Response& resp) {
      RestRecord& rec = rest_records_[index];
      rec.time_ns = env_.Now();
      result_.Latency(reports::Metric::kRestCall, reports::ClientKind::kRest)
          .histogram.Record(std::max<int64_t>(1, rec.time_ns - intended));
      if (resp.status >= 400) result_.Count(reports::kCounterErrors);
      Arrow(rec.time_ns, "service", sc_.members[rec.member].name, std::to_string(resp.status));
      if (all && resp.status == 200) {
        nlohmann::json page = nlohmann::json::parse(resp.body, nullptr, false);
        if (page.is_object() && page.contains("value") && page["value"].is_array()) {
          for (const nlohmann::json& v : page["value"]) pages->push_back(v);
          if (page.contains("nextLink") && page["nextLink"].is_string()) {
            // nextLink is absolute and carries api-version: call its path and query as is.
            std::string link = page["nextLink"].get<std::string>();
            const size_t scheme = link.find("://");
            const size_t slash = link.find('/', scheme == std::string::npos ? 0 : scheme + 3);
            link = slash == std::string::npos ? "/" : link.substr(slash);
            clients::RestCallOptions next = call;
            next.omit_api_version = true;
            if (auto self = weak.lock()) {
              RestClientFor(member).Call("GET", link, "", "", rec.label, *self, next);
              return;
            }
          }
          rec.body = nlohmann::json{{"value", *pages}}.dump();
        } else {
          rec.body = resp.body;
        }
      } else {
        rec.body = resp.body;
      }
      rec.done = true;
      rec.status = resp.status;
      if (auto v = resp.headers.Get("x-ms-error-code")) rec.error_code = std::string(*v);
    };
    rest_callbacks_.push_back(on_response);
    RestClientFor(r.client).Call(method, target, content_type, body, label, *on_response, call);
    return [this, index] { return rest_records_[index].done; };
  }

  // What a REST step changes in the SDK's request: headers, api-version, and the bearer token
  // when the step or its client asks for a fault, another audience form or lifetime.
  clients::RestCallOptions RestCallOptionsFor(const RestStep& r, const IterContext& ctx) {
    clients::RestCallOptions call;
    for (const auto& [k, v] : r.request_headers) call.headers.emplace_back(k, Template(v, ctx));
    call.omit_api_version = r.omit_api_version;
    call.api_version = r.api_version;
    const TokenOptions& tok = r.auth ? *r.auth : sc_.ClientOf(r.client).token;
    if (r.auth || tok.fault != TokenFault::kNone || tok.audience || tok.lifetime_ns ||
        tok.rest_audience != RestAudienceForm::kFullUrl || !tok.claims.empty()) {
      call.token = [this, m = r.client, tok](const std::string& url) {
        TokenOptions t = tok;
        if (!t.audience) {
          t.audience = t.rest_audience == RestAudienceForm::kWithoutQuery ? url.substr(0, url.find('?')) : url;
        }
        return Token(m, t);
      };
    }
    return call;
  }

  // --- observations ----------------------------------------------------------------------

  void OnObservation(uint32_t m, const Observation& o) {
    MemberState& ms = members_[m];
    const int64_t now = env_.Now();
    if (o.kind == Observation::Kind::kRecovered) ms.transport++;
    ms.log.push_back(ObservedEvent{o, now, ms.transport});
    const ClientKind kind = sc_.ClientOf(m).kind;
    const reports::ClientKind rk = ReportKind(kind);
    switch (o.kind) {
      case Observation::Kind::kConnected:
        ms.connection_id = o.connection_id;
        ms.all_connection_ids.insert(o.connection_id);
        if (!o.reconnection_token.empty()) ms.reconnection_token = o.reconnection_token;
        if (o.mqtt) Arrow(now, "service", sc_.members[m].name, DescribeObservation(o));
        [[fallthrough]];
      case Observation::Kind::kOpened:
        if (ms.connect_issued_ns && (o.kind == Observation::Kind::kConnected || kind == ClientKind::kWebSocket)) {
          result_.Latency(reports::Metric::kConnect, rk).histogram.Record(std::max<int64_t>(1, now - *ms.connect_issued_ns));
          ms.connect_issued_ns.reset();
        }
        break;
      case Observation::Kind::kAck: {
        auto it = ms.ack_issued.find(o.ack_id);
        if (it != ms.ack_issued.end()) {
          result_.Latency(reports::Metric::kAckRtt, rk).histogram.Record(std::max<int64_t>(1, now - it->second));
          ms.ack_issued.erase(it);
        }
        if (o.mqtt) {
          std::string codes;
          for (mqtt::ReasonCode c : o.mqtt->reason_codes) codes += " " + std::to_string(static_cast<int>(c));
          Arrow(now, "service", sc_.members[m].name, o.mqtt->packet + " " + std::to_string(o.ack_id) + codes);
        } else {
          Arrow(now, "service", sc_.members[m].name, "ack " + std::to_string(o.ack_id) + (o.success ? "" : " " + o.error_name));
        }
        break;
      }
      case Observation::Kind::kDisconnected:
        if (o.mqtt) {
          Arrow(now, "service", sc_.members[m].name,
                "DISCONNECT " + std::to_string(o.mqtt->reason_codes.empty() ? 0 : static_cast<int>(o.mqtt->reason_codes[0])) +
                    (o.text.empty() ? "" : " " + o.text));
        }
        break;
      case Observation::Kind::kGroupMessage:
      case Observation::Kind::kServerMessage:
      case Observation::Kind::kRawMessage: {
        if (o.sequence_id) ms.max_sequence_id = std::max(ms.max_sequence_id, *o.sequence_id);
        result_.Count(reports::kCounterDelivered);
        if (delivered_series_ && now >= throughput_start_ns_) delivered_series_->Add(now);
        const std::string key = PayloadText(o);
        auto it = publishes_.find(key);
        if (it != publishes_.end()) {
          const PublishRecord* best = nullptr;
          for (const PublishRecord& p : it->second) {
            if (p.time_ns <= now) best = &p;
          }
          if (best) {
            auto& series = result_.Latency(reports::Metric::kPublishToReceive, rk, best->path,
                                           reports::SizeBucketLabel(o.payload.data.view().size()));
            series.histogram.Record(std::max<int64_t>(1, now - best->time_ns));
            // Open-loop sends are timed from their intended send time (coordinated omission).
            if (best->intended) series.coordinated_omission_corrected = true;
          }
        }
        if (delivered_arrows_ < 200) {
          ++delivered_arrows_;
          Arrow(now, "service", sc_.members[m].name, DescribeObservation(o));
        }
        break;
      }
      case Observation::Kind::kClosed:
      case Observation::Kind::kHandshakeFailed:
        Arrow(now, "service", sc_.members[m].name, DescribeObservation(o));
        break;
      case Observation::Kind::kSequenceRepeated: {
        // Checked on every scenario: a reliable transport never repeats a sequence id (§6.1).
        const std::string id = std::to_string(o.sequence_id.value_or(0));
        Fail(sc_.members[m].name + " received sequenceId " + id + " twice on one connection",
             "each sequenceId at most once per transport, increasing", "sequenceId " + id + " " + o.text,
             "REL-003", now);
        if (!arrows_.empty()) arrows_.back().highlighted = true;
        break;
      }
      default: break;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Scripted application server

  // Whether an upstream request concerns member m: its ce-connectionId is one the member had;
  // else its ce-userId is the member's user and the request is a connect (the member learns its
  // id later, if ever) or the member never learns connection ids (raw WebSocket clients).
  bool RequestIsFrom(const clients::AppServerRequest& r, uint32_t m) const {
    const std::string cid = r.Header("ce-connectionId");
    if (!cid.empty() && members_[m].all_connection_ids.count(cid)) return true;
    if (r.event_name != "connect" && !members_[m].all_connection_ids.empty()) return false;
    const std::optional<std::string>& user = sc_.members[m].user;
    return user && *user == r.Header("ce-userId");
  }

  static clients::AppServerReply ReplyOf(const UpstreamResponse& r) {
    clients::AppServerReply out;
    switch (r.action) {
      case UpstreamActionKind::kAccept:
        if (r.user_id || r.groups || r.roles || r.subprotocol) {
          out = clients::AppServerReply::ConnectWith(r.user_id, r.groups, r.roles, r.subprotocol);
        } else {
          out = clients::AppServerReply::Accept();
        }
        break;
      case UpstreamActionKind::kReject:
      case UpstreamActionKind::kReply:
        out.status = r.status;
        out.body = r.body;
        out.content_type = r.content_type;
        break;
      case UpstreamActionKind::kFail: out = clients::AppServerReply::Fail(); break;
      case UpstreamActionKind::kTimeout: out = clients::AppServerReply::Timeout(); break;
    }
    for (const auto& [name, value] : r.headers) out.headers.push_back({name, value});
    if (r.connection_state) out.connection_state = *r.connection_state;
    out.delay = r.delay_ns;
    return out;
  }

  bool ResponseMatches(const UpstreamResponse& r, const clients::AppServerRequest& q) const {
    if (std::find(r.events.begin(), r.events.end(), "*") == r.events.end() &&
        std::find(r.events.begin(), r.events.end(), q.event_name) == r.events.end()) {
      return false;
    }
    const UpstreamMatch& m = r.match;
    if (m.clients) {
      bool any = false;
      for (uint32_t member : m.clients->members) any = any || RequestIsFrom(q, member);
      if (!any) return false;
    }
    if (m.user_id && q.Header("ce-userId") != *m.user_id) return false;
    if (m.data_contains && q.body.find(*m.data_contains) == std::string::npos) return false;
    if (m.subprotocol) {
      // connect: offered in the body's "subprotocols"; other events: ce-subprotocol.
      std::string sub = q.Header("ce-subprotocol");
      if (q.event_name == "connect") {
        nlohmann::json body = nlohmann::json::parse(q.body, nullptr, false);
        bool offered = false;
        if (body.is_object() && body.contains("subprotocols") && body["subprotocols"].is_array()) {
          for (const auto& v : body["subprotocols"]) offered = offered || v == *m.subprotocol;
        }
        if (!offered) return false;
      } else if (sub != *m.subprotocol) {
        return false;
      }
    }
    return true;
  }

  // The scenario's responses decide every reply (first match wins, `times` limits a rule);
  // no match falls through to the AppServer's default (204). Each request is an arrow.
  void ProgramAppServer() {
    clients::AppServer* app = env_.app_server();
    if (!app) return;
    upstream_uses_.assign(sc_.upstream.responses.size(), 0);
    app->handler = [this](const clients::AppServerRequest& q) -> std::optional<clients::AppServerReply> {
      if (q.method != "POST") return std::nullopt;
      for (size_t i = 0; i < sc_.upstream.responses.size(); ++i) {
        const UpstreamResponse& r = sc_.upstream.responses[i];
        if (r.times && upstream_uses_[i] >= *r.times) continue;
        if (!ResponseMatches(r, q)) continue;
        ++upstream_uses_[i];
        clients::AppServerReply reply = ReplyOf(r);
        // Drawn when decided (arrows stay in time order); a delay is part of the label.
        const int64_t t = env_.Now();
        const std::string after = reply.delay > 0 ? " after " + FormatDuration(reply.delay) : "";
        switch (reply.action) {
          case clients::AppServerReply::Action::kRespond:
            Arrow(t, "app", "service", std::to_string(reply.status) + " " + q.event_name + after);
            break;
          case clients::AppServerReply::Action::kFail: Arrow(t, "app", "service", "reset " + q.event_name); break;
          case clients::AppServerReply::Action::kTimeout: break;
        }
        return reply;
      }
      Arrow(env_.Now(), "app", "service", "204 " + q.event_name);  // the AppServer's default
      return std::nullopt;
    };
    app->on_request = [this](const clients::AppServerRequest& q) {
      Arrow(q.time, "service", "app", q.method == "POST" ? "POST " + q.event_name : q.method + " (validation)");
      if (q.method == "OPTIONS") {  // the abuse-protection answer (ValidationReply)
        switch (sc_.upstream.validation) {
          case ValidationReply::kAllowAny: Arrow(q.time, "app", "service", "200 WebHook-Allowed-Origin: *"); break;
          case ValidationReply::kAllowOrigin:
            Arrow(q.time, "app", "service", "200 WebHook-Allowed-Origin: service");
            break;
          case ValidationReply::kDeny: Arrow(q.time, "app", "service", "401 (validation denied)"); break;
        }
      }
    };
  }

  void Arrow(int64_t t, std::string from, std::string to, std::string label) {
    if (arrows_.size() >= 4 * kSequenceArrowsWanted) arrows_.erase(arrows_.begin(), arrows_.begin() + kSequenceArrowsWanted);
    arrows_.push_back(reports::Arrow{t, std::move(from), std::move(to), std::move(label), false});
  }

  // ---------------------------------------------------------------------------------------
  // Evaluation

  void Fail(std::string message, std::string expected, std::string actual, std::string case_id,
            std::optional<int64_t> time = std::nullopt) {
    reports::Failure f;
    f.message = std::move(message);
    f.expected = std::move(expected);
    f.actual = std::move(actual);
    f.case_id = case_id;
    f.time_ns = time;
    if (!f.case_id.empty()) failed_cases_.insert(f.case_id);
    result_.AddFailure(std::move(f));
  }

  // Marks the arrow that carried `o` (an observation in member m's log) as the one that broke
  // an expectation: the sequence diagram of the failing run highlights it.
  void Highlight(uint32_t m, const Observation* o) {
    if (!o) return;
    for (const ObservedEvent& ev : members_[m].log) {
      if (&ev.observation == o) {
        highlights_.emplace(ev.time_ns, sc_.members[m].name);
        return;
      }
    }
  }

  struct Window {
    int64_t open = 0;
    int64_t close = 0;
  };
  Window WindowOf(const TimeWindow& w) const {
    Window out{0, end_ns_};
    if (w.after_step) out.open = std::max<int64_t>(0, step_issued_[*w.after_step]);
    if (w.within_ns) out.close = std::min(out.close, out.open + *w.within_ns);
    if (w.until_step && step_issued_[*w.until_step] >= 0) out.close = std::min(out.close, step_issued_[*w.until_step]);
    return out;
  }
  static std::string DescribeWindow(const Window& w) {
    return "[" + FormatDuration(w.open) + ", " + FormatDuration(w.close) + "]";
  }

  std::vector<std::string> ConnectionIds() const {
    std::vector<std::string> ids;
    for (const MemberState& m : members_) ids.push_back(m.connection_id);
    return ids;
  }

  std::string Recent(uint32_t m, const Window& w, size_t max = 5) const {
    std::vector<std::string> got;
    const ClientKind kind = sc_.ClientOf(m).kind;
    for (const ObservedEvent& e : members_[m].log) {
      if (e.time_ns < w.open || e.time_ns > w.close || !IsMessage(e, kind)) continue;
      got.push_back(DescribeObservation(e.observation));
    }
    if (got.empty()) return "nothing";
    std::string out;
    size_t from = got.size() > max ? got.size() - max : 0;
    if (from > 0) out = "... " + std::to_string(from) + " earlier; ";
    for (size_t i = from; i < got.size(); ++i) {
      if (i > from) out += "; ";
      out += got[i];
    }
    return out;
  }

  std::string Where(const Expectation& e) const {
    return std::string(ExpectKindName(e.kind())) + " at " + FormatPos(e.pos);
  }

  void Evaluate() {
    const std::vector<std::string> ids = ConnectionIds();
    std::set<std::string> all_cases;
    for (const Expectation& e : sc_.expectations) {
      if (!e.case_id.empty()) all_cases.insert(e.case_id);
      switch (e.kind()) {
        case ExpectKind::kReceive: EvalReceive(e, ids); break;
        case ExpectKind::kNeverReceive: EvalNever(e, ids); break;
        case ExpectKind::kAck: EvalAck(e); break;
        case ExpectKind::kClosed: EvalClosed(e); break;
        case ExpectKind::kConnected: EvalConnected(e); break;
        case ExpectKind::kHttpStatus: EvalHttp(e); break;
        case ExpectKind::kConnack: EvalConnack(e); break;
        case ExpectKind::kSuback: EvalSuback(e); break;
        case ExpectKind::kPuback: EvalPuback(e); break;
        case ExpectKind::kUpstreamEvent: EvalUpstreamEvent(e); break;
        default:
          Fail(Where(e) + ": this expectation kind needs a client that is not available", "", "", e.case_id);
          break;
      }
    }
    for (const Invariant& inv : sc_.invariants) {
      if (!inv.case_id.empty()) all_cases.insert(inv.case_id);
      EvalInvariant(inv);
    }
    for (const Step& s : sc_.steps) {
      if (!s.case_id.empty()) all_cases.insert(s.case_id);
    }
    for (const Threshold& t : sc_.thresholds) {
      if (!t.case_id.empty()) all_cases.insert(t.case_id);
      reports::ThresholdResult r = reports::EvaluateThreshold(t.parsed, result_);
      r.expression = t.expression;
      if (!r.passed && !t.case_id.empty()) threshold_failed_cases_.insert(t.case_id);
      result_.AddThresholdResult(std::move(r));
    }
    for (const std::string& c : all_cases) {
      if (failed_cases_.count(c)) {
        std::string msg;
        for (const reports::Failure& f : result_.failures) {
          if (f.case_id == c) {
            msg = f.message;
            break;
          }
        }
        result_.AddCase(c, reports::Outcome::kFail, msg);
      } else if (threshold_failed_cases_.count(c)) {
        result_.AddCase(c, reports::Outcome::kFail, "threshold failed");
      } else {
        result_.AddCase(c, reports::Outcome::kPass);
      }
    }
    if (!result_.failures.empty() || result_.status != reports::Outcome::kPass) {
      for (const std::string& name : LifelineOrder()) result_.sequence.AddLifeline(name);
      size_t from = arrows_.size() > kSequenceArrowsWanted ? arrows_.size() - kSequenceArrowsWanted : 0;
      for (size_t i = from; i < arrows_.size(); ++i) {
        const reports::Arrow& a = arrows_[i];
        const bool marked = highlights_.count({a.time_ns, a.to}) > 0 ||
                            (a.from != "service" && highlights_.count({a.time_ns, a.from}) > 0);
        result_.sequence.AddArrow(a.time_ns, a.from, a.to, a.label, a.highlighted || marked);
      }
      if (!result_.failures.empty()) result_.sequence.violated_expectation = result_.failures.front().message;
    }
  }

  std::vector<std::string> LifelineOrder() const {
    std::vector<std::string> out;
    for (const Member& m : sc_.members) out.push_back(m.name);
    out.push_back("service");
    if (sc_.upstream.present) out.push_back("app");  // the scripted application server
    return out;
  }

  void EvalReceive(const Expectation& e, const std::vector<std::string>& ids) {
    const auto& r = e.As<ReceiveExpect>();
    const Window w = WindowOf(r.window);
    uint64_t total = 0;
    for (uint32_t m : r.clients.members) {
      const ClientKind kind = sc_.ClientOf(m).kind;
      const auto& log = members_[m].log;
      const std::string who = sc_.members[m].name;
      if (!r.in_order.empty()) {
        size_t next = 0;
        for (const ObservedEvent& ev : log) {
          if (next == r.in_order.size()) break;
          if (ev.time_ns < w.open || ev.time_ns > w.close) continue;
          if (MatchMessage(r.in_order[next], ev, kind, ids)) ++next;
        }
        if (next < r.in_order.size()) {
          Fail(Where(e) + ": " + who + " did not receive the messages in order (" +
                   std::to_string(next) + " of " + std::to_string(r.in_order.size()) + " matched)",
               "next: " + DescribeMatcher(r.in_order[next]) + " in " + DescribeWindow(w),
               Recent(m, w, 8), e.case_id);
        }
        total += next == r.in_order.size() ? 1 : 0;
        continue;
      }
      uint64_t n = 0;
      for (const ObservedEvent& ev : log) {
        if (ev.time_ns < w.open || ev.time_ns > w.close) continue;
        if (MatchMessage(r.match, ev, kind, ids)) ++n;
      }
      total += n;
      CountSpec c = r.count;
      if (c.empty()) c.at_least = 1;
      if (!c.Accepts(n)) {
        std::string want = c.exactly ? "exactly " + std::to_string(*c.exactly)
                           : c.at_least && c.at_most ? std::to_string(*c.at_least) + ".." + std::to_string(*c.at_most)
                           : c.at_least ? "at least " + std::to_string(*c.at_least)
                                        : "at most " + std::to_string(*c.at_most);
        Fail(Where(e) + ": " + who + " received " + std::to_string(n) + " matching message(s)",
             want + " x " + DescribeMatcher(r.match) + " in " + DescribeWindow(w),
             std::to_string(n) + " matching; recent: " + Recent(m, w), e.case_id);
      }
    }
    if (!r.total.empty() && !r.total.Accepts(total)) {
      Fail(Where(e) + ": total over " + r.clients.text + " is " + std::to_string(total),
           "total " + std::to_string(r.total.exactly.value_or(r.total.at_least.value_or(0))),
           std::to_string(total), e.case_id);
    }
  }

  void EvalNever(const Expectation& e, const std::vector<std::string>& ids) {
    const auto& r = e.As<NeverReceiveExpect>();
    const Window w = WindowOf(r.window);
    for (uint32_t m : r.clients.members) {
      const ClientKind kind = sc_.ClientOf(m).kind;
      for (const ObservedEvent& ev : members_[m].log) {
        if (ev.time_ns < w.open || ev.time_ns > w.close) continue;
        if (MatchMessage(r.match, ev, kind, ids)) {
          Highlight(m, &ev.observation);
          Fail(Where(e) + ": " + sc_.members[m].name + " received a message it must not",
               "no " + DescribeMatcher(r.match) + " in " + DescribeWindow(w),
               DescribeObservation(ev.observation) + " at " + FormatDuration(ev.time_ns), e.case_id,
               ev.time_ns);
          break;
        }
      }
    }
  }

  void EvalAck(const Expectation& e) {
    const auto& a = e.As<AckExpect>();
    std::vector<AckRecord> targets;
    if (a.step) {
      auto it = step_acks_.find(*a.step);
      if (it != step_acks_.end()) targets = it->second;
      if (targets.empty()) {
        Fail(Where(e) + ": the step sent no request with an ackId", "an ack", "no request", e.case_id);
        return;
      }
    } else if (a.client && a.ack_id) {
      for (uint32_t m : a.client->members) targets.push_back(AckRecord{m, *a.ack_id, 0, 0});
    }
    const bool want_success = a.success && !a.error;
    for (const AckRecord& t : targets) {
      const Observation* got = nullptr;
      const auto& log = members_[t.member].log;
      for (size_t i = t.log_mark; i < log.size(); ++i) {
        const Observation& o = log[i].observation;
        if (o.kind == Observation::Kind::kAck && o.ack_id == t.ack_id) {
          got = &o;
          break;
        }
      }
      std::string want = "ack " + std::to_string(t.ack_id) +
                         (want_success ? " success" : " error " + a.error.value_or("(any)"));
      if (!got) {
        Fail(Where(e) + ": " + sc_.members[t.member].name + " got no ack " + std::to_string(t.ack_id),
             want, "no ack", e.case_id);
        continue;
      }
      bool ok = got->success == want_success;
      if (ok && a.error && got->error_name != *a.error) ok = false;
      if (ok && a.message && got->text != *a.message) ok = false;
      if (ok && a.message_contains && got->text.find(*a.message_contains) == std::string::npos) ok = false;
      if (!ok) {
        Highlight(t.member, got);
        Fail(Where(e) + ": " + sc_.members[t.member].name + " got the wrong ack", want,
             DescribeObservation(*got) + (got->text.empty() ? "" : " \"" + got->text + "\""), e.case_id);
      }
    }
  }

  void EvalClosed(const Expectation& e) {
    const auto& c = e.As<ClosedExpect>();
    const Window w = WindowOf(c.window);
    std::string want = c.http_status ? "upgrade refused with HTTP " + std::to_string(*c.http_status)
                       : c.code       ? "closed with code " + std::to_string(*c.code)
                                      : "closed";
    if (c.mqtt_reason_code) want += " with MQTT reason code " + std::to_string(*c.mqtt_reason_code);
    if (c.reason_contains) want += " reason containing \"" + *c.reason_contains + "\"";
    if (c.by_service) want += *c.by_service ? ", started by the service" : ", started by the client";
    for (uint32_t m : c.clients.members) {
      // Any close in the window that fits passes (a kill and a refused recovery both close).
      const Observation* last = nullptr;
      bool ok = false;
      for (const ObservedEvent& ev : members_[m].log) {
        if (ev.time_ns < w.open || ev.time_ns > w.close) continue;
        const Observation& o = ev.observation;
        // MQTT: a server DISCONNECT or a refusing CONNACK carries the reason code.
        const bool mqtt_end = o.mqtt && (o.kind == Observation::Kind::kDisconnected ||
                                         o.kind == Observation::Kind::kHandshakeFailed);
        if (o.kind != Observation::Kind::kClosed && o.kind != Observation::Kind::kHandshakeFailed && !mqtt_end) continue;
        last = &o;
        bool fits = true;
        if (c.mqtt_reason_code &&
            (!mqtt_end || o.mqtt->reason_codes.empty() || static_cast<uint8_t>(o.mqtt->reason_codes[0]) != *c.mqtt_reason_code)) {
          fits = false;
        }
        if (c.http_status && (o.kind != Observation::Kind::kHandshakeFailed || o.http_status != *c.http_status)) fits = false;
        if (c.code && (o.kind != Observation::Kind::kClosed || o.close_code != *c.code)) fits = false;
        if (c.reason_contains && o.text.find(*c.reason_contains) == std::string::npos) fits = false;
        // Who started it: a refused upgrade or CONNACK and a server DISCONNECT are the service's.
        if (c.by_service) {
          const bool by_service = o.kind == Observation::Kind::kClosed ? o.by_peer : true;
          if (by_service != *c.by_service) fits = false;
        }
        if (fits) {
          ok = true;
          break;
        }
      }
      if (ok) continue;
      if (!last) {
        Fail(Where(e) + ": " + sc_.members[m].name + " was not closed", want,
             "still open; recent: " + Recent(m, w), e.case_id);
      } else {
        Highlight(m, last);
        Fail(Where(e) + ": " + sc_.members[m].name + " closed differently", want, DescribeObservation(*last), e.case_id);
      }
    }
  }

  void EvalConnected(const Expectation& e) {
    const auto& c = e.As<ConnectedExpect>();
    const Window w = WindowOf(c.window);
    for (uint32_t m : c.clients.members) {
      const Observation* got = nullptr;
      const bool raw = sc_.ClientOf(m).kind == ClientKind::kWebSocket;
      for (const ObservedEvent& ev : members_[m].log) {
        if (ev.time_ns < w.open || ev.time_ns > w.close) continue;
        if (ev.observation.kind == (raw ? Observation::Kind::kOpened : Observation::Kind::kConnected)) {
          got = &ev.observation;
          break;
        }
      }
      std::string why;
      if (got && c.subprotocol) {
        // The negotiated subprotocol is on the upgrade (kOpened), also for JSON kinds.
        std::string selected;
        for (const ObservedEvent& ev : members_[m].log) {
          if (ev.observation.kind == Observation::Kind::kOpened) selected = ev.observation.subprotocol;
          if (&ev.observation == got) break;
        }
        if (selected != *c.subprotocol) why = "subprotocol \"" + selected + "\"";
      }
      if (!got) {
        Fail(Where(e) + ": " + sc_.members[m].name + " did not connect", "connected",
             Recent(m, Window{w.open, w.close}) + (members_[m].log.empty() ? "" : "; last: " + DescribeObservation(members_[m].log.back().observation)),
             e.case_id);
        continue;
      }
      if (raw) {
        if (!why.empty()) Fail(Where(e) + ": " + sc_.members[m].name + " connected differently", "as specified", why, e.case_id);
        continue;
      }
      if (c.user_id) {
        const bool match = c.user_id->is_null ? !got->user_id || got->user_id->empty()
                                              : got->user_id && *got->user_id == c.user_id->value;
        if (!match) why = "user_id " + (got->user_id ? *got->user_id : std::string("null"));
      }
      if (c.reconnection_token && *c.reconnection_token == got->reconnection_token.empty()) {
        why = got->reconnection_token.empty() ? "no reconnection token" : "a reconnection token";
      }
      if (c.connection_id && got->connection_id != *c.connection_id) why = "connection id " + got->connection_id;
      if (!why.empty()) Fail(Where(e) + ": " + sc_.members[m].name + " connected differently", "as specified", why, e.case_id);
    }
  }

  void EvalHttp(const Expectation& e) {
    const auto& h = e.As<HttpStatusExpect>();
    auto it = step_rest_.find(h.step);
    if (it == step_rest_.end()) {
      // A connect step's expect_status: the upgrade's status.
      const Step& s = sc_.steps[h.step];
      if (s.kind() == StepKind::kConnect) {
        for (uint32_t m : s.As<ConnectStep>().clients.members) {
          int status = 0;
          for (const ObservedEvent& ev : members_[m].log) {
            if (ev.observation.kind == Observation::Kind::kHandshakeFailed) status = ev.observation.http_status;
            if (ev.observation.kind == Observation::Kind::kOpened) status = 101;
            if (status != 0) break;
          }
          if (std::find(h.statuses.begin(), h.statuses.end(), status) == h.statuses.end()) {
            Fail(Where(e) + ": " + sc_.members[m].name + " upgrade answered " + std::to_string(status),
                 "HTTP " + JoinStatuses(h.statuses), "HTTP " + std::to_string(status), e.case_id);
          }
        }
        return;
      }
      Fail(Where(e) + ": the step made no HTTP call", "HTTP " + JoinStatuses(h.statuses), "none", e.case_id);
      return;
    }
    for (size_t index : it->second) {
      const RestRecord& r = rest_records_[index];
      if (!r.done) {
        Fail(Where(e) + ": no response", "HTTP " + JoinStatuses(h.statuses), "no response", e.case_id);
        continue;
      }
      if (std::find(h.statuses.begin(), h.statuses.end(), r.status) == h.statuses.end()) {
        Fail(Where(e) + ": " + sc_.steps[h.step].label + " answered " + std::to_string(r.status),
             "HTTP " + JoinStatuses(h.statuses), "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200),
             e.case_id);
        continue;
      }
      if (h.error_code && r.error_code != *h.error_code) {
        Fail(Where(e) + ": wrong x-ms-error-code", *h.error_code, r.error_code.empty() ? "(none)" : r.error_code, e.case_id);
      }
      if (h.body) {
        // String values may name run-time ids: "${alice.connection_id}".
        const nlohmann::json want = Templated(*h.body);
        nlohmann::json got = nlohmann::json::parse(r.body, nullptr, false);
        if (got.is_discarded() || !Subset(want, got)) {
          Fail(Where(e) + ": response body differs", want.dump(), r.body.substr(0, 300), e.case_id);
        }
      }
    }
  }

  // The first CONNACK after `mark` in member m's log.
  const Observation* ConnackAfter(uint32_t m, size_t mark) const {
    const auto& log = members_[m].log;
    for (size_t i = mark; i < log.size(); ++i) {
      const Observation& o = log[i].observation;
      if (o.mqtt && o.mqtt->packet == "connack") return &o;
    }
    return nullptr;
  }

  void EvalConnack(const Expectation& e) {
    const auto& c = e.As<ConnackExpect>();
    // An inline expect_connack checks the CONNACK answering that step's CONNECT; a top-level
    // connack expectation the member's first one.
    std::vector<MqttRecord> targets;
    if (e.from_step) {
      auto it = step_connects_.find(*e.from_step);
      if (it != step_connects_.end()) targets = it->second;
    } else {
      for (uint32_t m : c.clients.members) targets.push_back(MqttRecord{m, 0, 0});
    }
    std::string want = "CONNACK";
    if (c.reason_code) want += " reason code " + std::to_string(*c.reason_code);
    if (c.session_present) want += *c.session_present ? " session_present" : " no session";
    if (c.assigned_client_id) want += " assigned client id " + *c.assigned_client_id;
    for (const MqttUserProperty& u : c.user_properties) want += " user property " + u.name + "=" + u.value;
    for (const MqttRecord& t : targets) {
      const std::string who = sc_.members[t.member].name;
      const Observation* got = ConnackAfter(t.member, t.log_mark);
      if (!got) {
        const auto& log = members_[t.member].log;
        Fail(Where(e) + ": " + who + " received no CONNACK", want,
             log.size() > t.log_mark ? "last: " + DescribeObservation(log.back().observation) : "nothing", e.case_id);
        continue;
      }
      const mqtt::Properties& p = got->mqtt->properties;
      const int code = got->mqtt->reason_codes.empty() ? 0 : static_cast<int>(got->mqtt->reason_codes[0]);
      bool ok = true;
      if (c.reason_code && code != *c.reason_code) ok = false;
      if (c.session_present && got->mqtt->session_present != *c.session_present) ok = false;
      if (c.assigned_client_id && p.assigned_client_identifier != c.assigned_client_id) ok = false;
      for (const MqttUserProperty& u : c.user_properties) {
        bool found = false;
        for (const mqtt::UserProperty& g : p.user_properties) found = found || (g.key == u.name && g.value == u.value);
        ok = ok && found;
      }
      if (!ok) {
        Highlight(t.member, got);
        Fail(Where(e) + ": " + who + " got a different CONNACK", want, DescribeObservation(*got), e.case_id);
      }
    }
  }

  // The acknowledgement of packet `r.packet_id` after the request was sent.
  const Observation* MqttAckOf(const MqttRecord& r) const {
    const auto& log = members_[r.member].log;
    for (size_t i = r.log_mark; i < log.size(); ++i) {
      const Observation& o = log[i].observation;
      if (o.kind == Observation::Kind::kAck && o.mqtt && o.ack_id == r.packet_id) return &o;
    }
    return nullptr;
  }

  // Runs check(who, ack) for the acknowledgement of every MQTT request step `step` sent, and
  // reports a step that sent none or a request that got no acknowledgement.
  template <typename Check>
  void ForEachMqttAck(const Expectation& e, uint32_t step, const std::string& want,
                      std::string_view request, std::string_view ack, Check check) {
    auto it = step_mqtt_.find(step);
    if (it == step_mqtt_.end() || it->second.empty()) {
      Fail(Where(e) + ": the step sent no " + std::string(request), want,
           "no " + std::string(request) + " (not connected?)", e.case_id);
      return;
    }
    for (const MqttRecord& r : it->second) {
      const std::string who = sc_.members[r.member].name;
      const Observation* got = MqttAckOf(r);
      if (!got) {
        Fail(Where(e) + ": " + who + " received no " + std::string(ack), want, "none", e.case_id);
        continue;
      }
      check(who, *got);
    }
  }

  void EvalSuback(const Expectation& e) {
    const auto& x = e.As<SubackExpect>();
    std::string want = "SUBACK";
    for (uint8_t c : x.reason_codes) want += " " + std::to_string(c);
    ForEachMqttAck(e, x.step, want, "SUBSCRIBE", "SUBACK", [&](const std::string& who, const Observation& got) {
      std::vector<uint8_t> codes;
      for (mqtt::ReasonCode c : got.mqtt->reason_codes) codes.push_back(static_cast<uint8_t>(c));
      // One expected code stands for every topic filter of the SUBSCRIBE.
      bool ok = x.reason_codes.size() == 1
                    ? !codes.empty() && std::all_of(codes.begin(), codes.end(), [&](uint8_t c) { return c == x.reason_codes[0]; })
                    : codes == x.reason_codes;
      if (!ok) Fail(Where(e) + ": " + who + " got a different SUBACK", want, DescribeObservation(got), e.case_id);
    });
  }

  void EvalPuback(const Expectation& e) {
    const auto& x = e.As<PubackExpect>();
    const std::string want = "PUBACK/PUBREC reason code " + std::to_string(x.reason_code);
    ForEachMqttAck(e, x.step, want, "PUBLISH with QoS > 0", "acknowledgement",
                   [&](const std::string& who, const Observation& got) {
                     const int code = got.mqtt->reason_codes.empty() ? 0 : static_cast<int>(got.mqtt->reason_codes[0]);
                     if (code != x.reason_code) {
                       Fail(Where(e) + ": " + who + " got a different acknowledgement", want, DescribeObservation(got), e.case_id);
                     }
                   });
  }

  nlohmann::json Templated(const nlohmann::json& j) const {
    if (j.is_string()) return Template(j.get<std::string>(), IterContext{});
    if (!j.is_structured()) return j;
    nlohmann::json out = j;
    for (auto it = out.begin(); it != out.end(); ++it) *it = Templated(*it);
    return out;
  }

  void EvalUpstreamEvent(const Expectation& e) {
    const auto& u = e.As<UpstreamEventExpect>();
    const clients::AppServer* app = env_.app_server();
    if (!app) {
      Fail(Where(e) + ": no scripted application server in this environment", "", "", e.case_id);
      return;
    }
    const Window w = WindowOf(u.window);
    CountSpec c = u.count;
    if (c.empty()) c.at_least = 1;
    auto evaluate = [&](std::optional<uint32_t> member, const std::string& who) {
      uint64_t n = 0;
      std::string seen;
      for (const clients::AppServerRequest& r : app->requests()) {
        if (r.time < w.open || r.time > w.close || r.event_name != u.event) continue;
        if (member && !RequestIsFrom(r, *member)) continue;
        std::string why;
        for (const auto& [name, value] : u.headers) {
          if (r.Header(name) != value) why = name + ": \"" + r.Header(name) + "\"";
        }
        if (u.body_text && r.body != *u.body_text) why = "body \"" + r.body.substr(0, 80) + "\"";
        if (u.body) {
          nlohmann::json got = nlohmann::json::parse(r.body, nullptr, false);
          if (got.is_discarded() || !Subset(*u.body, got)) why = "body " + r.body.substr(0, 120);
        }
        if (why.empty()) {
          ++n;
        } else if (seen.size() < 300) {
          seen += (seen.empty() ? "" : "; ") + why;
        }
      }
      if (!c.Accepts(n)) {
        std::string want = c.exactly ? "exactly " + std::to_string(*c.exactly)
                           : c.at_least && c.at_most ? std::to_string(*c.at_least) + ".." + std::to_string(*c.at_most)
                           : c.at_least ? "at least " + std::to_string(*c.at_least)
                                        : "at most " + std::to_string(*c.at_most);
        Fail(Where(e) + ": the application server received " + std::to_string(n) + " matching \"" +
                 u.event + "\" event(s)" + who,
             want + " in " + DescribeWindow(w),
             std::to_string(n) + (seen.empty() ? "" : "; non-matching: " + seen), e.case_id);
      }
    };
    if (!u.clients) {
      evaluate(std::nullopt, "");
      return;
    }
    for (uint32_t m : u.clients->members) evaluate(m, " for " + sc_.members[m].name);
  }

  static bool Subset(const nlohmann::json& want, const nlohmann::json& got) {
    if (want.is_object()) {
      if (!got.is_object()) return false;
      for (auto it = want.begin(); it != want.end(); ++it) {
        if (!got.contains(it.key()) || !Subset(it.value(), got[it.key()])) return false;
      }
      return true;
    }
    return want == got;
  }

  static std::string JoinStatuses(const std::vector<int>& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? " or " : "") + std::to_string(s[i]);
    return out;
  }

  void EvalInvariant(const Invariant& inv) {
    std::vector<uint32_t> who;
    if (inv.clients) {
      who = inv.clients->members;
    } else {
      for (uint32_t m = 0; m < sc_.members.size(); ++m) who.push_back(m);
    }
    const std::string name(InvariantKindName(inv.kind));
    for (uint32_t m : who) {
      const auto& log = members_[m].log;
      const std::string member = sc_.members[m].name;
      switch (inv.kind) {
        case InvariantKind::kNoDuplicates: {
          // A message counts as duplicated when a receiver sees it more often than it was
          // published; reliable clients drop sequenceIds they have seen (as the SDK does).
          std::map<std::pair<std::string, std::string>, uint64_t> seen;
          uint64_t max_seq = 0;
          for (const ObservedEvent& ev : log) {
            const Observation& o = ev.observation;
            if (o.kind != Observation::Kind::kGroupMessage && o.kind != Observation::Kind::kServerMessage &&
                o.kind != Observation::Kind::kRawMessage) {
              continue;
            }
            if (o.sequence_id) {
              if (*o.sequence_id <= max_seq) continue;
              max_seq = *o.sequence_id;
            }
            const std::string key = PayloadText(o);
            const uint64_t n = ++seen[{o.group, key}];
            auto pub = publishes_.find(key);
            const uint64_t published = pub == publishes_.end() ? 1 : pub->second.size();
            if (n > published) {
              Fail("invariant " + name + " at " + FormatPos(inv.pos) + ": " + member + " received a message twice",
                   "each message at most once", DescribeObservation(o) + " at " + FormatDuration(ev.time_ns),
                   inv.case_id, ev.time_ns);
              break;
            }
          }
          break;
        }
        case InvariantKind::kSequenceIdsContiguous: {
          // Within one transport, sequenceIds rise by exactly one; a new transport (recovery)
          // may replay from any id not above the highest seen + 1.
          uint64_t max_seq = 0;
          uint32_t transport = 0;
          uint64_t last_in_transport = 0;
          for (const ObservedEvent& ev : log) {
            const Observation& o = ev.observation;
            if (!o.sequence_id) continue;
            const uint64_t id = *o.sequence_id;
            bool ok = true;
            if (ev.transport != transport) {
              transport = ev.transport;
              ok = id >= 1 && id <= max_seq + 1;
            } else {
              ok = id == last_in_transport + 1 || (last_in_transport == 0 && id == max_seq + 1);
            }
            if (!ok) {
              Fail("invariant " + name + " at " + FormatPos(inv.pos) + ": " + member + " sequenceIds jump",
                   "sequenceId " + std::to_string(ev.transport == transport && last_in_transport ? last_in_transport + 1 : max_seq + 1),
                   "sequenceId " + std::to_string(id) + " (" + DescribeObservation(o) + ")", inv.case_id, ev.time_ns);
              break;
            }
            last_in_transport = id;
            max_seq = std::max(max_seq, id);
          }
          break;
        }
        case InvariantKind::kPerPublisherOrder: {
          std::map<uint32_t, uint64_t> last;  // publisher -> last index seen
          for (const ObservedEvent& ev : log) {
            const Observation& o = ev.observation;
            if (o.kind != Observation::Kind::kGroupMessage && o.kind != Observation::Kind::kServerMessage &&
                o.kind != Observation::Kind::kRawMessage) {
              continue;
            }
            auto pub = publishes_.find(PayloadText(o));
            if (pub == publishes_.end() || pub->second.size() != 1) continue;  // ambiguous
            const PublishRecord& p = pub->second.front();
            auto it = last.find(p.publisher);
            if (it != last.end() && p.index < it->second) {
              Fail("invariant " + name + " at " + FormatPos(inv.pos) + ": " + member + " received " +
                       sc_.members[p.publisher].name + "'s messages out of order",
                   "publish order", DescribeObservation(o) + " after a later message", inv.case_id, ev.time_ns);
              break;
            }
            last[p.publisher] = std::max(it == last.end() ? 0 : it->second, p.index);
          }
          break;
        }
        case InvariantKind::kNoDeliveryOutsideGroup: {
          // The member's own confirmed joins and leaves (acks, SUBACK, UNSUBACK) apply from
          // their position in its log: the service acknowledges after it applied them, on the
          // same ordered stream as the group's messages.
          const std::vector<MembershipEvent> own = OwnMembershipEvents(m);
          std::map<std::string, const MembershipEvent*> state;
          size_t next = 0;
          for (size_t i = 0; i < log.size(); ++i) {
            while (next < own.size() && own[next].log_index < i) {
              state[own[next].group] = &own[next];
              ++next;
            }
            const ObservedEvent& ev = log[i];
            const Observation& o = ev.observation;
            if (o.kind != Observation::Kind::kGroupMessage) continue;
            auto st = state.find(o.group);
            bool member_now;
            if (st != state.end() && st->second->joined) {
              member_now = true;
            } else if (st != state.end()) {
              member_now = AddedSince(m, o.group, st->second->time_ns, ev.time_ns);
            } else {
              member_now = WasMember(m, o.group, ev.time_ns);
            }
            if (!member_now) {
              Fail("invariant " + name + " at " + FormatPos(inv.pos) + ": " + member +
                       " received a message of group " + o.group + " without being a member",
                   "no delivery outside group " + o.group, DescribeObservation(o), inv.case_id, ev.time_ns);
              break;
            }
          }
          break;
        }
      }
    }
  }

  struct MembershipEvent {
    size_t log_index = 0;  // the acknowledgement's position in the member's log
    int64_t time_ns = 0;
    std::string group;
    bool joined = false;
  };

  // Joins/leaves with a successful ack, and MQTT subscriptions (SUBACK granted) and
  // unsubscriptions (UNSUBACK), in log order.
  std::vector<MembershipEvent> OwnMembershipEvents(uint32_t m) const {
    std::vector<MembershipEvent> out;
    const auto& log = members_[m].log;
    for (const auto& [step, acks] : step_acks_) {
      const Step& s = sc_.steps[step];
      if (s.kind() != StepKind::kJoin && s.kind() != StepKind::kLeave) continue;
      const bool join = s.kind() == StepKind::kJoin;
      const std::string& group = join ? s.As<JoinStep>().group : s.As<LeaveStep>().group;
      for (const AckRecord& a : acks) {
        if (a.member != m) continue;
        for (size_t i = a.log_mark; i < log.size(); ++i) {
          const Observation& o = log[i].observation;
          if (o.kind == Observation::Kind::kAck && !o.mqtt && o.ack_id == a.ack_id) {
            if (o.success) out.push_back(MembershipEvent{i, log[i].time_ns, group, join});
            break;
          }
        }
      }
    }
    for (const auto& [step, records] : step_mqtt_) {
      const Step& s = sc_.steps[step];
      if (s.kind() != StepKind::kSubscribe && s.kind() != StepKind::kUnsubscribe) continue;
      for (const MqttRecord& r : records) {
        if (r.member != m) continue;
        const Observation* ack = MqttAckOf(r);
        if (!ack) continue;
        size_t at = r.log_mark;
        while (at < log.size() && &log[at].observation != ack) ++at;
        if (s.kind() == StepKind::kSubscribe) {
          const auto& subs = s.As<SubscribeStep>().subscriptions;
          for (size_t k = 0; k < subs.size() && k < ack->mqtt->reason_codes.size(); ++k) {
            if (!mqtt::IsError(ack->mqtt->reason_codes[k])) out.push_back(MembershipEvent{at, log[at].time_ns, subs[k].topic, true});
          }
        } else {
          for (const std::string& t : s.As<UnsubscribeStep>().topics) out.push_back(MembershipEvent{at, log[at].time_ns, t, false});
        }
      }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const MembershipEvent& a, const MembershipEvent& b) { return a.log_index < b.log_index; });
    return out;
  }

  // Whether m was (re)added to `group` by someone else after it left at `since`, before `time`:
  // a REST add answered 2xx, or a join without ackId (not confirmable: benefit of the doubt).
  bool AddedSince(uint32_t m, const std::string& group, int64_t since, int64_t time) const {
    for (const Step& s : sc_.steps) {
      if (s.kind() == StepKind::kJoin && s.As<JoinStep>().ack.mode == AckSpec::Mode::kNone &&
          s.As<JoinStep>().group == group && last_issued_.count(s.id) && last_issued_.at(s.id) >= since &&
          step_issued_[s.id] <= time) {
        const auto& ms = s.As<JoinStep>().clients.members;
        if (std::find(ms.begin(), ms.end(), m) != ms.end()) return true;
      }
    }
    for (const auto& [step, records] : step_rest_) {
      const RestStep& r = sc_.steps[step].As<RestStep>();
      if (!RestAdds(r, m, group)) continue;
      for (size_t index : records) {
        const RestRecord& rec = rest_records_[index];
        if (rec.done && rec.status < 300 && rec.issued_ns >= since && rec.issued_ns <= time) return true;
      }
    }
    return false;
  }

  // Whether REST step r adds member m to `group`.
  bool RestAdds(const RestStep& r, uint32_t m, const std::string& group) const {
    const bool adds = r.op == RestOp::kAddConnectionToGroup || r.op == RestOp::kAddUserToGroup ||
                      r.op == RestOp::kAddToGroups;
    if (!adds) return false;
    if (r.op != RestOp::kAddToGroups && (!r.group || *r.group != group)) return false;
    if (r.op == RestOp::kAddToGroups && std::find(r.groups.begin(), r.groups.end(), group) == r.groups.end()) return false;
    if (r.op == RestOp::kAddConnectionToGroup && r.connection && r.connection->client &&
        std::find(r.connection->client->members.begin(), r.connection->client->members.end(), m) ==
            r.connection->client->members.end()) {
      return false;
    }
    if (r.op == RestOp::kAddUserToGroup && (!r.user || sc_.members[m].user != r.user)) return false;
    return true;
  }

  // Whether member m had joined `group` (token claim, successful join ack, or a successful REST
  // add) before `time`.
  bool WasMember(uint32_t m, const std::string& group, int64_t time) const {
    const Client& c = sc_.ClientOf(m);
    if (std::find(c.groups.begin(), c.groups.end(), group) != c.groups.end()) return true;
    for (const auto& [step, acks] : step_acks_) {
      const Step& s = sc_.steps[step];
      if (s.kind() != StepKind::kJoin || s.As<JoinStep>().group != group) continue;
      for (const AckRecord& a : acks) {
        if (a.member != m) continue;
        for (size_t i = a.log_mark; i < members_[m].log.size(); ++i) {
          const ObservedEvent& ev = members_[m].log[i];
          if (ev.observation.kind == Observation::Kind::kAck && ev.observation.ack_id == a.ack_id) {
            if (ev.observation.success && ev.time_ns <= time) return true;
            break;
          }
        }
      }
    }
    // Joins without an ackId cannot be confirmed; give them the benefit of the doubt.
    for (const Step& s : sc_.steps) {
      if (s.kind() == StepKind::kJoin && s.As<JoinStep>().ack.mode == AckSpec::Mode::kNone &&
          s.As<JoinStep>().group == group && step_issued_[s.id] >= 0 && step_issued_[s.id] <= time) {
        const auto& ms = s.As<JoinStep>().clients.members;
        if (std::find(ms.begin(), ms.end(), m) != ms.end()) return true;
      }
    }
    for (const auto& [step, records] : step_rest_) {
      const RestStep& r = sc_.steps[step].As<RestStep>();
      const bool adds = r.op == RestOp::kAddConnectionToGroup || r.op == RestOp::kAddUserToGroup ||
                        r.op == RestOp::kAddToGroups;
      if (!adds) continue;
      if (r.op != RestOp::kAddToGroups && (!r.group || *r.group != group)) continue;
      if (r.op == RestOp::kAddToGroups && std::find(r.groups.begin(), r.groups.end(), group) == r.groups.end()) continue;
      if (r.op == RestOp::kAddConnectionToGroup && r.connection && r.connection->client &&
          std::find(r.connection->client->members.begin(), r.connection->client->members.end(), m) ==
              r.connection->client->members.end()) {
        continue;
      }
      if (r.op == RestOp::kAddUserToGroup && (!r.user || sc_.members[m].user != r.user)) continue;
      for (size_t index : records) {
        const RestRecord& rec = rest_records_[index];
        if (rec.done && rec.status < 300 && rec.issued_ns <= time) return true;
      }
    }
    return false;
  }

  const Scenario& sc_;
  const RunnerOptions& options_;
  reports::ScenarioResult& result_;
  Environment& env_;
  std::vector<MemberState> members_;
  std::vector<int64_t> step_issued_;
  std::map<uint32_t, int64_t> last_issued_;
  std::vector<Pending> async_pending_;
  std::map<uint32_t, std::vector<AckRecord>> step_acks_;
  std::map<uint32_t, std::vector<size_t>> step_rest_;
  std::map<uint32_t, std::vector<MqttRecord>> step_mqtt_;      // subscribe/unsubscribe/publish
  std::map<uint32_t, std::vector<MqttRecord>> step_connects_;  // MQTT connects (CONNACK)
  std::vector<RestRecord> rest_records_;
  // all_pages REST steps: the response callbacks that call themselves for the next page.
  std::vector<std::shared_ptr<clients::RestClient::ResponseFn>> rest_callbacks_;
  std::map<std::string, std::vector<PublishRecord>> publishes_;
  std::map<uint32_t, uint64_t> publish_counter_;
  std::vector<reports::Arrow> arrows_;
  std::vector<uint32_t> upstream_uses_;  // per upstream response: how often it answered
  size_t delivered_arrows_ = 0;
  // (time, lifeline) of observations that broke an expectation: their arrows are highlighted.
  std::set<std::pair<int64_t, std::string>> highlights_;
  bool issuing_intended_ = false;  // the step being issued is an open-loop iteration
  int64_t throughput_interval_ns_ = 0;  // 0: no open-loop block yet, no throughput series
  int64_t throughput_start_ns_ = 0;
  reports::ThroughputSeries* sent_series_ = nullptr;  // in result_.throughput, once started
  reports::ThroughputSeries* delivered_series_ = nullptr;
  std::set<std::string> failed_cases_;
  std::set<std::string> threshold_failed_cases_;
  int64_t end_ns_ = 0;
  bool budget_ok_ = true;
};

}  // namespace

uint64_t EffectiveSeed(const Scenario& scenario, const RunnerOptions& options) {
  if (options.seed) return *options.seed;
  return scenario.seed.value_or(kDefaultSeed);
}

std::vector<std::string> SkipReasons(const Scenario& scenario, Target target) {
  RunnerOptions options;
  options.target = target;
  return SkipReasons(scenario, options);
}

std::vector<std::string> SkipReasons(const Scenario& scenario, const RunnerOptions& options) {
  const Target target = options.target;
  std::vector<std::string> out;
  if (!scenario.targets.empty() &&
      std::find(scenario.targets.begin(), scenario.targets.end(), target) == scenario.targets.end()) {
    out.push_back("the scenario is limited to other targets");
  }
  if (target != Target::kSim) {
    const bool external = target == Target::kRemote || !options.connection_string.empty();
    for (std::string& r : RealTargetSkipReasons(scenario, external, options.max_real_wait_ns)) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

void RunScenario(const Scenario& scenario, const RunnerOptions& options,
                 reports::ScenarioResult& result) {
  const uint64_t seed = EffectiveSeed(scenario, options);
  result.seed = seed;
  result.source = reports::Source{scenario.source.seed, scenario.source.section};
  result.tags = scenario.tags;
  {
    std::vector<std::string> argv = options.reproduce_prefix;
    argv.push_back(scenario.file);
    argv.push_back("--filter");
    argv.push_back(scenario.name);
    argv.push_back("--seed");
    argv.push_back(std::to_string(seed));
    argv.push_back("--target");
    argv.push_back(std::string(TargetName(options.target)));
    if (options.perturb && *options.perturb) argv.push_back("--perturb");
    for (service::Bug b : options.extra_bugs) {
      argv.push_back("--inject-bug");
      argv.push_back(std::string(service::BugName(b)));
    }
    if (options.target != Target::kSim) {
      // The same hub names (a run against a shared service used this suffix) and CAs.
      argv.push_back("--hub-suffix");
      argv.push_back(options.hub_suffix.empty() ? "none" : options.hub_suffix);
      if (!options.ca_file.empty()) {
        argv.push_back("--ca");
        argv.push_back(options.ca_file);
      }
    }
    result.reproduce = reports::ShellQuote(argv);
    // The access key never goes into a report: the command reads the connection string from
    // the environment variable `wpsim run` also reads (set it to the one this run used).
    if (options.target != Target::kSim && !options.connection_string.empty()) {
      result.reproduce += " --connection-string \"$WebPubSubConnectionString\"";
    }
  }
  std::vector<std::string> reasons = SkipReasons(scenario, options);
  if (options.target != Target::kSim && !options.extra_bugs.empty()) {
    reasons.push_back("injected bugs need the sim target");
  }
  if (!reasons.empty()) {
    std::string joined;
    for (const std::string& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
    result.MarkSkipped(joined);
    return;
  }
  std::unique_ptr<Environment> env;
  if (options.target == Target::kSim) {
    SimEnvironmentOptions o;
    o.seed = seed;
    o.perturb = options.perturb.value_or(scenario.run.perturb);
    o.service = ServiceOptionsFor(scenario);
    o.service.bugs.insert(options.extra_bugs.begin(), options.extra_bugs.end());
    o.event_budget = options.event_budget;
    auto made = MakeSimEnvironment(scenario, o);
    if (!made.ok()) {
      result.MarkError(made.error().message);
      return;
    }
    env = std::move(made.value());
  } else {
    RealEnvironmentOptions o;
    o.target = options.target;
    o.connection_string = options.connection_string;
    o.ca_file = options.ca_file;
    o.seed = seed;
    o.service = ServiceOptionsFor(scenario);
    o.listen = options.listen;
    auto made = MakeRealEnvironment(o);
    if (!made.ok()) {
      result.MarkError(made.error().message);
      return;
    }
    env = std::move(made.value());
  }
  // Real targets: a per-run hub suffix keeps earlier runs' state on a shared service apart.
  std::optional<Scenario> renamed;
  if (options.target != Target::kSim && !options.hub_suffix.empty()) {
    renamed = scenario;
    renamed->hub += options.hub_suffix;
  }
  {
    ScenarioRun run(renamed ? *renamed : scenario, options, result, *env);
    run.Run();
  }
}

}  // namespace wpsim::conformance
