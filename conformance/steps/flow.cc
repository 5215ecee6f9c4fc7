// The flow family's YAML shape: wait, barrier, parallel and repeat (the driver runs them).
#include "conformance/steps/flow.h"

#include "conformance/driver.h"
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

}  // namespace
}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {

// No issue functions: the driver runs these steps itself.
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
}

}  // namespace wpsim::conformance
