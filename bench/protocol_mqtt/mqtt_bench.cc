// MQTT codec micro-benchmarks: PUBLISH with a 64-byte payload encoded and decoded (QoS 0 and
// 1, both versions), and fan-out of one PUBLISH to 10,000 receivers through PublishTemplate.
#include <benchmark/benchmark.h>

#include <vector>

#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"
#include "protocol/mqtt/publish_template.h"

namespace {

using namespace wpsim::protocol::mqtt;  // NOLINT

constexpr int kSubscribers = 10'000;

ProtocolVersion VersionArg(int64_t v) {
  return v == 5 ? ProtocolVersion::kV5 : ProtocolVersion::kV311;
}

Publish Sample(uint8_t qos) {
  Publish p;
  p.topic = "topic1";
  p.qos = qos;
  p.packet_id = qos > 0 ? 1 : 0;
  p.payload.assign(64, 'x');
  return p;
}

void SetLabel(benchmark::State& state) {
  state.SetLabel(std::string(state.range(0) == 5 ? "5.0" : "3.1.1") + " QoS " +
                 std::to_string(state.range(1)));
}

// Encode into a reused buffer.
void BM_EncodePublish64(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  Publish p = Sample(static_cast<uint8_t>(state.range(1)));
  std::vector<uint8_t> out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    wpsim::Status s = Encode(p, v, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  SetLabel(state);
}

// Decode one complete packet per call into a reused Packet (in-place parse, no copy of the
// input into the decoder's buffer).
void BM_DecodePublish64(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  Publish p = Sample(static_cast<uint8_t>(state.range(1)));
  std::vector<uint8_t> bytes;
  if (!Encode(p, v, &bytes).ok()) state.SkipWithError("encode failed");
  Decoder decoder({.role = Role::kServer, .version = v, .handshake_done = true});
  Packet packet;
  for (auto _ : state) {
    std::span<const uint8_t> in(bytes);
    DecodeStatus s = decoder.Decode(&in, &packet);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  SetLabel(state);
}

// The round trip the issue asks for: encode, then decode what was encoded.
void BM_EncodeDecodePublish64(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  Publish p = Sample(static_cast<uint8_t>(state.range(1)));
  std::vector<uint8_t> out;
  out.reserve(256);
  Decoder decoder({.role = Role::kServer, .version = v, .handshake_done = true});
  Packet packet;
  for (auto _ : state) {
    out.clear();
    wpsim::Status s = Encode(p, v, &out);
    benchmark::DoNotOptimize(s);
    std::span<const uint8_t> in(out);
    DecodeStatus d = decoder.Decode(&in, &packet);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
  SetLabel(state);
}

// A stream of 1,000 PUBLISH packets fed in 1,460-byte chunks (a TCP segment): packets
// straddle chunks, so some bodies go through the decoder's buffer.
void BM_DecodePublishStream(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  Publish p = Sample(static_cast<uint8_t>(state.range(1)));
  std::vector<uint8_t> stream;
  for (int i = 0; i < 1000; ++i) {
    if (!Encode(p, v, &stream).ok()) state.SkipWithError("encode failed");
  }
  Packet packet;
  for (auto _ : state) {
    Decoder decoder({.role = Role::kServer, .version = v, .handshake_done = true});
    for (size_t pos = 0; pos < stream.size(); pos += 1460) {
      std::span<const uint8_t> in(stream.data() + pos, std::min<size_t>(1460, stream.size() - pos));
      while (decoder.Decode(&in, &packet) == DecodeStatus::kPacket) {
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  SetLabel(state);
}

// Fan-out, baseline: a full Encode per receiver into that receiver's (reused) buffer.
void BM_FanOutEncodeEach(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  uint8_t qos = static_cast<uint8_t>(state.range(1));
  Publish p = Sample(qos);
  std::vector<uint8_t> out;
  out.reserve(128 * kSubscribers);
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < kSubscribers; ++i) {
      p.packet_id = qos > 0 ? static_cast<uint16_t>(i + 1) : 0;
      wpsim::Status s = Encode(p, v, &out);
      benchmark::DoNotOptimize(s);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kSubscribers);
  SetLabel(state);
}

// Fan-out through a template: copy the prebuilt image and patch flags and packet id.
void BM_FanOutTemplate(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  uint8_t qos = static_cast<uint8_t>(state.range(1));
  wpsim::Result<PublishTemplate> t = PublishTemplate::Make(Sample(0), v);
  if (!t.ok()) state.SkipWithError("template failed");
  std::vector<uint8_t> out;
  out.reserve(128 * kSubscribers);
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < kSubscribers; ++i) {
      t->AppendTo(&out, qos, static_cast<uint16_t>(i + 1));
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kSubscribers);
  SetLabel(state);
}

// Fan-out at QoS 0 by sharing one buffer: each receiver gets a reference (counter bump).
void BM_FanOutSharedQos0(benchmark::State& state) {
  ProtocolVersion v = VersionArg(state.range(0));
  wpsim::Result<PublishTemplate> t = PublishTemplate::Make(Sample(0), v);
  if (!t.ok()) state.SkipWithError("template failed");
  std::vector<wpsim::SharedBytes> queues(kSubscribers);
  for (auto _ : state) {
    for (int i = 0; i < kSubscribers; ++i) queues[i] = t->qos0_packet();
    benchmark::DoNotOptimize(queues.data());
  }
  state.SetItemsProcessed(state.iterations() * kSubscribers);
  state.SetLabel(state.range(0) == 5 ? "5.0 QoS 0" : "3.1.1 QoS 0");
}

// Fan-out with a per-receiver Subscription Identifier (5.0): the slower rebuild path.
void BM_FanOutTemplateWithSubscriptionId(benchmark::State& state) {
  uint8_t qos = static_cast<uint8_t>(state.range(1));
  wpsim::Result<PublishTemplate> t = PublishTemplate::Make(Sample(0), ProtocolVersion::kV5);
  if (!t.ok()) state.SkipWithError("template failed");
  std::vector<uint8_t> out;
  out.reserve(128 * kSubscribers);
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < kSubscribers; ++i) {
      uint32_t id = static_cast<uint32_t>(i + 1);
      t->AppendTo(&out, qos, static_cast<uint16_t>(i + 1), false, {&id, 1});
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kSubscribers);
  SetLabel(state);
}

void VersionsAndQos(benchmark::internal::Benchmark* b) {
  for (int v : {4, 5}) {
    for (int qos : {0, 1}) b->Args({v, qos});
  }
}

BENCHMARK(BM_EncodePublish64)->Apply(VersionsAndQos);
BENCHMARK(BM_DecodePublish64)->Apply(VersionsAndQos);
BENCHMARK(BM_EncodeDecodePublish64)->Apply(VersionsAndQos);
BENCHMARK(BM_DecodePublishStream)->Apply(VersionsAndQos);
BENCHMARK(BM_FanOutEncodeEach)->Apply(VersionsAndQos);
BENCHMARK(BM_FanOutTemplate)->Apply(VersionsAndQos);
BENCHMARK(BM_FanOutSharedQos0)->Arg(4)->Arg(5);
BENCHMARK(BM_FanOutTemplateWithSubscriptionId)->Args({5, 0})->Args({5, 1});

}  // namespace
