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

TEST(AckIdCache, RemembersSuccessfulIdsInAnyOrder) {
  AckIdCache cache;
  for (uint64_t id : {7u, 3u, 5u, 4u, 9u, 5u}) cache.Insert(id);
  for (uint64_t id : {3u, 4u, 5u, 7u, 9u}) EXPECT_TRUE(cache.Contains(id)) << id;
  for (uint64_t id : {0u, 1u, 2u, 6u, 8u, 10u}) EXPECT_FALSE(cache.Contains(id)) << id;
  EXPECT_EQ(cache.runs(), 3u);  // 3-5, 7, 9
  cache.Insert(6);
  cache.Insert(8);
  EXPECT_EQ(cache.runs(), 1u);  // 3-9
  cache.Insert(UINT64_MAX);
  cache.Insert(UINT64_MAX - 1);
  cache.Insert(0);
  EXPECT_TRUE(cache.Contains(UINT64_MAX));
  EXPECT_TRUE(cache.Contains(0));
  EXPECT_FALSE(cache.Contains(2));
  EXPECT_EQ(cache.runs(), 3u);
}

// A long-lived publisher numbering its ackIds upwards (what the SDKs do): every id stays
// known, in one run. Before, the cache held the last 65,536 ids one by one (512 KiB per such
// connection, the soak's heap grew with it) and forgot id 1 after them; each insert past the
// bound also moved the whole 512 KiB vector.
TEST(AckIdCache, ConsecutiveIdsAreAllRememberedInOneRun) {
  AckIdCache cache;
  for (uint64_t id = 1; id <= 1'000'000; ++id) cache.Insert(id);
  EXPECT_TRUE(cache.Contains(1));
  EXPECT_TRUE(cache.Contains(1'000'000));
  EXPECT_FALSE(cache.Contains(1'000'001));
  EXPECT_EQ(cache.runs(), 1u);
}

TEST(AckIdCache, IdsWithGapsForgetTheOldestRunPastTheBound) {
  AckIdCache cache;
  for (uint64_t i = 0; i < AckIdCache::kRunsMax + 10; ++i) cache.Insert(2 * i + 1);  // odd ids
  EXPECT_EQ(cache.runs(), AckIdCache::kRunsMax);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_FALSE(cache.Contains(2 * i + 1)) << 2 * i + 1;
  EXPECT_TRUE(cache.Contains(2 * 10 + 1));
  EXPECT_TRUE(cache.Contains(2 * (AckIdCache::kRunsMax + 9) + 1));
}

}  // namespace
}  // namespace wpsim::service
