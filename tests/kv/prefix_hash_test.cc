#include "kv/prefix_hash.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/error.h"

namespace pareto {
namespace {

TEST(PrefixHash, DependsOnTokensParentAndExtraKey) {
  const std::vector<int32_t> a = {1, 2, 3, 4};
  const std::vector<int32_t> b = {1, 2, 3, 5};
  const BlockHash ha = hash_block(nullptr, 0, a);
  EXPECT_EQ(ha, hash_block(nullptr, 0, a));
  EXPECT_NE(ha, hash_block(nullptr, 0, b));
  EXPECT_NE(ha, hash_block(nullptr, 1, a));
  const BlockHash zero{};
  EXPECT_NE(ha, hash_block(&zero, 0, a));  // a first block differs from a child of hash 0
  EXPECT_NE(hash_block(&ha, 0, b), hash_block(nullptr, 0, b));
}

TEST(PrefixHash, ExtendChainsFromTheExistingHashes) {
  std::vector<int32_t> tokens(10);
  for (int i = 0; i < 10; ++i) tokens[i] = 100 + i;
  std::vector<BlockHash> hashes;
  extend_block_hashes(tokens, 3, 9, 2, hashes);
  ASSERT_EQ(hashes.size(), 2u);
  extend_block_hashes(tokens, 3, 9, 3, hashes);
  ASSERT_EQ(hashes.size(), 3u);
  const std::span<const int32_t> t(tokens);
  const BlockHash h0 = hash_block(nullptr, 9, t.subspan(0, 3));
  const BlockHash h1 = hash_block(&h0, 9, t.subspan(3, 3));
  const BlockHash h2 = hash_block(&h1, 9, t.subspan(6, 3));
  EXPECT_EQ(hashes[0], h0);
  EXPECT_EQ(hashes[1], h1);
  EXPECT_EQ(hashes[2], h2);
  EXPECT_THROW(extend_block_hashes(tokens, 3, 9, 4, hashes), Error);  // 12 > 10 tokens
}

}  // namespace
}  // namespace pareto
