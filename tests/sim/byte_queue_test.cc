#include "sim/byte_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wpsim::sim {
namespace {

std::string Drain(ByteQueue& q, BlockPool& pool, uint64_t max = ~uint64_t{0}) {
  std::string out;
  while (!q.empty()) {
    ByteQueue::Piece piece = q.TakeFront(pool, max);
    out.append(AsString(piece.span()));
  }
  return out;
}

TEST(ByteQueue, SmallWritesShareOneBlockAndComeOutAsOnePiece) {
  BlockPool pool;
  ByteQueue q;
  for (int i = 0; i < 60; ++i) q.Append(pool, AsBytes(std::string(64, static_cast<char>('a' + i % 26))));
  EXPECT_EQ(q.size(), 60u * 64);
  EXPECT_EQ(pool.blocks_live(), 1u);
  ByteQueue::Piece piece = q.TakeFront(pool, 1 << 20);
  EXPECT_EQ(piece.size(), 60u * 64);
  EXPECT_TRUE(q.empty());
}

TEST(ByteQueue, KeepsOrderAcrossBlocksSharedBuffersAndPartialTakes) {
  BlockPool pool;
  ByteQueue q;
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    const std::string s = "<" + std::to_string(i) + ">";
    expected += s;
    if (i % 7 == 0) {
      q.Append(pool, SharedBytes::Copy(s));
    } else if (i % 11 == 0) {
      const std::string big(3000, static_cast<char>('A' + i % 26));
      expected += big;
      q.Append(pool, AsBytes(s));
      q.Append(pool, AsBytes(big));
    } else {
      q.Append(pool, AsBytes(s));
    }
  }
  EXPECT_EQ(q.size(), expected.size());
  EXPECT_EQ(Drain(q, pool, 5), expected);
  EXPECT_EQ(pool.blocks_live(), 0u);
}

TEST(ByteQueue, APieceKeepsItsBytesAliveAfterTheQueueIsCleared) {
  BlockPool pool;
  ByteQueue q;
  q.Append(pool, AsBytes("hello world"));
  ByteQueue::Piece piece = q.TakeFront(pool, 5);
  q.Clear(pool);
  EXPECT_EQ(pool.blocks_live(), 1u);
  EXPECT_EQ(AsString(piece.span()), "hello");
  {
    ByteQueue::Piece moved(std::move(piece));
    EXPECT_EQ(AsString(moved.span()), "hello");
  }
  EXPECT_EQ(pool.blocks_live(), 0u);
  EXPECT_EQ(pool.blocks_free(), 1u);  // recycled, not freed
}

TEST(ByteQueue, DropAndDigestCoverTheFrontBytes) {
  BlockPool pool;
  ByteQueue q;
  q.Append(pool, AsBytes("abc"));
  q.Append(pool, SharedBytes::Copy(std::string_view("defgh")));
  uint64_t h = q.Digest(8, 0xcbf29ce484222325ULL);
  uint64_t expect = 0xcbf29ce484222325ULL;
  for (char c : std::string("abcdefgh")) {
    expect ^= static_cast<uint8_t>(c);
    expect *= 0x100000001b3ULL;
  }
  EXPECT_EQ(h, expect);
  q.Drop(pool, 4);
  EXPECT_EQ(Drain(q, pool), "efgh");
}

}  // namespace
}  // namespace wpsim::sim
