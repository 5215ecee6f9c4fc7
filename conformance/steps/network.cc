// The network family (sim only): how the network section and the partition, heal, delay, reset
// and set_clock_skew steps are read, and how they (and the scheduled partitions) are applied.
#include "conformance/steps/network.h"

#include <set>

#include "conformance/driver.h"
#include "conformance/shape/sections.h"
#include "conformance/shape/steps.h"
#include "conformance/units.h"
#include "sim/distribution.h"

namespace wpsim::conformance::shape {
namespace {

const std::vector<EnumName<PartitionDirection>> kDirections = {
    {"both", PartitionDirection::kBoth},
    {"client_to_service", PartitionDirection::kClientToService},
    {"service_to_client", PartitionDirection::kServiceToClient}};

// Where a network step applies: clients, all, or the upstream link.
struct NetworkTarget {
  std::optional<ClientRef> clients;
  bool all = false;
  bool upstream = false;
  PartitionDirection direction = PartitionDirection::kBoth;
};

Field<NetworkTarget> TargetField(std::string doc) {
  return Declared<NetworkTarget>("client", "reference, all or upstream", SchemaRef("networkTarget"),
                                 std::move(doc));
}

const Table<NetworkTarget>& PartitionTable() {
  static const Table<NetworkTarget> t = {
      TargetField("the clients cut off (a reference, all, or upstream: the service <-> application "
                  "server link)"),
      Opt("direction", &NetworkTarget::direction, EnumValue(&kDirections, "direction"),
          "both (default), client_to_service or service_to_client"),
  };
  return t;
}
const Table<NetworkTarget>& HealTable() {
  static const Table<NetworkTarget> t = {TargetField("the clients healed (default all)")};
  return t;
}
Table<NetworkTarget> DelayDocs() {
  Table<NetworkTarget> t = {TargetField(
      "the links changed (default all; upstream for the service <-> application server link)")};
  for (std::string_view k : {"latency", "bandwidth", "loss", "receive_window"}) {
    t.push_back(Declared<NetworkTarget>(k, "link setting", {}, "as in the network section"));
  }
  t[1].schema = SchemaRef("distribution");
  t[2].schema = SchemaRef("bandwidth");
  t[3].schema = SchemaRef("fraction");
  t[4].schema = SchemaRef("size");
  t.push_back(Declared<NetworkTarget>("restore", "true", {{"const", true}},
                                      "true: back to the link's own settings in the network "
                                      "section (instead of latency, bandwidth, ...)"));
  return t;
}

// partition, heal, delay: the target (and the kind's own keys) into `target`; `map` is set when
// the value was a mapping.
bool ReadTarget(StepInput& in, const Keys& keys, NetworkTarget& target) {
  Context& c = in.c;
  std::optional<Node> client_node;
  if (in.NoArgs()) {
    if (in.kind != "heal") {
      c.Error(in.kind_node, in.what() + " needs a client, 'all' or 'upstream'");
      return false;
    }
    target.all = true;
  } else if (in.value.IsScalar() || in.value.IsSequence()) {
    if (in.kind == "delay") {
      c.Error(in.value, "delay needs a mapping (client and latency/bandwidth/loss/receive_window)");
      return false;
    }
    client_node = in.value;
  } else {
    if (!in.NeedMap(keys)) return false;
    client_node = in.map->Get("client");
    if (!client_node) {
      if (in.kind == "partition") {
        in.map->Required(c, "client");
        return false;
      }
      target.all = true;
    }
  }
  if (client_node) {
    if (client_node->IsScalar() && client_node->Scalar() == "upstream") {
      target.upstream = true;
    } else if (client_node->IsScalar() && client_node->Scalar() == "all") {
      target.all = true;
    } else {
      target.clients = c.Ref(*client_node, RefOptions{});
      if (!target.clients) return false;
    }
  }
  return true;
}

bool ReadPartition(StepInput& in) {
  NetworkTarget t;
  if (!ReadTarget(in, KeysOf(PartitionTable()), t)) return false;
  if (in.map) ReadFields(in.c, *in.map, PartitionTable(), t);
  PartitionStep s;
  s.clients = t.clients;
  s.all = t.all;
  s.upstream = t.upstream;
  s.direction = t.direction;
  in.step.args = std::move(s);
  return true;
}

bool ReadHeal(StepInput& in) {
  NetworkTarget t;
  if (!ReadTarget(in, KeysOf(HealTable()), t)) return false;
  in.step.args = HealStep{t.clients, t.all, t.upstream};
  return true;
}

bool ReadDelay(StepInput& in) {
  NetworkTarget t;
  if (!ReadTarget(in, KeysOf(DelayDocs()), t)) return false;
  DelayStep s;
  s.clients = t.clients;
  s.all = t.all;
  s.upstream = t.upstream;
  s.link = ReadLink(in.c, *in.map);
  bool restore = false;
  if (auto r = in.map->Get("restore")) {
    if (!(r->IsScalar() && r->Scalar() == "true")) {
      in.c.Error(*r, "restore takes only true (a delay without it changes link settings)");
      return false;
    }
    restore = true;
    if (!s.link.empty()) {
      in.c.Error(*r, "restore: true sets the link back to its own settings; it takes no latency, "
                     "bandwidth, loss or receive_window");
    }
  }
  if (s.link.empty() && !restore)
    in.c.Error(in.map->node(),
               "delay needs at least one of: latency, bandwidth, loss, receive_window (or restore: "
               "true)");
  in.step.args = std::move(s);
  return true;
}

bool ReadReset(StepInput& in) {
  auto ref = in.ClientsOf({});
  if (!ref) return false;
  in.step.args = ResetStep{*ref};
  return true;
}

ValueType<int64_t> SignedDurationValue() {
  return Parsed<int64_t>([](std::string_view text) { return ParseSignedDuration(text); },
                         "signed duration", SchemaRef("signedDuration"));
}

const Table<ClockSkewStep>& ClockSkewTable() {
  static const Table<ClockSkewStep> t = {
      Custom<ClockSkewStep>("client", "reference or service", SchemaRef("clientRef"),
                            "whose clock (default service: the service's)",
                            [](Context& c, const Node& v, ClockSkewStep& s) {
                              if (!(v.IsScalar() && v.Scalar() == "service"))
                                s.clients = c.Ref(v, RefOptions{});
                            }),
      Req("skew", &ClockSkewStep::skew_ns, SignedDurationValue(), "the offset, e.g. +6m or -10m"),
  };
  return t;
}

bool ReadClockSkew(StepInput& in) {
  ClockSkewStep s;
  if (in.value.IsScalar()) {
    if (auto d = SignedDurationValue().read(in.c, in.value, "skew")) s.skew_ns = *d;
  } else {
    if (!in.NeedMap(KeysOf(ClockSkewTable()))) return false;
    const Map& m = *in.map;
    auto skew = m.Required(in.c, "skew");
    if (auto v = m.Get("client")) {
      ClockSkewTable()[0].read(in.c, *v, s);
      if (!(v->IsScalar() && v->Scalar() == "service") && !s.clients) return false;
    }
    if (!skew) return false;
    ClockSkewTable()[1].read(in.c, *skew, s);
  }
  in.step.args = std::move(s);
  return true;
}

// ---- the network section -----------------------------------------------------------------

void ReadScheduledClient(Context& c, const Node& v, ScheduledPartition& p) {
  if (v.IsScalar() && v.Scalar() == "upstream") {
    p.upstream = true;
  } else if (auto ref = c.Ref(v, RefOptions{.allow_all = true})) {
    p.clients = *ref;
  }
}

const Table<ScheduledPartition>& ScheduledPartitionTable() {
  using P = ScheduledPartition;
  static const Table<P> t = {
      Req("at", &P::at_ns, DurationValue(), "when the partition starts"),
      Opt("duration", &P::duration_ns, PositiveDurationValue(),
          "heal after this long (default: until a heal step)"),
      Custom<P>("client", "reference, all or upstream", SchemaRef("networkTarget"),
                "the clients cut off", ReadScheduledClient, true),
      Opt("direction", &P::direction, EnumValue(&kDirections, "direction"),
          "both (default), client_to_service or service_to_client"),
  };
  return t;
}

void ReadClientLinks(Context& c, const Node& v, NetworkSettings&) {
  Scenario& sc = c.scenario();
  if (!v.IsMap()) {
    c.Error(v, "expected a mapping of client names to link settings, got " + Describe(v));
    return;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    auto name = c.Str(it->first, "client name");
    if (!name) continue;
    auto ci = sc.FindClient(*name);
    if (!ci) {
      c.UndefinedClient(it->first, *name);
      continue;
    }
    if (c.client_network_set.count(*ci)) {
      c.Error(it->first,
              "network of client " + Q(*name) + " is set twice (here and in its definition)");
      continue;
    }
    Map lm(c, it->second, "network of client " + Q(*name), KeysOf(LinkTable()));
    if (!lm.ok()) continue;
    sc.clients[*ci].network = ReadLink(c, lm);
    c.client_network_set.insert(*ci);
  }
}

void ReadPartitions(Context& c, const Node& v, NetworkSettings& net) {
  if (!v.IsSequence()) {
    c.Error(v, "expected a list of partitions, got " + Describe(v));
    return;
  }
  for (const Node& item : v) {
    Map pm(c, item, "partition", KeysOf(ScheduledPartitionTable()));
    if (!pm.ok()) continue;
    ScheduledPartition p;
    p.pos = c.Pos(item);
    ReadFields(c, pm, ScheduledPartitionTable(), p);
    net.partitions.push_back(std::move(p));
  }
}

}  // namespace

const Table<LinkSettings>& LinkTable() {
  using L = LinkSettings;
  static const Table<L> t = {
      Opt("latency", &L::latency,
          Parsed<sim::Distribution>(
              [](std::string_view text) { return sim::Distribution::Parse(text); }, "distribution",
              SchemaRef("distribution")),
          "one-way latency: 5ms, uniform 1ms 3ms, lognormal median=5ms sigma=0.5, ..."),
      Opt("bandwidth", &L::bandwidth_bps,
          Parsed<uint64_t>([](std::string_view text) { return ParseBandwidth(text); }, "bandwidth",
                           SchemaRef("bandwidth")),
          "bits per second: 9600bps, 10Mbps, 1Gbps"),
      Opt("loss", &L::loss,
          Parsed<double>([](std::string_view text) { return ParseFraction(text); }, "loss",
                         SchemaRef("fraction")),
          "segment loss (1%, 0.01), modelled as retransmission delay"),
      Opt("receive_window", &L::receive_window_bytes, ByteSizeValue(true),
          "bounded receive window (slow receivers)"),
  };
  return t;
}

LinkSettings ReadLink(Context& c, const Map& m) {
  LinkSettings link;
  ReadFields(c, m, LinkTable(), link);
  return link;
}

const Table<NetworkSettings>& NetworkTable() {
  using N = NetworkSettings;
  static const Table<N> t = {
      Declared<N>("latency", "distribution", SchemaRef("distribution"),
                  "one-way latency of every link"),
      Declared<N>("bandwidth", "bandwidth", SchemaRef("bandwidth"), "bandwidth of every link"),
      Declared<N>("loss", "loss", SchemaRef("fraction"),
                  "segment loss, modelled as retransmission delay"),
      Declared<N>("receive_window", "size", SchemaRef("size"),
                  "bounded receive windows (slow receivers)"),
      Custom<N>("clients", "mapping",
                {{"type", "object"}, {"additionalProperties", SchemaRef("link")}},
                "per-client link settings", ReadClientLinks),
      Custom<N>("upstream", "link settings", SchemaRef("link"),
                "the service <-> application server link",
                [](Context& c, const Node& v, N& net) {
                  Map lm(c, v, "network upstream link", KeysOf(LinkTable()));
                  if (!lm.ok()) return;
                  net.upstream = ReadLink(c, lm);
                }),
      Opt("stream_timeout", &N::stream_timeout_ns, PositiveDurationValue(),
          "a stalled stream resets after this (TCP-like)"),
      Custom<N>("partitions", "list", {{"type", "array"}},
                "scheduled partitions {at, duration, client, direction}", ReadPartitions),
  };
  return t;
}

void ReadNetwork(Context& c, const Node& n) {
  Map m(c, n, "network", KeysOf(NetworkTable()));
  if (!m.ok()) return;
  NetworkSettings& net = c.scenario().network;
  net.present = true;
  net.defaults = ReadLink(c, m);
  ReadFields(c, m, NetworkTable(), net);
}

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {

std::string_view PartitionDirectionName(PartitionDirection d) {
  switch (d) {
    case PartitionDirection::kBoth:
      return "both";
    case PartitionDirection::kClientToService:
      return "client_to_service";
    case PartitionDirection::kServiceToClient:
      return "service_to_client";
  }
  return "?";
}
namespace {

sim::PartitionDirection ToSim(PartitionDirection d) {
  return d == PartitionDirection::kBoth              ? sim::PartitionDirection::kBothWays
         : d == PartitionDirection::kClientToService ? sim::PartitionDirection::kAToB
                                                     : sim::PartitionDirection::kBToA;
}

void IssuePartition(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  const auto& p = s.As<PartitionStep>();
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  const int64_t now = cx.env.Now();
  for (uint32_t m : cx.Targets(p.clients, p.all)) {
    (void)net->Partition(cx.env.HostOf(m), "service", ToSim(p.direction));
    cx.Arrow(now, cx.sc.members[m].name, "service", "partition");
  }
  if (p.upstream && cx.env.app_server()) {
    // The application server plays the client's side ("app" is host A, like c.<name>).
    (void)net->Partition("app", "service", ToSim(p.direction));
    cx.Arrow(now, "service", "app", "partition");
  }
}

void IssueHeal(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  const auto& h = s.As<HealStep>();
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  for (uint32_t m : cx.Targets(h.clients, h.all)) (void)net->Heal(cx.env.HostOf(m), "service");
  if (h.upstream && cx.env.app_server()) (void)net->Heal("app", "service");
}

void IssueDelay(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  const auto& d = s.As<DelayStep>();
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  // The link as the scenario set it up (defaults, then the client's or the upstream's own
  // settings), then the step's changes.
  const sim::LinkConfig defaults = net->options().default_link;
  for (uint32_t m : cx.Targets(d.clients, d.all)) {
    const sim::LinkConfig cfg =
        ToLinkConfig(d.link, ToLinkConfig(cx.sc.ClientOf(m).network, defaults));
    (void)net->SetLink(cx.env.HostOf(m), "service", cfg);
  }
  if (d.upstream && cx.env.app_server()) {
    (void)net->SetLink("service", "app",
                       ToLinkConfig(d.link, ToLinkConfig(cx.sc.network.upstream, defaults)));
  }
}

void IssueReset(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  for (uint32_t m : s.As<ResetStep>().clients.members) {
    (void)net->ResetStreams(cx.env.HostOf(m), "service");
    cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "reset");
  }
}

void IssueClockSkew(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  const auto& c = s.As<ClockSkewStep>();
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  if (!c.clients) {
    (void)net->SetClockSkew("service", c.skew_ns);
  } else {
    for (uint32_t m : c.clients->members) (void)net->SetClockSkew(cx.env.HostOf(m), c.skew_ns);
  }
}

// network.partitions: scheduled on the simulator's clock from the run's start.
void ApplyScheduledPartitions(RunContext& cx) {
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  const int64_t start = cx.env.Now();
  for (const ScheduledPartition& p : cx.sc.network.partitions) {
    std::vector<std::string> hosts;
    if (p.upstream) {
      if (!cx.env.app_server()) continue;
      hosts.push_back("app");
    }
    for (uint32_t m : p.clients.members) hosts.push_back(cx.env.HostOf(m));
    const sim::PartitionDirection d = ToSim(p.direction);
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

}  // namespace

void RegisterNetworkFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  r.AddStep<PartitionStep>({"partition",
                            ReadPartition,
                            "cut links (sim only)",
                            DocsOf(PartitionTable()),
                            {},
                            {SchemaRef("networkTarget")}},
                           IssuePartition);
  r.AddStep<HealStep>({"heal",
                       ReadHeal,
                       "restore links (sim only; `- heal` heals everything)",
                       DocsOf(HealTable()),
                       {},
                       {{{"type", "null"}}, SchemaRef("networkTarget")}},
                      IssueHeal);
  r.AddStep<DelayStep>(
      {"delay",
       ReadDelay,
       "change link settings, starting from the link's own settings in `network` (sim only)",
       DocsOf(DelayDocs()),
       {}},
      IssueDelay);
  r.AddStep<ResetStep>({"reset",
                        ReadReset,
                        "TCP-like reset of the members' streams (sim only)",
                        WithClient({}),
                        {},
                        {SchemaRef("clientRef")}},
                       IssueReset);
  r.AddStep<ClockSkewStep>(
      {"set_clock_skew",
       ReadClockSkew,
       "shift a clock, for token expiry cases (sim only; `- set_clock_skew: +6m` is the service's)",
       DocsOf(ClockSkewTable()),
       {},
       {SchemaRef("signedDuration")}},
      IssueClockSkew);
  r.on_start.push_back(ApplyScheduledPartitions);
}

void HealAllFaults(RunContext& cx) {
  sim::SimNetwork* net = cx.env.network();
  if (!net) return;
  const sim::LinkConfig defaults = net->options().default_link;
  std::set<std::string> hosts;
  for (uint32_t m = 0; m < cx.sc.members.size(); ++m) {
    const std::string host = cx.env.HostOf(m);
    if (!hosts.insert(host).second) continue;
    (void)net->Heal(host, "service");
    (void)net->SetLink(host, "service", ToLinkConfig(cx.sc.ClientOf(m).network, defaults));
    (void)net->SetClockSkew(host, 0);
  }
  (void)net->SetClockSkew("service", 0);
  if (cx.env.app_server()) {
    (void)net->Heal("app", "service");
    (void)net->SetLink("service", "app", ToLinkConfig(cx.sc.network.upstream, defaults));
  }
}

}  // namespace wpsim::conformance
