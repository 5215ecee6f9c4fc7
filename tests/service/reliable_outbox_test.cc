#include "service/reliable_outbox.h"

#include <gtest/gtest.h>

#include <vector>

namespace wpsim::service {
namespace {

std::vector<uint64_t> Kept(const ReliableOutbox& outbox) {
  std::vector<uint64_t> ids;
  outbox.ForEach([&](const ReliableOutbox::Entry& e) { ids.push_back(e.sequence_id); });
  return ids;
}

TEST(ReliableOutbox, NumbersMessagesFromOneContiguously) {
  ReliableOutbox outbox;
  for (uint64_t i = 1; i <= 5; ++i) EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("m"))), i);
  EXPECT_EQ(Kept(outbox), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(ReliableOutbox, SequenceAckIsCumulativeAndReleasesBytes) {
  ReliableOutbox outbox;
  for (int i = 0; i < 5; ++i) (void)outbox.Push(SharedBytes::Copy(std::string_view("abcd")));
  EXPECT_EQ(outbox.bytes(), 20u);
  EXPECT_EQ(outbox.Ack(3), 3u);
  EXPECT_EQ(Kept(outbox), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(outbox.bytes(), 8u);
  EXPECT_EQ(outbox.Ack(2), 0u);  // an older ack releases nothing
  EXPECT_EQ(outbox.Ack(99), 2u);  // clamped to the last sent id
  EXPECT_EQ(outbox.acked_through(), 5u);
  EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("x"))), 6u);
}

TEST(ReliableOutbox, RefusesThePushThatWouldExceedTheMessageBound) {
  ReliableOutbox outbox(ReliableLimits{3, 1 << 20});
  for (int i = 0; i < 3; ++i) EXPECT_NE(outbox.Push(SharedBytes::Copy(std::string_view("m"))), 0u);
  EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("m"))), 0u);
  EXPECT_EQ(outbox.size(), 3u);
  outbox.Ack(1);
  EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("m"))), 4u);
}

TEST(ReliableOutbox, RefusesThePushThatWouldExceedTheByteBound) {
  ReliableOutbox outbox(ReliableLimits{1000, 10});
  EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("123456"))), 1u);
  EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("12345"))), 0u);
  EXPECT_EQ(outbox.Push(SharedBytes::Copy(std::string_view("1234"))), 2u);
}

TEST(ReliableOutbox, KeepsOrderAcrossRingWraparound) {
  ReliableOutbox outbox(ReliableLimits{20, 1 << 20});
  uint64_t pushed = 0, acked = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i) {
      ASSERT_NE(outbox.Push(SharedBytes::Copy(std::string_view("m"))), 0u);
      ++pushed;
    }
    acked = pushed - 3;  // keep three un-acked messages across each wrap
    outbox.Ack(acked);
  }
  std::vector<uint64_t> kept = Kept(outbox);
  ASSERT_FALSE(kept.empty());
  for (size_t i = 1; i < kept.size(); ++i) EXPECT_EQ(kept[i], kept[i - 1] + 1);
  EXPECT_EQ(kept.front(), acked + 1);
}

TEST(AckIdCache, RemembersSuccessfulIdsAndForgetsTheOldestPastTheBound) {
  AckIdCache cache;
  cache.Insert(7);
  EXPECT_TRUE(cache.Contains(7));
  EXPECT_FALSE(cache.Contains(8));
  for (uint64_t i = 100; i < 100 + AckIdCache::kAckIdsMax; ++i) cache.Insert(i);
  EXPECT_FALSE(cache.Contains(7));
  EXPECT_TRUE(cache.Contains(100));
  EXPECT_EQ(cache.size(), AckIdCache::kAckIdsMax);
}

}  // namespace
}  // namespace wpsim::service
