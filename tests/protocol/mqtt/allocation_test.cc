// Steady-state PUBLISH handling must not allocate (DESIGN.md §8): the encoder appends to a
// reused buffer, the decoder reuses the Publish it was given, the template copies and patches.
// This file replaces the global operator new of the test binary with a counting one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"
#include "protocol/mqtt/publish_template.h"

namespace {
size_t g_allocations = 0;  // tests run on one thread
}  // namespace

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
#if defined(__GNUC__) && !defined(__clang__)
// GCC (seen with -fsanitize=address at -O2) flags the malloc-backed pair as mismatched.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace wpsim::protocol::mqtt {
namespace {

TEST(MqttSteadyState, EncodesAndDecodesPublishWithoutAllocating) {
  for (ProtocolVersion v : {ProtocolVersion::kV311, ProtocolVersion::kV5}) {
    Publish p;
    p.topic = "topic1";
    p.qos = 1;
    p.packet_id = 1;
    p.payload.assign(64, 'x');
    if (v == ProtocolVersion::kV5) p.properties.user_properties = {{"k", "v"}};
    std::vector<uint8_t> out;
    Decoder decoder({.role = Role::kServer, .version = v, .handshake_done = true});
    Packet packet;
    auto once = [&](uint16_t id) {
      out.clear();
      p.packet_id = id;
      ASSERT_TRUE(Encode(p, v, &out).ok());
      std::span<const uint8_t> in(out);
      ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kPacket);
    };
    once(1);  // warm-up: buffers reach their working size
    size_t before = g_allocations;
    for (uint16_t id = 2; id < 1002; ++id) once(id);
    EXPECT_EQ(g_allocations - before, 0u) << ProtocolVersionName(v);
    EXPECT_TRUE(std::get<Publish>(packet) == p);
  }
}

TEST(MqttSteadyState, FansOutThroughATemplateWithoutAllocating) {
  Publish p;
  p.topic = "topic1";
  p.payload.assign(64, 'x');
  Result<PublishTemplate> t = PublishTemplate::Make(p, ProtocolVersion::kV5);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> out;
  out.reserve(200 * 1000);
  size_t before = g_allocations;
  for (int i = 0; i < 1000; ++i) t->AppendTo(&out, static_cast<uint8_t>(i % 3), 1 + i);
  EXPECT_EQ(g_allocations - before, 0u);
  // The counter does see allocations (the test can fail).
  before = g_allocations;
  std::vector<uint8_t> fresh(100);
  EXPECT_EQ(g_allocations - before, 1u);
}

}  // namespace
}  // namespace wpsim::protocol::mqtt
