// The `swarm:` section (the ranges `wpsim explore --swarm` draws fault plans from) and the
// `eventually:` section (the liveness phase: expectations judged after every fault healed).
#include "conformance/shape/sections.h"
#include "conformance/units.h"

namespace wpsim::conformance {

std::string_view SwarmFaultName(SwarmFault f) {
  switch (f) {
    case SwarmFault::kLatency: return "latency";
    case SwarmFault::kLoss: return "loss";
    case SwarmFault::kPartition: return "partition";
    case SwarmFault::kReset: return "reset";
    case SwarmFault::kSlowReader: return "slow_reader";
    case SwarmFault::kClockSkew: return "clock_skew";
    case SwarmFault::kServiceDelay: return "service_delay";
  }
  return "?";
}

namespace shape {
namespace {

const std::vector<EnumName<SwarmFault>> kSwarmFaults = {
    {"latency", SwarmFault::kLatency},         {"loss", SwarmFault::kLoss},
    {"partition", SwarmFault::kPartition},     {"reset", SwarmFault::kReset},
    {"slow_reader", SwarmFault::kSlowReader},  {"clock_skew", SwarmFault::kClockSkew},
    {"service_delay", SwarmFault::kServiceDelay}};

void ReadFaultList(Context& c, const Node& v, SwarmSettings& s) {
  if (!v.IsSequence()) {
    c.Error(v, "expected a list of fault kinds (" + JoinKeys(NamesOf(kSwarmFaults)) + "), got " + Describe(v));
    return;
  }
  for (const Node& item : v) {
    if (auto f = c.Enum(item, "fault kind", kSwarmFaults)) {
      bool dup = false;
      for (SwarmFault have : s.faults) dup |= have == *f;
      if (dup) {
        c.Error(item, "fault kind " + Q(std::string(SwarmFaultName(*f))) + " is listed twice");
      } else {
        s.faults.push_back(*f);
      }
    }
  }
  if (s.faults.empty() && v.size() == 0) c.Error(v, "faults needs at least one fault kind");
}

}  // namespace

const Table<SwarmSettings>& SwarmTable() {
  using S = SwarmSettings;
  static const Table<S> t = {
      Custom<S>("faults", "list of fault kinds", {{"type", "array"}},
                "kinds drawn from: latency, loss, partition, reset, slow_reader, clock_skew, "
                "service_delay (default: latency, loss, partition, slow_reader, service_delay)",
                ReadFaultList),
      Opt("max_faults", &S::max_faults, Integer(0, 64), "a plan has 0 to this many faults (default 4)"),
      Opt("window", &S::window_ns, PositiveDurationValue(),
          "faults start in [0, window) of the run (default: the length of the unperturbed run)"),
      Opt("max_duration", &S::max_duration_ns, PositiveDurationValue(),
          "a fault lasts 1ms to this, then heals (default 50ms)"),
      Opt("max_latency", &S::max_latency_ns, PositiveDurationValue(),
          "latency faults: lognormal, median 1ms to this, sigma 0.8 (default 20ms)"),
      Opt("max_loss", &S::max_loss,
          Parsed<double>([](std::string_view text) { return ParseFraction(text); }, "loss",
                         SchemaRef("fraction")),
          "loss faults: 0.5% to this (default 5%)"),
      Opt("min_receive_window", &S::min_receive_window, ByteSizeValue(true),
          "slow readers: a receive window of this to 64 KiB (default 4 KiB)"),
      Opt("max_clock_skew", &S::max_clock_skew_ns, PositiveDurationValue(),
          "clock skew: a client's clock off by up to this either way (default 5s)"),
      Opt("clients", &S::clients, ClientRefValue(RefOptions{}),
          "the clients faults target (default: every client)"),
  };
  return t;
}

void ReadSwarm(Context& c, const Node& n) {
  Map m(c, n, "swarm", KeysOf(SwarmTable()));
  if (!m.ok()) return;
  SwarmSettings& s = c.scenario().swarm;
  s.present = true;
  s.pos = c.Pos(n);
  ReadFields(c, m, SwarmTable(), s);
}

const Table<EventuallySettings>& EventuallyTable() {
  using E = EventuallySettings;
  static const Table<E> t = {
      Opt("within", &E::within_ns, PositiveDurationValue(),
          "the bound in virtual time from the heal to the verdict (default 5s)"),
      Opt("all_acked_delivered", &E::all_acked_delivered, Boolean(),
          "built-in check: every acknowledged publish (sendToGroup acked success or Duplicate, "
          "REST send answered 2xx) reached every member present throughout (default false)"),
      Opt("recovered_caught_up", &E::recovered_caught_up, Boolean(),
          "built-in check: every reliable client that lost its transport recovered and has "
          "every message published to it meanwhile (default false)"),
      Declared<E>("expect", "list", {{"type", "array"}},
                  "expectations that must hold once every fault healed (the grammar of `expect`; "
                  "optional when a built-in check is on)",
                  false),
  };
  return t;
}

void ReadEventually(Context& c, const Node& n) {
  Map m(c, n, "eventually", KeysOf(EventuallyTable()));
  if (!m.ok()) return;
  Scenario& sc = c.scenario();
  sc.eventually.present = true;
  sc.eventually.pos = c.Pos(n);
  ReadFields(c, m, EventuallyTable(), sc.eventually);
  const bool builtin = sc.eventually.all_acked_delivered || sc.eventually.recovered_caught_up;
  if (builtin && !m.Has("expect")) return;
  if (auto list = m.Required(c, "expect")) {
    const size_t before = sc.expectations.size();
    ReadExpectations(c, *list);
    for (size_t i = before; i < sc.expectations.size(); ++i) sc.expectations[i].eventually = true;
    if (list->IsSequence() && list->size() == 0 && !builtin)
      c.Error(*list, "eventually needs at least one expectation (or a built-in check: "
                     "all_acked_delivered, recovered_caught_up)");
  }
}

}  // namespace shape
}  // namespace wpsim::conformance
