#include "kv/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "base/error.h"

namespace pareto {
namespace {

std::vector<int32_t> iota_tokens(int64_t n, int32_t first = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

KvCacheConfig small_config(int64_t num_blocks, int64_t num_host_blocks = 0) {
  KvCacheConfig c;
  c.num_blocks = num_blocks;
  c.block_size = 4;
  c.num_host_blocks = num_host_blocks;
  return c;
}

// Admits seq_id with whatever prefix is cached and computes tokens[0, n) (as one step).
void admit_and_compute(KvCacheManager& kv, int64_t seq_id, const std::vector<int32_t>& tokens,
                       int64_t n, uint64_t cache_key = 0) {
  PrefixHit hit = kv.find_cached_prefix(tokens, cache_key);
  ASSERT_TRUE(kv.can_admit(hit, n - hit.num_tokens));
  kv.admit(seq_id, cache_key, hit);
  std::vector<BlockPair> copies;
  kv.append(seq_id, tokens, hit.num_tokens, n - hit.num_tokens, copies);
  EXPECT_TRUE(copies.empty());
}

TEST(KvCacheManager, RejectsBadConfig) {
  EXPECT_THROW(KvCacheManager(small_config(0)), Error);
  KvCacheConfig c = small_config(4);
  c.block_size = 0;
  EXPECT_THROW(KvCacheManager{c}, Error);
  EXPECT_THROW(KvCacheManager(small_config(4, -1)), Error);
}

TEST(KvCacheManager, TablesGrowByBlocks) {
  KvCacheManager kv(small_config(8));
  const auto tokens = iota_tokens(10);
  admit_and_compute(kv, 1, tokens, 5);
  EXPECT_EQ(kv.block_table(1).size(), 2u);
  EXPECT_EQ(kv.num_blocks_to_append(1, 5, 3), 0);  // positions 5..7 fit in block 1
  EXPECT_EQ(kv.num_blocks_to_append(1, 5, 4), 1);
  std::vector<BlockPair> copies;
  kv.append(1, tokens, 5, 5, copies);
  EXPECT_EQ(kv.block_table(1).size(), 3u);
  KvCacheStats s = kv.stats();
  EXPECT_EQ(s.num_used_blocks, 3);
  EXPECT_EQ(s.num_free_blocks, 5);
  EXPECT_EQ(s.num_cached_blocks, 1);  // block 0 was full of computed tokens at the 2nd append
  kv.check_consistency();
  EXPECT_THROW(kv.append(1, tokens, 10, 1, copies), Error);  // past the tokens
  EXPECT_THROW(kv.admit(1, 0, PrefixHit{}), Error);          // already holds blocks
  kv.free(1);
  EXPECT_TRUE(kv.all_blocks_free());
  kv.check_consistency();
}

TEST(KvCacheManager, SecondSequenceReusesACachedThreeBlockPrefix) {
  KvCacheManager kv(small_config(8));
  const auto a = iota_tokens(14);
  admit_and_compute(kv, 1, a, 14);
  kv.cache_computed_blocks(1, a, 14);  // as the scheduler does once the step has run
  const std::vector<int32_t> a_table = kv.block_table(1);
  EXPECT_EQ(kv.stats().num_cached_blocks, 3);

  auto b = iota_tokens(12);
  b.push_back(7);
  b.push_back(8);
  PrefixHit hit = kv.find_cached_prefix(b, 0);
  EXPECT_EQ(hit.num_tokens, 12);
  EXPECT_EQ(hit.block_ids, std::vector<int32_t>(a_table.begin(), a_table.begin() + 3));
  kv.admit(2, 0, hit);
  std::vector<BlockPair> copies;
  kv.append(2, b, 12, 2, copies);
  EXPECT_EQ(kv.block_pool().block(a_table[0]).ref_count, 2);
  EXPECT_NE(kv.block_table(2)[3], a_table[3]);
  EXPECT_EQ(kv.stats().prefix_query_tokens, 14 + 14);
  EXPECT_EQ(kv.stats().prefix_hit_tokens, 12);
  kv.check_consistency();

  // Freed, the blocks stay cached: a third sequence still hits them.
  kv.free(1);
  kv.free(2);
  EXPECT_TRUE(kv.all_blocks_free());
  EXPECT_EQ(kv.find_cached_prefix(b, 0).num_tokens, 12);
}

TEST(KvCacheManager, LookupLeavesTheLastTokenToCompute) {
  KvCacheManager kv(small_config(8));
  const auto a = iota_tokens(12);
  admit_and_compute(kv, 1, a, 12);
  kv.cache_computed_blocks(1, a, 12);
  EXPECT_EQ(kv.find_cached_prefix(a, 0).num_tokens, 8);  // not 12: logits need the last token
  EXPECT_EQ(kv.find_cached_prefix(iota_tokens(13), 0).num_tokens, 12);
  EXPECT_EQ(kv.find_cached_prefix(iota_tokens(13), 5).num_tokens, 0);  // other cache key
  EXPECT_EQ(kv.find_cached_prefix(iota_tokens(13, 101), 0).num_tokens, 0);
}

TEST(KvCacheManager, PrefixCachingCanBeTurnedOff) {
  KvCacheConfig c = small_config(8);
  c.enable_prefix_caching = false;
  KvCacheManager kv(c);
  const auto a = iota_tokens(13);
  admit_and_compute(kv, 1, a, 13);
  kv.cache_computed_blocks(1, a, 13);
  EXPECT_EQ(kv.stats().num_cached_blocks, 0);
  EXPECT_EQ(kv.find_cached_prefix(a, 0).num_tokens, 0);
  EXPECT_EQ(kv.stats().prefix_query_tokens, 0);
}

TEST(KvCacheManager, EvictsTheTailOfAFreedPrefixFirst) {
  KvCacheManager kv(small_config(3));
  const auto a = iota_tokens(12);
  admit_and_compute(kv, 1, a, 12);
  kv.cache_computed_blocks(1, a, 12);
  kv.free(1);
  EXPECT_EQ(kv.stats().num_cached_blocks, 3);
  // An unrelated one-block sequence takes the least valuable block: the prefix's last.
  admit_and_compute(kv, 2, iota_tokens(3, 500), 3);
  EXPECT_EQ(kv.stats().num_cached_blocks, 2);
  EXPECT_EQ(kv.find_cached_prefix(iota_tokens(13), 0).num_tokens, 8);
  kv.check_consistency();
}

TEST(KvCacheManager, ForkSharesBlocksAndCopiesTheSharedPartialBlockOnWrite) {
  KvCacheManager kv(small_config(8));
  auto tokens = iota_tokens(6);
  admit_and_compute(kv, 1, tokens, 6);
  kv.fork(1, 2);
  const std::vector<int32_t> shared = kv.block_table(1);
  EXPECT_EQ(kv.block_table(2), shared);
  EXPECT_EQ(kv.block_pool().block(shared[1]).ref_count, 2);
  kv.check_consistency();

  auto t1 = tokens, t2 = tokens;
  t1.push_back(1);
  t2.push_back(2);
  EXPECT_EQ(kv.num_blocks_to_append(1, 6, 1), 1);  // the copy
  std::vector<BlockPair> copies;
  kv.append(1, t1, 6, 1, copies);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].first, shared[1]);
  EXPECT_EQ(copies[0].second, kv.block_table(1)[1]);
  copies.clear();
  kv.append(2, t2, 6, 1, copies);  // now the only holder: writes in place
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(kv.block_table(1)[0], kv.block_table(2)[0]);  // the full block stays shared
  EXPECT_NE(kv.block_table(1)[1], kv.block_table(2)[1]);
  EXPECT_EQ(kv.block_table(2)[1], shared[1]);
  kv.check_consistency();
  kv.free(1);
  kv.free(2);
  EXPECT_TRUE(kv.all_blocks_free());
  kv.check_consistency();
}

TEST(KvCacheManager, ForkAtABlockBoundaryNeedsNoCopy) {
  KvCacheManager kv(small_config(8));
  auto tokens = iota_tokens(9);
  admit_and_compute(kv, 1, tokens, 8);
  kv.fork(1, 2);
  std::vector<BlockPair> copies;
  kv.append(1, tokens, 8, 1, copies);
  kv.append(2, tokens, 8, 1, copies);
  EXPECT_TRUE(copies.empty());
  EXPECT_NE(kv.block_table(1)[2], kv.block_table(2)[2]);
  EXPECT_THROW(kv.fork(7, 8), Error);
  EXPECT_THROW(kv.fork(1, 2), Error);
}

TEST(KvCacheManager, SwapOutAndBackIn) {
  KvCacheManager kv(small_config(4, 2));
  const auto tokens = iota_tokens(8);
  admit_and_compute(kv, 1, tokens, 6);
  const std::vector<int32_t> table = kv.block_table(1);
  ASSERT_TRUE(kv.can_swap_out(1));
  std::vector<BlockPair> out;
  kv.swap_out(1, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, table[0]);
  EXPECT_EQ(out[1].first, table[1]);
  EXPECT_NE(out[0].second, out[1].second);
  EXPECT_TRUE(kv.is_swapped(1));
  EXPECT_TRUE(kv.block_table(1).empty());
  EXPECT_EQ(kv.stats().num_free_blocks, 4);
  EXPECT_EQ(kv.stats().num_free_host_blocks, 0);
  EXPECT_FALSE(kv.all_blocks_free());
  kv.check_consistency();

  // Another sequence takes every device block: no room to come back.
  admit_and_compute(kv, 2, iota_tokens(16, 300), 16);
  EXPECT_FALSE(kv.can_swap_in(1, 6, 1));
  kv.free(2);
  // The first block was cached when full, but eviction by sequence 2 dropped it: both copy.
  ASSERT_TRUE(kv.can_swap_in(1, 6, 1));
  std::vector<BlockPair> in;
  kv.swap_in(1, in);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].first, out[0].second);
  EXPECT_EQ(in[0].second, kv.block_table(1)[0]);
  EXPECT_EQ(in[1].first, out[1].second);
  EXPECT_EQ(kv.stats().num_free_host_blocks, 2);
  kv.check_consistency();
  kv.free(1);
  EXPECT_TRUE(kv.all_blocks_free());
}

TEST(KvCacheManager, SwapInSharesBlocksStillCachedOnTheDevice) {
  KvCacheManager kv(small_config(8, 4));
  const auto tokens = iota_tokens(10);
  admit_and_compute(kv, 1, tokens, 6);
  std::vector<BlockPair> copies;
  kv.append(1, tokens, 6, 1, copies);  // registers block 0 (full since the first step)
  const int32_t first = kv.block_table(1)[0];
  std::vector<BlockPair> out, in;
  kv.swap_out(1, out);
  kv.swap_in(1, in);
  ASSERT_EQ(in.size(), 1u);  // block 0 came back from the prefix cache, block 1 from host
  EXPECT_EQ(kv.block_table(1)[0], first);
  EXPECT_EQ(in[0].first, out[1].second);
  EXPECT_EQ(kv.stats().num_free_host_blocks, 4);
  kv.check_consistency();
}

TEST(KvCacheManager, SwapOutNeedsHostRoom) {
  KvCacheManager kv(small_config(4, 1));
  admit_and_compute(kv, 1, iota_tokens(6), 6);
  EXPECT_FALSE(kv.can_swap_out(1));
  std::vector<BlockPair> out;
  EXPECT_THROW(kv.swap_out(1, out), Error);
  KvCacheManager none(small_config(4, 0));
  admit_and_compute(none, 1, iota_tokens(2), 2);
  EXPECT_FALSE(none.can_swap_out(1));
}

TEST(KvCacheManager, CannotAdmitBeyondTheFreeBlocks) {
  KvCacheManager kv(small_config(3));
  const auto a = iota_tokens(8);
  admit_and_compute(kv, 1, a, 8);
  kv.cache_computed_blocks(1, a, 8);
  kv.free(1);
  // Cached-but-free blocks count as free; reviving them uses them up.
  auto b = iota_tokens(9);
  PrefixHit hit = kv.find_cached_prefix(b, 0);
  EXPECT_EQ(hit.num_tokens, 8);
  EXPECT_TRUE(kv.can_admit(hit, 1));
  EXPECT_TRUE(kv.can_admit(hit, 4));
  EXPECT_FALSE(kv.can_admit(hit, 5));
  EXPECT_EQ(kv.max_appendable_tokens(9, 0), 12);
}

}  // namespace
}  // namespace pareto
