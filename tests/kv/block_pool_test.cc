#include "kv/block_pool.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/error.h"

namespace pareto {
namespace {

std::vector<int32_t> queue_ids(const FreeBlockQueue& queue) {
  std::vector<int32_t> ids;
  for (const KvBlock* b = queue.front(); b != nullptr; b = b->next) ids.push_back(b->block_id);
  return ids;
}

TEST(FreeBlockQueue, PushPopAndRemoveFromTheMiddle) {
  std::vector<KvBlock> blocks(5);
  for (int32_t i = 0; i < 5; ++i) blocks[i].block_id = i;
  FreeBlockQueue queue;
  for (auto& b : blocks) queue.push_back(&b);
  EXPECT_EQ(queue_ids(queue), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  queue.remove(&blocks[2]);
  queue.remove(&blocks[4]);  // the tail
  queue.remove(&blocks[0]);  // the head
  EXPECT_EQ(queue_ids(queue), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(queue.size(), 2);
  queue.push_front(&blocks[0]);
  queue.push_back(&blocks[4]);
  EXPECT_EQ(queue_ids(queue), (std::vector<int32_t>{0, 1, 3, 4}));
  EXPECT_EQ(queue.pop_front()->block_id, 0);
  EXPECT_THROW(queue.remove(&blocks[0]), Error);     // not queued
  EXPECT_THROW(queue.push_back(&blocks[1]), Error);  // queued already
  while (!queue.empty()) queue.pop_front();
  EXPECT_THROW(queue.pop_front(), Error);
  EXPECT_EQ(queue.front(), nullptr);
}

TEST(BlockPool, AllocateAndReleaseCountReferences) {
  BlockPool pool(3);
  EXPECT_EQ(pool.num_free_blocks(), 3);
  const int32_t a = pool.allocate();
  const int32_t b = pool.allocate();
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  pool.add_ref(a);
  EXPECT_EQ(pool.block(a).ref_count, 2);
  pool.release(a);
  EXPECT_EQ(pool.num_free_blocks(), 1);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.num_free_blocks(), 3);
  EXPECT_THROW(pool.release(a), Error);  // would go negative
  EXPECT_THROW(pool.release(7), Error);
  pool.check_consistency();
  EXPECT_THROW(BlockPool(0), Error);
}

TEST(BlockPool, RunsOutOfBlocks) {
  BlockPool pool(2);
  pool.allocate();
  pool.allocate();
  EXPECT_EQ(pool.num_free_blocks(), 0);
  EXPECT_THROW(pool.allocate(), Error);
  pool.check_consistency();
}

TEST(BlockPool, CachedBlocksAreEvictedLeastRecentlyFreedFirst) {
  BlockPool pool(4);
  std::vector<int32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(pool.allocate());
  const BlockHash h0{1, 0}, h1{2, 0};
  pool.register_hash(ids[0], h0);
  pool.register_hash(ids[1], h1);
  EXPECT_EQ(pool.num_cached_blocks(), 2);
  // Released in this order: cached 1, uncached 2, cached 0, uncached 3.
  pool.release(ids[1]);
  pool.release(ids[2]);
  pool.release(ids[0]);
  pool.release(ids[3]);
  pool.check_consistency();
  // Uncached blocks go first (most recently freed at the head), then cached ones in LRU order.
  EXPECT_EQ(pool.allocate(), ids[3]);
  EXPECT_EQ(pool.allocate(), ids[2]);
  EXPECT_EQ(pool.find_cached(h1), std::optional<int32_t>(ids[1]));
  EXPECT_EQ(pool.allocate(), ids[1]);  // evicts h1
  EXPECT_FALSE(pool.find_cached(h1).has_value());
  EXPECT_FALSE(pool.block(ids[1]).has_hash);
  EXPECT_EQ(pool.find_cached(h0), std::optional<int32_t>(ids[0]));
  EXPECT_EQ(pool.num_cached_blocks(), 1);
  pool.check_consistency();
}

TEST(BlockPool, CacheHitTakesAFreeBlockOutOfTheQueue) {
  BlockPool pool(3);
  const int32_t a = pool.allocate();
  pool.register_hash(a, BlockHash{42, 7});
  pool.release(a);
  EXPECT_EQ(pool.num_free_blocks(), 3);
  pool.add_ref(a);  // revived from the middle/tail of the queue
  EXPECT_EQ(pool.num_free_blocks(), 2);
  EXPECT_EQ(pool.block(a).ref_count, 1);
  EXPECT_TRUE(pool.block(a).has_hash);
  pool.check_consistency();
  // The other two blocks are still allocatable and a is not handed out.
  EXPECT_NE(pool.allocate(), a);
  EXPECT_NE(pool.allocate(), a);
  EXPECT_THROW(pool.allocate(), Error);
}

TEST(BlockPool, ResetPrefixCacheForgetsEveryHash) {
  BlockPool pool(3);
  const int32_t a = pool.allocate();
  const int32_t b = pool.allocate();
  pool.register_hash(a, BlockHash{1, 1});
  pool.register_hash(b, BlockHash{2, 2});
  pool.release(a);  // a: free and cached; b: still referenced
  EXPECT_EQ(pool.num_cached_blocks(), 2);
  EXPECT_EQ(pool.reset_prefix_cache(), 2);
  EXPECT_EQ(pool.num_cached_blocks(), 0);
  EXPECT_FALSE(pool.find_cached(BlockHash{1, 1}));
  EXPECT_FALSE(pool.find_cached(BlockHash{2, 2}));
  EXPECT_EQ(pool.block(b).ref_count, 1);  // its sequence keeps it
  EXPECT_EQ(pool.num_free_blocks(), 2);
  pool.check_consistency();
  pool.release(b);
  EXPECT_EQ(pool.reset_prefix_cache(), 0);
  pool.check_consistency();
}

TEST(BlockPool, DuplicateHashIsNotRegisteredTwice) {
  BlockPool pool(2);
  const int32_t a = pool.allocate();
  const int32_t b = pool.allocate();
  pool.register_hash(a, BlockHash{5, 5});
  pool.register_hash(b, BlockHash{5, 5});
  EXPECT_FALSE(pool.block(b).has_hash);
  EXPECT_EQ(pool.find_cached(BlockHash{5, 5}), std::optional<int32_t>(a));
  pool.check_consistency();
}

}  // namespace
}  // namespace pareto
