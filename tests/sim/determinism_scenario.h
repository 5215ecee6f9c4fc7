// A fixed multi-host scenario that exercises everything the trace hash depends on: lognormal,
// pareto and uniform latencies, bandwidth queueing, loss, clock skew, perturbation, a partition
// that heals, a one-way partition that outlasts the stall timeout (reset + reconnect),
// half-close, fan-out of shared buffers and per-host random streams. Used by
// determinism_test.cc and by the wpsim_sim_determinism executable (cross-build comparison).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "sim/trace.h"

namespace wpsim::sim::scenario {

struct Outcome {
  uint64_t trace_hash = 0;
  uint64_t trace_events = 0;
  uint64_t scheduler_events = 0;
  uint64_t bytes_delivered = 0;
  bool ok = true;
  std::string error;
};

class Service {
 public:
  explicit Service(SimRuntime& rt) : rt_(rt) {}

  void Start() {
    auto l = rt_.Listen(Address{"service", 443}, [this](std::unique_ptr<Stream> s) { Accept(std::move(s)); });
    WPSIM_ASSERT(l.ok());
    listener_ = std::move(l).value();
  }

 private:
  struct Conn : StreamHandler {
    Service* owner;
    uint64_t id;
    std::unique_ptr<Stream> stream;
    void OnData(std::span<const uint8_t> data) override { owner->Fanout(id, data); }
    void OnEnd() override {
      stream->Close();
      owner->Drop(id);
    }
    void OnClosed(CloseReason, std::string_view) override { owner->Drop(id); }
  };
  void Accept(std::unique_ptr<Stream> s) {
    auto c = std::make_unique<Conn>();
    c->owner = this;
    c->id = next_id_++;
    c->stream = std::move(s);
    c->stream->SetHandler(c.get());
    conns_.emplace(c->id, std::move(c));
  }
  void Fanout(uint64_t from, std::span<const uint8_t> data) {
    // Echo to the sender; send a digest-sized notice to everyone else (one shared buffer).
    auto it = conns_.find(from);
    if (it != conns_.end()) it->second->stream->Write(data);
    const std::string notice = "from " + std::to_string(from) + " " + std::to_string(data.size()) + ";";
    SharedBytes shared = SharedBytes::Copy(notice);
    for (auto& [id, c] : conns_) {
      if (id != from && c->stream->Writable()) c->stream->Write(shared);
    }
  }
  void Drop(uint64_t id) {
    // Destroy outside the callback of the stream being destroyed.
    rt_.Post([this, id] { conns_.erase(id); });
  }

  SimRuntime& rt_;
  std::unique_ptr<Listener> listener_;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_id_ = 1;
};

class Client : public StreamHandler {
 public:
  Client(SimRuntime& rt, Nanos stop_at) : rt_(rt), rng_(rt.ForkRng("client")), stop_at_(stop_at) {}

  void Start() { Connect(); }
  void OnData(std::span<const uint8_t> data) override { received_ += data.size(); }
  void OnEnd() override {
    if (stream_ != nullptr) stream_->Close();
  }
  void OnClosed(CloseReason, std::string_view) override {
    rt_.Post([this] {
      stream_.reset();
      if (rt_.Now() < stop_at_) rt_.SetTimer(rt_.Now() + 100 * kMillisecond, [this] { Connect(); });
    });
  }

 private:
  void Connect() {
    rt_.Dial(Address{"service", 443}, [this](Result<std::unique_ptr<Stream>> r) {
      if (!r.ok()) {
        if (rt_.Now() < stop_at_) rt_.SetTimer(rt_.Now() + 200 * kMillisecond, [this] { Connect(); });
        return;
      }
      stream_ = std::move(r).value();
      stream_->SetHandler(this);
      ScheduleSend();
    });
  }
  void ScheduleSend() {
    const Nanos gap = Distribution::Exponential(20e6).SampleNanos(rng_);
    rt_.SetTimer(rt_.Now() + gap, [this] {
      if (stream_ == nullptr) return;
      if (rt_.Now() >= stop_at_) {
        stream_->Shutdown();
        return;
      }
      std::string msg(10 + rng_.Below(2000), ' ');
      for (char& c : msg) c = static_cast<char>('a' + rng_.Below(26));
      if (stream_->Writable()) stream_->Write(AsBytes(msg));
      ScheduleSend();
    });
  }

  SimRuntime& rt_;
  Rng rng_;
  Nanos stop_at_;
  std::unique_ptr<Stream> stream_;
  uint64_t received_ = 0;
};

inline Outcome Run(uint64_t seed, bool perturb = true, Trace* keep = nullptr) {
  Trace local(0);
  Trace* trace = keep != nullptr ? keep : &local;
  NetworkOptions o;
  o.seed = seed;
  o.perturb = perturb;
  o.trace = trace;
  o.stall_timeout = 3 * kSecond;
  o.default_link.latency = *Distribution::Parse("lognormal median=2ms sigma=0.6 cap=50ms");
  SimNetwork net(o);
  SimRuntime* service_host = net.AddHost("service").value();
  std::vector<SimRuntime*> client_hosts;
  for (int i = 1; i <= 3; ++i) {
    HostOptions h;
    if (i == 3) h.clock_skew = 250 * kMillisecond;
    client_hosts.push_back(net.AddHost("client-" + std::to_string(i), h).value());
  }
  LinkConfig lossy;
  lossy.latency = *Distribution::Parse("uniform 1ms 4ms");
  lossy.loss = 0.05;
  lossy.retransmit_delay = 30 * kMillisecond;
  WPSIM_ASSERT(net.SetLink("client-2", "service", lossy).ok());
  LinkConfig slow;
  slow.latency = *Distribution::Parse("pareto scale=1ms shape=2.5 cap=200ms");
  slow.bandwidth_bytes_per_s = 200'000;
  WPSIM_ASSERT(net.SetLink("client-3", "service", slow).ok());

  Service service(*service_host);
  service.Start();
  std::vector<std::unique_ptr<Client>> clients;
  for (SimRuntime* h : client_hosts) {
    clients.push_back(std::make_unique<Client>(*h, h->Now() + 4 * kSecond));
    clients.back()->Start();
  }
  // Faults on a fixed timetable (network time).
  service_host->SetTimer(500 * kMillisecond, [&net] { (void)net.Partition("client-1", "service"); });
  service_host->SetTimer(1500 * kMillisecond, [&net] { (void)net.Heal("client-1", "service"); });
  service_host->SetTimer(800 * kMillisecond, [&net] {
    (void)net.Partition("service", "client-2", PartitionDirection::kAToB);
  });
  service_host->SetTimer(5800 * kMillisecond, [&net] { (void)net.HealAll(); });
  service_host->SetTimer(2500 * kMillisecond, [&net] { (void)net.ResetStreams("client-3", "service"); });

  Outcome out;
  Status st = net.RunUntil(20 * kSecond, 50'000'000);
  if (!st.ok()) {
    out.ok = false;
    out.error = st.error().message;
  }
  out.trace_hash = trace->hash();
  out.trace_events = trace->count();
  out.scheduler_events = net.scheduler().events_run();
  out.bytes_delivered = net.stats().bytes_delivered;
  clients.clear();
  return out;
}

}  // namespace wpsim::sim::scenario
