#include "conformance/steps/delivery.h"

#include <algorithm>

#include "conformance/driver.h"
#include "conformance/steps/network.h"
#include "conformance/steps/rest.h"
#include "conformance/steps/websocket.h"
#include "protocol/mqtt/types.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;

bool IsDelivery(const Observation& o) {
  return o.kind == Observation::Kind::kGroupMessage ||
         o.kind == Observation::Kind::kServerMessage || o.kind == Observation::Kind::kRawMessage;
}

// Per-member state of an evaluator, found by member index in O(1).
template <typename State>
class PerMember {
 public:
  void Add(uint32_t m, State s) {
    if (slot_.size() <= m) slot_.resize(m + 1, -1);
    slot_[m] = static_cast<int32_t>(states_.size());
    states_.push_back(std::move(s));
  }
  State& operator[](uint32_t m) { return states_[static_cast<size_t>(slot_[m])]; }

 private:
  std::vector<int32_t> slot_;
  std::vector<State> states_;
};

// ---------------------------------------------------------------------------------------------
// receive

// Every member receives `count` matching messages in the window (or the `in_order` matchers as
// a subsequence); `total` sums over the members. Keeps per member a counter (or the next
// matcher's index) and the last few in-window messages for the failure message.
class ReceiveEvaluator : public Evaluator {
 public:
  ReceiveEvaluator(RunContext& cx, const Expectation& e)
      : cx_(cx), e_(e), r_(e.As<ReceiveExpect>()) {
    const size_t recent = r_.in_order.empty() ? 5 : 8;
    for (uint32_t m : r_.clients.members) {
      per_.Add(
          m, State{WindowFilter(cx_, r_.window), RecentMessages(recent), cx_.sc.ClientOf(m).kind});
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    State& s = per_[m];
    NoteConnection(s, ev);
    s.window.Feed(ev, [&](const ObservedEvent& in) { Take(s, in); });
  }

  void Finish() override {
    const Window w = cx_.WindowOf(r_.window);
    uint64_t total = 0;
    for (uint32_t m : r_.clients.members) {
      State& s = per_[m];
      s.window.Flush([&](const ObservedEvent& in) { Take(s, in); });
      const std::string& who = cx_.sc.members[m].name;
      if (!r_.in_order.empty()) {
        if (s.next < r_.in_order.size()) {
          cx_.Fail(cx_.Where(e_) + ": " + who + " did not receive the messages in order (" +
                       std::to_string(s.next) + " of " + std::to_string(r_.in_order.size()) +
                       " matched)",
                   "next: " + DescribeMatcher(r_.in_order[s.next]) + " in " +
                       RunContext::DescribeWindow(w),
                   s.recent.Describe(8) + ConnectionNote(s), e_.case_id);
        }
        total += s.next == r_.in_order.size() ? 1 : 0;
        continue;
      }
      total += s.n;
      CountSpec c = r_.count;
      if (c.empty()) c.at_least = 1;
      if (!c.Accepts(s.n)) {
        cx_.Fail(cx_.Where(e_) + ": " + who + " received " + std::to_string(s.n) +
                     " matching message(s)",
                 DescribeCount(c) + " x " + DescribeMatcher(r_.match) + " in " +
                     RunContext::DescribeWindow(w),
                 std::to_string(s.n) + " matching; recent: " + s.recent.Describe(5) +
                     ConnectionNote(s),
                 e_.case_id);
      }
    }
    if (!r_.total.empty() && !r_.total.Accepts(total)) {
      cx_.Fail(cx_.Where(e_) + ": total over " + r_.clients.text + " is " + std::to_string(total),
               "total " + std::to_string(r_.total.exactly.value_or(r_.total.at_least.value_or(0))),
               std::to_string(total), e_.case_id);
    }
  }

 private:
  struct State {
    WindowFilter window;
    RecentMessages recent;
    ClientKind kind;
    size_t next = 0;  // in_order: matchers matched so far
    uint64_t n = 0;   // matching messages
    // The member's connection as last seen (any time, in the window or not): the failed upgrade
    // or close that ended it (cleared when it opens or recovers again), so a failure says "it never connected
    // (tls: handshake failed ...)" instead of only "recent: nothing".
    std::optional<clients::Observation> ended;
  };

  static void NoteConnection(State& s, const ObservedEvent& ev) {
    using Kind = clients::Observation::Kind;
    switch (ev.observation.kind) {
      case Kind::kOpened:
      case Kind::kRecovered:
        s.ended.reset();
        break;
      case Kind::kHandshakeFailed:
      case Kind::kClosed:
        s.ended = ev.observation;
        break;
      default:
        break;
    }
  }

  static std::string ConnectionNote(const State& s) {
    if (!s.ended) return "";
    const bool failed = s.ended->kind == clients::Observation::Kind::kHandshakeFailed;
    return std::string(failed ? "; its connection never opened: " : "; its connection ended: ") +
           DescribeObservation(*s.ended);
  }

  void Take(State& s, const ObservedEvent& ev) {
    if (IsMessage(ev, s.kind)) s.recent.Add(ev);
    if (!r_.in_order.empty()) {
      if (s.next < r_.in_order.size() &&
          MatchMessage(r_.in_order[s.next], ev, s.kind, cx_.connection_ids))
        ++s.next;
    } else if (MatchMessage(r_.match, ev, s.kind, cx_.connection_ids)) {
      ++s.n;
    }
  }

  RunContext& cx_;
  const Expectation& e_;
  const ReceiveExpect& r_;
  PerMember<State> per_;
};

// ---------------------------------------------------------------------------------------------
// never_receive

// No member receives a matching message in the window; keeps the first offending one.
class NeverReceiveEvaluator : public Evaluator {
 public:
  NeverReceiveEvaluator(RunContext& cx, const Expectation& e)
      : cx_(cx), e_(e), r_(e.As<NeverReceiveExpect>()) {
    for (uint32_t m : r_.clients.members) {
      per_.Add(m, State{WindowFilter(cx_, r_.window), cx_.sc.ClientOf(m).kind, std::nullopt});
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    State& s = per_[m];
    if (s.hit) return;
    s.window.Feed(ev, [&](const ObservedEvent& in) { Take(s, in); });
  }

  void Finish() override {
    const Window w = cx_.WindowOf(r_.window);
    for (uint32_t m : r_.clients.members) {
      State& s = per_[m];
      s.window.Flush([&](const ObservedEvent& in) { Take(s, in); });
      if (!s.hit) continue;
      cx_.Highlight(m, s.hit->time_ns);
      cx_.Fail(cx_.Where(e_) + ": " + cx_.sc.members[m].name + " received a message it must not",
               "no " + DescribeMatcher(r_.match) + " in " + RunContext::DescribeWindow(w),
               DescribeObservation(s.hit->observation) + " at " + FormatTime(s.hit->time_ns),
               e_.case_id, s.hit->time_ns);
    }
  }

 private:
  struct State {
    WindowFilter window;
    ClientKind kind;
    std::optional<KeptEvent> hit;
  };

  void Take(State& s, const ObservedEvent& ev) {
    if (!s.hit && MatchMessage(r_.match, ev, s.kind, cx_.connection_ids)) s.hit.emplace(ev);
  }

  RunContext& cx_;
  const Expectation& e_;
  const NeverReceiveExpect& r_;
  PerMember<State> per_;
};

// ---------------------------------------------------------------------------------------------
// Invariants

// A broken invariant, as it will be reported.
struct Violation {
  std::string message;
  std::string expected;
  std::string actual;
  int64_t time_ns = 0;
};

// An invariant checked per member on its stream; the first violation per member is reported,
// members in scenario order.
class InvariantEvaluator : public Evaluator {
 public:
  InvariantEvaluator(RunContext& cx, const Invariant& inv)
      : cx_(cx), inv_(inv), name_(InvariantKindName(inv.kind)) {
    if (inv.clients) {
      who_ = inv.clients->members;
    } else {
      for (uint32_t m = 0; m < cx.sc.members.size(); ++m) who_.push_back(m);
    }
    violations_.resize(cx.sc.members.size());
    for (uint32_t m : who_) cx_.Listen(m, this);
  }

  void Finish() override {
    for (uint32_t m : who_) {
      std::optional<Violation> v = std::move(violations_[m]);
      if (!v) v = Conclude(m);
      if (v)
        cx_.Fail(std::move(v->message), std::move(v->expected), std::move(v->actual), inv_.case_id,
                 v->time_ns);
    }
  }

 protected:
  // The member's violation known only at the end (after the whole stream), if any.
  virtual std::optional<Violation> Conclude(uint32_t m) {
    (void)m;
    return std::nullopt;
  }
  void Violate(uint32_t m, std::string what, std::string expected, std::string actual,
               int64_t time) {
    if (violations_[m]) return;
    violations_[m] = Violation{Prefix(m) + what, std::move(expected), std::move(actual), time};
  }
  bool Violated(uint32_t m) const { return violations_[m].has_value(); }
  std::string Prefix(uint32_t m) const {
    return "invariant " + name_ + " at " + FormatPos(inv_.pos) + ": " + cx_.sc.members[m].name;
  }

  RunContext& cx_;
  const Invariant& inv_;
  const std::string name_;

 private:
  std::vector<uint32_t> who_;
  std::vector<std::optional<Violation>> violations_;  // per member
};

// no_duplicates: a message counts as duplicated when a receiver sees it more often than it was
// published; reliable clients drop sequenceIds they have seen (as the SDK does). A delivery that
// exceeds the publishes made so far is a candidate; publishes only grow, so the first candidate
// still above the final publish count is the violation.
class NoDuplicatesEvaluator : public InvariantEvaluator {
 public:
  using InvariantEvaluator::InvariantEvaluator;

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    const Observation& o = ev.observation;
    if (!IsDelivery(o)) return;
    // Replays the reliable client dropped (as the SDK does) are not deliveries: what is judged
    // is what the application got, as for per_publisher_order.
    State& s = state_[m];
    std::string key = PayloadText(o);
    const uint64_t n = ++s.seen[{o.group, key}];
    if (n > Published(key)) {
      s.candidates.push_back(Candidate{std::move(key), n,
                                       DescribeObservation(o) + " at " + FormatTime(ev.time_ns),
                                       ev.time_ns});
    }
  }

 protected:
  std::optional<Violation> Conclude(uint32_t m) override {
    for (const Candidate& c : state_[m].candidates) {
      if (c.n > Published(c.key))
        return Violation{Prefix(m) + " received a message twice", "each message at most once",
                         c.actual, c.time_ns};
    }
    return std::nullopt;
  }

 private:
  struct Candidate {
    std::string key;
    uint64_t n = 0;
    std::string actual;
    int64_t time_ns = 0;
  };
  struct State {
    std::map<std::pair<std::string, std::string>, uint64_t> seen;  // (group, payload) -> times
    std::vector<Candidate> candidates;
  };
  uint64_t Published(const std::string& key) const {
    auto pub = cx_.publishes.find(key);
    return pub == cx_.publishes.end() ? 1 : pub->second.size();
  }
  std::vector<State> state_ = std::vector<State>(cx_.sc.members.size());  // per member
};

// sequence_ids_contiguous: within one transport, sequenceIds rise by exactly one; a new
// transport (recovery) may replay from any id not above the highest seen + 1.
class SequenceIdsContiguousEvaluator : public InvariantEvaluator {
 public:
  using InvariantEvaluator::InvariantEvaluator;

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    const Observation& o = ev.observation;
    if (!o.sequence_id || Violated(m)) return;
    State& s = state_[m];
    const uint64_t id = *o.sequence_id;
    bool ok = true;
    if (ev.transport != s.transport) {
      s.transport = ev.transport;
      ok = id >= 1 && id <= s.max_seq + 1;
    } else {
      ok = id == s.last_in_transport + 1 || (s.last_in_transport == 0 && id == s.max_seq + 1);
    }
    if (!ok) {
      Violate(m, " sequenceIds jump",
              "sequenceId " +
                  std::to_string(s.last_in_transport ? s.last_in_transport + 1 : s.max_seq + 1),
              "sequenceId " + std::to_string(id) + " (" + DescribeObservation(o) + ")", ev.time_ns);
      return;
    }
    s.last_in_transport = id;
    s.max_seq = std::max(s.max_seq, id);
  }

 private:
  struct State {
    uint64_t max_seq = 0;
    uint32_t transport = 0;
    uint64_t last_in_transport = 0;
  };
  std::vector<State> state_ = std::vector<State>(cx_.sc.members.size());  // per member
};

// per_publisher_order: messages of one publisher arrive in the order it published them. A
// delivery is attributed when exactly one publish so far carries its payload.
class PerPublisherOrderEvaluator : public InvariantEvaluator {
 public:
  using InvariantEvaluator::InvariantEvaluator;

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    const Observation& o = ev.observation;
    if (!IsDelivery(o) || Violated(m)) return;
    auto pub = cx_.publishes.find(PayloadText(o));
    if (pub == cx_.publishes.end() || pub->second.size() != 1) return;  // ambiguous
    const PublishRecord& p = pub->second.front();
    std::map<uint32_t, uint64_t>& last = last_[m];  // publisher -> last index seen
    auto it = last.find(p.publisher);
    if (it != last.end() && p.index < it->second) {
      Violate(m, " received " + cx_.sc.members[p.publisher].name + "'s messages out of order",
              "publish order", DescribeObservation(o) + " after a later message", ev.time_ns);
      return;
    }
    last[p.publisher] = std::max(it == last.end() ? 0 : it->second, p.index);
  }

 private:
  std::vector<std::map<uint32_t, uint64_t>> last_ =
      std::vector<std::map<uint32_t, uint64_t>>(cx_.sc.members.size());
};

// no_delivery_outside_group: a group message reaches only members of the group. The member's
// own confirmed joins and leaves (acks, SUBACK, UNSUBACK) apply from their place in its stream:
// the service acknowledges after it applied them, on the same ordered stream as the group's
// messages. Other ways in (token claims, joins without ackId, REST adds) are checked against
// what the run knows; a delivery they do not cover yet is a candidate, judged again at the end
// (a REST add answered later still counts, as its issue time decides).
class NoDeliveryOutsideGroupEvaluator : public InvariantEvaluator {
 public:
  using InvariantEvaluator::InvariantEvaluator;

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    const Observation& o = ev.observation;
    State& s = state_[m];
    if (o.kind == Observation::Kind::kAck) {
      ApplyOwnMembership(m, ev, s);
      return;
    }
    if (o.kind != Observation::Kind::kGroupMessage) return;
    auto st = s.groups.find(o.group);
    Candidate c{o.group,
                st != s.groups.end(),
                st != s.groups.end() ? st->second.time_ns : 0,
                ev.time_ns,
                {}};
    if (st != s.groups.end() && st->second.joined) return;
    if (MemberAt(m, c)) return;
    c.actual = DescribeObservation(o);
    s.candidates.push_back(std::move(c));
  }

 protected:
  std::optional<Violation> Conclude(uint32_t m) override {
    for (const Candidate& c : state_[m].candidates) {
      if (!MemberAt(m, c)) {
        return Violation{
            Prefix(m) + " received a message of group " + c.group + " without being a member",
            "no delivery outside group " + c.group, c.actual, c.time_ns};
      }
    }
    return std::nullopt;
  }

 private:
  struct Membership {
    int64_t time_ns = 0;
    bool joined = false;
  };
  struct Candidate {
    std::string group;
    bool own_event = false;  // the member's own last confirmed join/leave of the group was a leave
    int64_t left_ns = 0;
    int64_t time_ns = 0;
    std::string actual;
  };
  struct State {
    std::map<std::string, Membership> groups;  // the member's own confirmed joins and leaves
    std::vector<Candidate> candidates;
  };

  bool MemberAt(uint32_t m, const Candidate& c) const {
    return c.own_event ? AddedSince(m, c.group, c.left_ns, c.time_ns)
                       : WasMember(m, c.group, c.time_ns);
  }

  // Joins/leaves with a successful ack, and MQTT subscriptions (SUBACK granted) and
  // unsubscriptions (UNSUBACK) this observation answered.
  void ApplyOwnMembership(uint32_t m, const ObservedEvent& ev, State& s) {
    const Observation& o = ev.observation;
    if (!o.mqtt) {
      for (const auto& [step, acks] : cx_.step_acks) {
        const Step& st = cx_.sc.steps[step];
        if (!st.Is<JoinStep>() && !st.Is<LeaveStep>()) continue;
        const bool join = st.Is<JoinStep>();
        const std::string& group = join ? st.As<JoinStep>().group : st.As<LeaveStep>().group;
        for (const auto& a : acks) {
          if (a->member == m && a->ack && a->ack->serial == ev.serial && o.success) {
            s.groups[group] = Membership{ev.time_ns, join};
          }
        }
      }
      return;
    }
    for (const auto& [step, records] : cx_.step_mqtt) {
      const Step& st = cx_.sc.steps[step];
      if (!st.Is<SubscribeStep>() && !st.Is<UnsubscribeStep>()) continue;
      for (const auto& r : records) {
        if (r->member != m || !r->answer || r->answer->serial != ev.serial) continue;
        if (st.Is<SubscribeStep>()) {
          const auto& subs = st.As<SubscribeStep>().subscriptions;
          for (size_t k = 0; k < subs.size() && k < o.mqtt->reason_codes.size(); ++k) {
            if (!protocol::mqtt::IsError(o.mqtt->reason_codes[k]))
              s.groups[subs[k].topic] = Membership{ev.time_ns, true};
          }
        } else {
          for (const std::string& t : st.As<UnsubscribeStep>().topics)
            s.groups[t] = Membership{ev.time_ns, false};
        }
      }
    }
  }

  // Whether m was (re)added to `group` by someone else after it left at `since`, before `time`:
  // a REST add answered 2xx, or a join without ackId (not confirmable: benefit of the doubt).
  bool AddedSince(uint32_t m, const std::string& group, int64_t since, int64_t time) const {
    for (const Step& s : cx_.sc.steps) {
      if (s.Is<JoinStep>() && s.As<JoinStep>().ack.mode == AckSpec::Mode::kNone &&
          s.As<JoinStep>().group == group && cx_.last_issued.count(s.id) &&
          cx_.last_issued.at(s.id) >= since && cx_.step_issued[s.id] <= time) {
        const auto& ms = s.As<JoinStep>().clients.members;
        if (std::find(ms.begin(), ms.end(), m) != ms.end()) return true;
      }
    }
    for (const auto& [step, records] : cx_.step_rest) {
      const RestStep& r = cx_.sc.steps[step].As<RestStep>();
      if (!RestAdds(r, m, group)) continue;
      for (size_t index : records) {
        const RestRecord& rec = cx_.rest_records[index];
        if (rec.done && rec.status < 300 && rec.issued_ns >= since && rec.issued_ns <= time)
          return true;
      }
    }
    return false;
  }

  // Whether REST step r adds member m to `group`.
  bool RestAdds(const RestStep& r, uint32_t m, const std::string& group) const {
    const bool adds = r.op == RestOp::kAddConnectionToGroup || r.op == RestOp::kAddUserToGroup ||
                      r.op == RestOp::kAddConnectionsToGroups;
    if (!adds) return false;
    if (r.op != RestOp::kAddConnectionsToGroups && (!r.group || *r.group != group)) return false;
    if (r.op == RestOp::kAddConnectionsToGroups &&
        std::find(r.groups.begin(), r.groups.end(), group) == r.groups.end())
      return false;
    if (r.op == RestOp::kAddConnectionToGroup && r.connection && r.connection->client &&
        std::find(r.connection->client->members.begin(), r.connection->client->members.end(), m) ==
            r.connection->client->members.end()) {
      return false;
    }
    if (r.op == RestOp::kAddUserToGroup && (!r.user || cx_.sc.members[m].user != r.user))
      return false;
    return true;
  }

  // Whether member m had joined `group` (token claim, successful join ack, or a successful REST
  // add) before `time`.
  bool WasMember(uint32_t m, const std::string& group, int64_t time) const {
    const Client& c = cx_.sc.ClientOf(m);
    if (std::find(c.groups.begin(), c.groups.end(), group) != c.groups.end()) return true;
    for (const auto& [step, acks] : cx_.step_acks) {
      const Step& s = cx_.sc.steps[step];
      if (!s.Is<JoinStep>() || s.As<JoinStep>().group != group) continue;
      for (const auto& a : acks) {
        if (a->member == m && a->ack && a->ack->observation.success && a->ack->time_ns <= time)
          return true;
      }
    }
    // Joins without an ackId cannot be confirmed; give them the benefit of the doubt.
    for (const Step& s : cx_.sc.steps) {
      if (s.Is<JoinStep>() && s.As<JoinStep>().ack.mode == AckSpec::Mode::kNone &&
          s.As<JoinStep>().group == group && cx_.step_issued[s.id] >= 0 &&
          cx_.step_issued[s.id] <= time) {
        const auto& ms = s.As<JoinStep>().clients.members;
        if (std::find(ms.begin(), ms.end(), m) != ms.end()) return true;
      }
    }
    for (const auto& [step, records] : cx_.step_rest) {
      if (!RestAdds(cx_.sc.steps[step].As<RestStep>(), m, group)) continue;
      for (size_t index : records) {
        const RestRecord& rec = cx_.rest_records[index];
        if (rec.done && rec.status < 300 && rec.issued_ns <= time) return true;
      }
    }
    return false;
  }

  std::vector<State> state_ = std::vector<State>(cx_.sc.members.size());  // per member
};

// ---------------------------------------------------------------------------------------------
// Built-in liveness checks (the `eventually:` section's all_acked_delivered and
// recovered_caught_up), judged after the liveness phase like the eventual expectations.
//
// Who must have a publish: the members of json/reliable clients (other than its publisher)
// "present throughout": a member of the group (token claim, a successful join ack, a REST add
// answered 2xx) or, for a broadcast, connected, before the publish was issued, and not taken
// out since — no step of the scenario can remove it (its own leave of the group, disconnect,
// a REST remove/close naming it, its user, the group or everyone; kill and reset too unless it
// is a reliable client), and it never lost its connection for good (a plain client's close, a
// reliable client's transport not recovered, a second connection id).

class LivenessEvaluator : public Evaluator {
 public:
  enum class Check { kAllAckedDelivered, kRecoveredCaughtUp };

  LivenessEvaluator(RunContext& cx, Check check) : cx_(cx), check_(check) {
    state_.resize(cx.sc.members.size());
    for (uint32_t m = 0; m < cx.sc.members.size(); ++m) cx_.Listen(m, this);
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    const Observation& o = ev.observation;
    State& s = state_[m];
    switch (o.kind) {
      case Observation::Kind::kGroupMessage:
      case Observation::Kind::kServerMessage:
      case Observation::Kind::kRawMessage: ++s.had[PayloadText(o)]; break;
      case Observation::Kind::kConnected:
        if (!s.connected_ns) {
          s.connected_ns = ev.time_ns;
          s.connection_id = o.connection_id;
        } else if (!o.connection_id.empty() && o.connection_id != s.connection_id) {
          s.new_connection = true;
        }
        break;
      case Observation::Kind::kClosed:
      case Observation::Kind::kHandshakeFailed:
        if (s.connected_ns) {
          s.lost = true;
          s.ever_lost = true;
          s.lost_ns = ev.time_ns;
        }
        break;
      case Observation::Kind::kOpened:  // an explicit `recover` step's new transport
      case Observation::Kind::kRecovered: s.lost = false; break;
      case Observation::Kind::kDisconnected: s.disconnected = true; break;
      default: break;
    }
  }

  void Finish() override {
    const bool acked_only = check_ == Check::kAllAckedDelivered;
    const std::string name = acked_only ? "all_acked_delivered" : "recovered_caught_up";
    for (uint32_t m = 0; m < cx_.sc.members.size(); ++m) {
      const ClientKind kind = cx_.sc.ClientOf(m).kind;
      if (!IsJsonProtocol(kind)) continue;
      const bool reliable = kind == ClientKind::kReliable;
      const State& s = state_[m];
      const std::string& who = cx_.sc.members[m].name;
      if (!acked_only) {
        if (!reliable || !s.ever_lost || DeliberatelyClosed(m)) continue;
        if (s.lost || s.new_connection) {
          cx_.Fail(name + ": " + who + " lost its transport at " + FormatTime(s.lost_ns) +
                       " and did not recover",
                   "a recovery of the same connection", s.new_connection ? "a new connection" : "no recovery",
                   "", s.lost_ns);
          continue;
        }
      } else if (s.new_connection || s.disconnected || (s.ever_lost && (!reliable || s.lost))) {
        continue;  // not present throughout
      }
      // Publish keys m must have, with how many times, and the first one for the message.
      // A send retried with the same ackId (after a recovery) is one message: the service
      // applies it once and answers the retry Duplicate.
      std::map<std::string, std::pair<uint64_t, const PublishRecord*>> owed;
      std::set<std::pair<uint32_t, uint64_t>> ack_ids;  // (publisher, ackId) counted
      for (const auto& [key, records] : cx_.publishes) {
        for (const PublishRecord& p : records) {
          if (p.publisher == m || !Counts(p, acked_only)) continue;
          if (!PresentThroughout(m, p, reliable)) continue;
          if (p.ack && !ack_ids.insert({p.publisher, p.ack->ack_id}).second) continue;
          auto& o = owed[key];
          if (o.first++ == 0) o.second = &p;
        }
      }
      for (const auto& [key, o] : owed) {
        auto had = s.had.find(key);
        const uint64_t n = had == s.had.end() ? 0 : had->second;
        if (n >= o.first) continue;
        const PublishRecord& p = *o.second;
        cx_.Fail(name + ": " + who + " did not receive " + Q(key) + " (" + Describe(p) + ")",
                 std::to_string(o.first) + " cop" + (o.first == 1 ? "y" : "ies") + " of " + Q(key),
                 "received " + std::to_string(n), "", p.time_ns);
        break;  // one failure per member
      }
    }
  }

 private:
  struct State {
    std::map<std::string, uint64_t> had;  // payload key -> deliveries
    std::optional<int64_t> connected_ns;
    std::string connection_id;
    bool new_connection = false;
    bool lost = false;       // the transport is gone (not recovered since)
    bool ever_lost = false;
    int64_t lost_ns = 0;
    bool disconnected = false;  // system/disconnected: the service ended the connection
  };

  static std::string Q(const std::string& s) { return "\"" + s + "\""; }

  // Whether publish p is one the check covers: acknowledged (all_acked_delivered), or
  // acknowledged or sent by a publisher whose transport never broke (recovered_caught_up).
  bool Counts(const PublishRecord& p, bool acked_only) const {
    if (p.path != reports::kPathServerToAll && p.group.empty()) return false;
    if (p.ack && p.ack->ack) {
      const Observation& a = p.ack->ack->observation;
      if (a.success || a.error_name == "Duplicate") return true;
    }
    if (p.rest_record >= 0) {
      const RestRecord& r = cx_.rest_records[static_cast<size_t>(p.rest_record)];
      if (r.done && r.status >= 200 && r.status < 300) return true;
    }
    if (acked_only) return false;
    return !p.ack && p.rest_record < 0 && !state_[p.publisher].ever_lost &&
           !state_[p.publisher].new_connection;
  }

  std::string Describe(const PublishRecord& p) const {
    std::string d = p.group.empty() ? "broadcast" : "to group " + p.group;
    d += " by " + cx_.sc.members[p.publisher].name + ", issued at " + FormatTime(p.time_ns);
    if (p.ack && p.ack->ack) d += ", acked at " + FormatTime(p.ack->ack->time_ns);
    if (p.rest_record >= 0) {
      const RestRecord& r = cx_.rest_records[static_cast<size_t>(p.rest_record)];
      d += ", answered " + std::to_string(r.status) + " at " + FormatTime(r.time_ns);
    }
    return d;
  }

  static bool Names(const std::optional<ClientRef>& ref, uint32_t m) {
    return ref && std::find(ref->members.begin(), ref->members.end(), m) != ref->members.end();
  }
  static bool SameGroup(const std::string& pattern, const std::string& group) {
    return pattern == group || pattern.find("${") != std::string::npos;
  }

  // Whether m was in p's group (connected, for a broadcast) before p was issued and no step or
  // lost transport could have taken it out.
  bool PresentThroughout(uint32_t m, const PublishRecord& p, bool reliable) const {
    const State& s = state_[m];
    if (!s.connected_ns || *s.connected_ns > p.time_ns) return false;
    if (!p.group.empty() && !MemberBefore(m, p.group, p.time_ns)) return false;
    return !MayBeRemoved(m, p.group, reliable);
  }

  bool MemberBefore(uint32_t m, const std::string& group, int64_t time) const {
    const Client& c = cx_.sc.ClientOf(m);
    if (std::find(c.groups.begin(), c.groups.end(), group) != c.groups.end()) return true;
    for (const auto& [step, acks] : cx_.step_acks) {
      const Step& st = cx_.sc.steps[step];
      if (!st.Is<JoinStep>() || st.As<JoinStep>().group != group) continue;
      for (const auto& a : acks) {
        if (a->member == m && a->ack && a->ack->observation.success && a->ack->time_ns <= time)
          return true;
      }
    }
    for (const auto& [step, records] : cx_.step_rest) {
      const RestStep& r = cx_.sc.steps[step].As<RestStep>();
      const bool adds = (r.op == RestOp::kAddConnectionToGroup && r.connection &&
                         Names(r.connection->client, m)) ||
                        (r.op == RestOp::kAddUserToGroup && r.user &&
                         cx_.sc.members[m].user == r.user);
      if (!adds || !r.group || *r.group != group) continue;
      for (size_t index : records) {
        const RestRecord& rec = cx_.rest_records[index];
        if (rec.done && rec.status < 300 && rec.time_ns <= time) return true;
      }
    }
    return false;
  }

  // Whether a step of the scenario could take m out of `group` ("" for a broadcast: only
  // closes count).
  bool MayBeRemoved(uint32_t m, const std::string& group, bool reliable) const {
    const std::optional<std::string>& user = cx_.sc.members[m].user;
    for (const Step& st : cx_.sc.steps) {
      if (const auto* leave = st.args.If<LeaveStep>()) {
        if (!group.empty() && Names(leave->clients, m) && SameGroup(leave->group, group))
          return true;
      } else if (const auto* d = st.args.If<DisconnectStep>()) {
        if (Names(d->clients, m)) return true;
      } else if (const auto* k = st.args.If<KillStep>()) {
        if (!reliable && Names(k->clients, m)) return true;
      } else if (const auto* reset = st.args.If<ResetStep>()) {
        if (!reliable && Names(reset->clients, m)) return true;
      } else if (const auto* rest = st.args.If<RestStep>()) {
        if (RestMayRemove(*rest, m, user, group)) return true;
      }
    }
    return false;
  }

  // Whether REST call `r` could take member m (of `user`) out of `group` ("" for a broadcast:
  // only closes count). A raw REST request could do anything.
  bool RestMayRemove(const RestStep& r, uint32_t m, const std::optional<std::string>& user,
                     const std::string& group) const {
    if (r.op == kRestRequest) return true;
    const bool names_m = r.connection && Names(r.connection->client, m);
    const bool names_user = r.user && user && *r.user == *user;
    const bool names_group = !r.group || SameGroup(*r.group, group);
    const bool removals = !group.empty();  // group removals only matter for group sends
    switch (r.op) {
      case RestOp::kRemoveConnectionFromGroup: return removals && names_m && names_group;
      case RestOp::kRemoveUserFromGroup: return removals && names_user && names_group;
      case RestOp::kRemoveConnectionFromAllGroups: return removals && names_m;
      case RestOp::kRemoveUserFromAllGroups: return removals && names_user;
      case RestOp::kRemoveConnectionsFromGroups: return removals;
      case RestOp::kCloseConnection: return names_m;
      case RestOp::kCloseUserConnections: return names_user;
      case RestOp::kCloseGroupConnections:  // closes every member of a group: maybe m
      case RestOp::kCloseAllConnections: return true;
      default: return false;
    }
  }

  // A reliable member the scenario itself closed (disconnect, REST close): not a lost transport.
  bool DeliberatelyClosed(uint32_t m) const { return MayBeRemoved(m, "", true); }

  RunContext& cx_;
  const Check check_;
  std::vector<State> state_;
};

}  // namespace

std::vector<std::unique_ptr<Evaluator>> MakeLivenessChecks(RunContext& cx) {
  std::vector<std::unique_ptr<Evaluator>> out;
  const EventuallySettings& e = cx.sc.eventually;
  if (!e.present) return out;
  if (e.all_acked_delivered)
    out.push_back(std::make_unique<LivenessEvaluator>(cx, LivenessEvaluator::Check::kAllAckedDelivered));
  if (e.recovered_caught_up)
    out.push_back(std::make_unique<LivenessEvaluator>(cx, LivenessEvaluator::Check::kRecoveredCaughtUp));
  return out;
}

void RegisterDeliveryFamily(FamilyRegistry& r) {
  r.AddExpectation<ReceiveEvaluator>(ExpectKind::kReceive);
  r.AddExpectation<NeverReceiveEvaluator>(ExpectKind::kNeverReceive);
  r.AddInvariant<NoDuplicatesEvaluator>(InvariantKind::kNoDuplicates);
  r.AddInvariant<SequenceIdsContiguousEvaluator>(InvariantKind::kSequenceIdsContiguous);
  r.AddInvariant<PerPublisherOrderEvaluator>(InvariantKind::kPerPublisherOrder);
  r.AddInvariant<NoDeliveryOutsideGroupEvaluator>(InvariantKind::kNoDeliveryOutsideGroup);
}

}  // namespace wpsim::conformance
