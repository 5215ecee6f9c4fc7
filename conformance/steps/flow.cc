// The flow family's YAML shape: wait, barrier, parallel and repeat (the driver runs them), and
// wait_until (shape and issue).
#include "conformance/steps/flow.h"

#include <memory>

#include "conformance/driver.h"
#include "conformance/expectations.h"
#include "conformance/shape/steps.h"
#include "conformance/units.h"

namespace wpsim::conformance::shape {
namespace {

const Table<WaitStep>& WaitTable() {
  static const Table<WaitStep> t = {
      Req("duration", &WaitStep::duration_ns, DurationValue(),
          "how long (virtual in sim, real elsewhere)", "wait"),
  };
  return t;
}

bool ReadWait(StepInput& in) {
  WaitStep s;
  if (in.NoArgs()) {
    in.c.Error(in.kind_node, "step 'wait' needs a duration like 100ms");
    return false;
  }
  if (in.value.IsScalar()) {
    if (auto d = in.c.Duration(in.value, "wait")) s.duration_ns = *d;
  } else {
    if (!in.NeedMap(KeysOf(WaitTable()))) return false;
    ReadFields(in.c, *in.map, WaitTable(), s);
  }
  in.step.args = s;
  return true;
}

const Table<BarrierStep>& BarrierTable() {
  static const Table<BarrierStep> t = {
      Opt("client", &BarrierStep::clients, ClientRefValue(RefOptions{.allow_all = true}),
          "wait only for these members' pending operations"),
      Opt("quiesce", &BarrierStep::quiesce, Boolean(),
          "sim: also wait until no message is in flight (default true)"),
  };
  return t;
}

bool ReadBarrier(StepInput& in) {
  BarrierStep s;
  if (!in.NoArgs()) {
    if (!in.NeedMap(KeysOf(BarrierTable()))) return false;
    ReadFields(in.c, *in.map, BarrierTable(), s);
  }
  in.step.args = std::move(s);
  return true;
}

ValueType<Rate> RateValue() {
  return Parsed<Rate>([](std::string_view text) { return ParseRate(text); }, "rate",
                      SchemaRef("rate"));
}

const Table<RepeatStep>& RepeatTable() {
  static const Table<RepeatStep> t = {
      Declared<RepeatStep>("steps", "list of steps",
                           {{"type", "array"}, {"items", SchemaRef("step")}},
                           "the steps of one iteration"),
      Opt("count", &RepeatStep::count, Integer(1, 1000000000), "iterations"),
      Opt("rate", &RepeatStep::rate, RateValue(),
          "open loop: iteration k is issued at start + k / rate"),
      Opt("duration", &RepeatStep::duration_ns, PositiveDurationValue(),
          "run iterations until this has passed"),
      Custom<RepeatStep>("index", "name", {{"type", "string"}},
                         "the index variable (default i: ${i})",
                         [](Context& c, const Node& v, RepeatStep& r) {
                           auto s = c.Str(v, "index");
                           if (!s) return;
                           if (IsIdentifier(*s, false)) {
                             r.index_var = *s;
                           } else {
                             c.Error(v, "index must be a name like i, got " + Q(*s));
                           }
                         }),
  };
  return t;
}

// parallel and repeat: the children, read with the block's case id and index in scope.
bool ReadBlock(StepInput& in) {
  Context& c = in.c;
  const bool repeat = in.kind == "repeat";
  Node children;
  if (!repeat && in.value.IsSequence()) {
    children = in.value;
  } else {
    Keys keys = repeat ? KeysOf(RepeatTable()) : Keys{"steps"};
    if (!in.NeedMap(keys)) return false;
    if (auto v = in.map->Required(c, "steps")) children = *v;
  }
  if (repeat) {
    RepeatStep r;
    const Map& m = *in.map;
    ReadFields(c, m, RepeatTable(), r);
    if (!m.Has("count") && !m.Has("duration"))
      c.Error(m.node(), "repeat needs 'count' or 'duration'");
    c.index_vars.push_back(r.index_var);
    in.step.args = r;
  } else {
    in.step.args = ParallelStep{};
  }
  // Children see the block's case id (it is validated again when the block finishes).
  std::string block_case;
  if (in.mods.case_id && in.mods.case_id->IsScalar() && IsValidCaseId(in.mods.case_id->Scalar())) {
    block_case = in.mods.case_id->Scalar();
  }
  c.block_cases.push_back(block_case);
  if (children.IsDefined() && !children.IsNull()) {
    if (!children.IsSequence() || children.size() == 0) {
      c.Error(children, "expected a non-empty list of steps, got " + Describe(children));
    } else {
      for (const Node& child : children) {
        if (auto cid = in.read_child(child, in.step.id)) in.step.children.push_back(*cid);
      }
    }
  }
  c.block_cases.pop_back();
  if (repeat) c.index_vars.pop_back();
  return true;
}

const Table<WaitUntilStep>& WaitUntilTable() {
  static const Table<WaitUntilStep> t = {
      Opt("received", &WaitUntilStep::received, Integer(1, 1000000000),
          "messages each member receives after the step is issued (default 1)"),
  };
  return t;
}

// Every kind but rest: the clients that receive messages.
bool ReadWaitUntil(StepInput& in) {
  WaitUntilStep s;
  const bool ok = ReadClientsStep(in, WaitUntilTable(),
                                  {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable,
                                   ClientKind::kMqtt311, ClientKind::kMqtt5},
                                  s);
  if (ok) in.step.args = std::move(s);
  return ok;
}

}  // namespace
}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {
namespace {

// A data message for wait_until: what a publisher sent, not an ack, pong or system message.
bool IsDataMessage(const ObservedEvent& ev, ClientKind kind) {
  if (kind == ClientKind::kWebSocket || IsMqtt(kind)) return IsMessage(ev, kind);
  const clients::Observation::Kind k = ev.observation.kind;
  return k == clients::Observation::Kind::kGroupMessage ||
         k == clients::Observation::Kind::kServerMessage;
}

// Counts each member's data messages from now on; the step completes when every member has
// `received` of them (or times out like any step).
void IssueWaitUntil(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& w = s.As<WaitUntilStep>();
  for (uint32_t m : w.clients.members) {
    const ClientKind kind = cx.sc.ClientOf(m).kind;
    auto seen = std::make_shared<uint64_t>(0);
    out.push_back(
        cx.Awaiting(s, cx.Until(m, [kind, seen, want = w.received](const ObservedEvent& ev) {
          return IsDataMessage(ev, kind) && ++*seen >= want;
        })));
  }
}

}  // namespace

// No issue functions but wait_until's: the driver runs the other steps itself.
void RegisterFlowFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  const Table<ParallelStep> parallel = {Declared<ParallelStep>(
      "steps", "list of steps", {{"type", "array"}, {"items", SchemaRef("step")}},
      "the children (or a bare list)")};
  r.AddStep<WaitStep>({"wait",
                       ReadWait,
                       "wait (shorthand: `- wait: 1s`)",
                       DocsOf(WaitTable()),
                       {},
                       {SchemaRef("duration")}});
  r.AddStep<BarrierStep>({"barrier",
                          ReadBarrier,
                          "wait until every pending operation completed",
                          DocsOf(BarrierTable()),
                          {},
                          {{{"type", "null"}}}});
  r.AddStep<ParallelStep>({"parallel",
                           ReadBlock,
                           "issue all children at the same instant",
                           DocsOf(parallel),
                           {},
                           {{{"type", "array"}, {"minItems", 1}, {"items", SchemaRef("step")}}}});
  r.AddStep<RepeatStep>({"repeat",
                         ReadBlock,
                         "run the children count times or for a duration (closed or open loop)",
                         DocsOf(RepeatTable()),
                         {}});
  r.AddStep<WaitUntilStep>({"wait_until",
                            ReadWaitUntil,
                            "wait until every member received `received` messages (default 1) "
                            "since the step was issued; times out like any step",
                            WithClient(DocsOf(WaitUntilTable())),
                            {},
                            {SchemaRef("clientRef")}},
                           IssueWaitUntil);
}

}  // namespace wpsim::conformance
