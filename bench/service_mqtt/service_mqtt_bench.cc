// MQTT fan-out of the reference service, in simulation, without any client state machine:
// every connection is a SinkStream (a sim::Stream that counts and discards what the service
// writes — "handed to the seam"), fed with a real upgrade request and real masked WebSocket
// frames carrying MQTT 5.0 packets (CONNECT, SUBSCRIBE, PUBLISH, PUBACK). Everything measured
// is the service's own cost: WebSocket and MQTT decoding, permission checks, the Hub fan-out,
// per-receiver PUBLISH patching, in-flight bookkeeping and the per-turn flush.
//
// Benchmarks (10,000 MQTT 5.0 subscribers of topic "bench", one MQTT publisher; items =
// deliveries):
//  * BM_MqttFanoutQos0: a QoS 0 PUBLISH from the publisher → 10,000 QoS 0 deliveries (one
//    shared frame) and the loop turn that flushes every connection.
//  * BM_MqttFanoutQos1WithPuback: a QoS 1 PUBLISH → 10,000 QoS 1 deliveries (one shared
//    frame; each receiver queues a copy with its packet id patched in, and keeps a reference in
//    its in-flight window), the flush, then every subscriber's PUBACK decoded and matched.
// Heap allocations are counted by a global operator new (allocs_per_delivery, timed region).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "bench/common/service_bed.h"
#include "protocol/mqtt/encoder.h"
#include "service/mqtt_session.h"

namespace {
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc-backed operator new above
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

using namespace wpsim;
namespace ws = protocol::websocket;
namespace mqtt = protocol::mqtt;
namespace auth = protocol::auth;

constexpr size_t kSubscribers = 10'000;
constexpr char kTopic[] = "bench";
constexpr char kText[] = "the quick brown fox jumps over the lazy dog 0123456789";

using bench::SinkStream;

// One MQTT 5.0 packet in a masked binary WebSocket frame (what a client sends).
std::string Frame(const mqtt::Packet& packet) {
  std::vector<uint8_t> bytes;
  if (!mqtt::Encode(packet, mqtt::ProtocolVersion::kV5, &bytes).ok()) std::abort();
  return bench::MaskedFrame(ws::Opcode::kBinary, bytes);
}

struct MqttBed : bench::ServiceBed {
  explicit MqttBed(uint8_t qos) {
    auth::ClientTokenOptions o;
    o.roles = std::vector<std::string>{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};
    o.client_type = auth::ClientType::kMqtt;
    upgrade_ = Upgrade("/clients/mqtt/hubs/hub?access_token=", Token(std::move(o)), "mqtt");
    mqtt::Subscribe subscribe;
    subscribe.packet_id = 1;
    subscribe.subscriptions.push_back({kTopic, {qos, false, false, 0}});
    const std::string subscribe_frame = Frame(subscribe);
    uint64_t id = 1;
    for (size_t i = 0; i < kSubscribers; ++i) {
      SinkStream* s = Connect(id++, "s" + std::to_string(i));
      s->Feed(subscribe_frame);
      subscribers.push_back(s);
      if (i % 1000 == 999) Turn();
    }
    publisher = Connect(id++, "publisher");
    Turn();
    const service::HubState::MemberMap* members = hub().state().GroupMembers(kTopic);
    if (members == nullptr || members->size() != kSubscribers) std::abort();
    mqtt::Publish publish;
    publish.topic = kTopic;
    publish.qos = qos;
    publish.packet_id = qos > 0 ? 1 : 0;
    publish.payload.assign(kText, kText + sizeof(kText) - 1);
    publish_frame = Frame(publish);
    // PUBACK frames for every packet id a subscriber can be given (1..65535), built lazily.
    puback_frames.resize(65536);
  }

  SinkStream* Connect(uint64_t id, std::string client_id) {
    SinkStream* raw = ServiceBed::Connect(std::make_unique<SinkStream>(id), upgrade_);
    mqtt::Connect connect;
    connect.client_id = std::move(client_id);
    connect.keep_alive = 0;  // no keep-alive timers in the benchmark
    connect.clean_start = true;
    raw->Feed(Frame(connect));
    return raw;
  }

  const std::string& Puback(uint16_t packet_id) {
    std::string& f = puback_frames[packet_id];
    if (f.empty()) {
      mqtt::Puback ack;
      ack.packet_id = packet_id;
      f = Frame(ack);
    }
    return f;
  }

  bool AllOpen() const {
    for (const SinkStream* s : subscribers) {
      if (s->closed()) return false;
    }
    return true;
  }
  uint64_t Writes() const {
    uint64_t n = 0;
    for (const SinkStream* s : subscribers) n += s->writes;
    return n;
  }

  std::string upgrade_;
  std::vector<SinkStream*> subscribers;
  SinkStream* publisher = nullptr;
  std::string publish_frame;
  std::vector<std::string> puback_frames;
};

MqttBed& BedFor(uint8_t qos) {
  static std::unique_ptr<MqttBed> beds[2];
  auto& b = beds[qos];
  if (!b) b = std::make_unique<MqttBed>(qos);
  return *b;
}

void Report(benchmark::State& state, const MqttBed& bed, size_t deliveries, size_t allocations,
            uint64_t writes) {
  state.SetItemsProcessed(static_cast<int64_t>(deliveries));
  state.counters["deliveries/s"] =
      benchmark::Counter(static_cast<double>(deliveries), benchmark::Counter::kIsRate);
  state.counters["allocs_per_delivery"] =
      deliveries == 0 ? 0.0 : static_cast<double>(allocations) / static_cast<double>(deliveries);
  state.counters["writes_per_delivery"] =
      deliveries == 0 ? 0.0 : static_cast<double>(writes) / static_cast<double>(deliveries);
  if (!bed.AllOpen()) state.SkipWithError("a subscriber was closed");
}

void BM_MqttFanoutQos0(benchmark::State& state) {
  MqttBed& bed = BedFor(0);
  size_t deliveries = 0;
  const uint64_t writes_before = bed.Writes();
  const size_t allocations_before = g_allocations;
  for (auto _ : state) {
    bed.publisher->Feed(bed.publish_frame);
    bed.Turn();
    deliveries += kSubscribers;
  }
  Report(state, bed, deliveries, g_allocations - allocations_before, bed.Writes() - writes_before);
}
BENCHMARK(BM_MqttFanoutQos0)->Unit(benchmark::kMillisecond);

void BM_MqttFanoutQos1WithPuback(benchmark::State& state) {
  MqttBed& bed = BedFor(1);
  size_t deliveries = 0;
  const uint64_t writes_before = bed.Writes();
  const size_t allocations_before = g_allocations;
  // Every session hands out packet ids 1, 2, 3, ... in step (same deliveries, all acked).
  static uint16_t next_id = 1;
  for (auto _ : state) {
    bed.publisher->Feed(bed.publish_frame);
    bed.Turn();
    const std::string& ack = bed.Puback(next_id);
    for (SinkStream* s : bed.subscribers) s->Feed(ack);
    bed.Turn();
    next_id = next_id == 65535 ? 1 : static_cast<uint16_t>(next_id + 1);
    deliveries += kSubscribers;
  }
  Report(state, bed, deliveries, g_allocations - allocations_before, bed.Writes() - writes_before);
  size_t inflight = 0;
  for (const auto& [seq, member] : *bed.hub().state().GroupMembers(kTopic)) {
    inflight += static_cast<service::MqttSession*>(member)->inflight_count();
  }
  state.counters["inflight_after"] = static_cast<double>(inflight);
  if (inflight != 0) state.SkipWithError("PUBACKs did not clear the in-flight windows");
}
BENCHMARK(BM_MqttFanoutQos1WithPuback)->Unit(benchmark::kMillisecond);

}  // namespace
