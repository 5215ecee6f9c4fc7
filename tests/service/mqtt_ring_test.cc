// MqttRing (the MQTT session's in-flight window and send queue) against std::deque as the
// model: a long deterministic run of pushes, pops and erases at every position, through the
// inline slots, the move to the heap and repeated growth.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>

#include "service/mqtt_ring.h"

namespace wpsim::service {
namespace {

template <size_t kInline>
void RunAgainstDeque() {
  MqttRing<uint32_t, kInline> ring;
  std::deque<uint32_t> model;
  uint64_t state = 0x2545F4914F6CDD1DULL;  // xorshift: deterministic, no std:: distributions
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  uint32_t value = 0;
  for (int step = 0; step < 200'000; ++step) {
    const uint64_t r = next();
    // Phases that favour growth, then shrinking, so the ring both grows and wraps.
    const bool grow_phase = (step / 5000) % 2 == 0;
    const uint64_t op = r % 10;
    if (model.empty() || op < (grow_phase ? 6u : 3u)) {
      ring.push_back(++value);
      model.push_back(value);
    } else if (op < 7) {
      ASSERT_EQ(ring.pop_front(), model.front());
      model.pop_front();
    } else if (op < 8) {
      ring.pop_back();
      model.pop_back();
    } else {
      const size_t i = static_cast<size_t>((r >> 8) % model.size());
      ring.erase(i);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
    }
    ASSERT_EQ(ring.size(), model.size());
    if (!model.empty()) {
      ASSERT_EQ(ring.front(), model.front());
      ASSERT_EQ(ring.back(), model.back());
    }
    if (step % 997 == 0) {
      for (size_t i = 0; i < model.size(); ++i) ASSERT_EQ(ring[i], model[i]) << step;
    }
  }
  EXPECT_GT(ring.capacity(), 2u);
  EXPECT_LE(ring.capacity(), (MqttRing<uint32_t, kInline>::kMaxCapacity));
  ring.clear();
  EXPECT_TRUE(ring.empty());
  ring.push_back(7);
  EXPECT_EQ(ring.front(), 7u);
}

TEST(MqttRing, BehavesLikeADequeThroughGrowthWrapAndMiddleErases) {
  RunAgainstDeque<0>();
  RunAgainstDeque<1>();
  RunAgainstDeque<2>();
}

TEST(MqttRing, AnEmptyRingWithoutInlineSlotsTakesSixteenBytes) {
  EXPECT_EQ(sizeof(MqttRing<std::shared_ptr<int>, 0>), 16u);
  EXPECT_EQ(sizeof(MqttRing<std::shared_ptr<int>, 1>), 16u + sizeof(std::shared_ptr<int>));
}

TEST(MqttRing, FreedSlotsReleaseWhatTheyHeld) {
  auto shared = std::make_shared<int>(1);
  MqttRing<std::shared_ptr<int>, 2> ring;
  for (int i = 0; i < 5; ++i) ring.push_back(shared);  // inline, then the heap
  EXPECT_EQ(shared.use_count(), 6);
  ring.erase(2);
  (void)ring.pop_front();
  ring.pop_back();
  EXPECT_EQ(shared.use_count(), 3);
  ring.clear();
  EXPECT_EQ(shared.use_count(), 1);
}

}  // namespace
}  // namespace wpsim::service
