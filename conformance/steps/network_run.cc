#include "conformance/steps/network_run.h"

namespace wpsim::conformance {
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
  r.AddStep(StepKind::kPartition, IssuePartition);
  r.AddStep(StepKind::kHeal, IssueHeal);
  r.AddStep(StepKind::kDelay, IssueDelay);
  r.AddStep(StepKind::kReset, IssueReset);
  r.AddStep(StepKind::kSetClockSkew, IssueClockSkew);
  r.on_start.push_back(ApplyScheduledPartitions);
}

}  // namespace wpsim::conformance
