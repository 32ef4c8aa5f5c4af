#include "runner/kv_arena.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/error.h"

namespace pareto {
namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.num_layers = 4;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  return c;
}

// An arena larger than what the constructor commits itself: the background commit must not
// disturb blocks written meanwhile, everything reads zero until written, and destroying the
// arena while the commit still runs stops it cleanly.
TEST(KvArena, BackgroundCommitKeepsWhatIsWritten) {
  const ModelConfig c = small_config();
  const int64_t block_size = 16;
  const auto block_bytes =
      static_cast<int64_t>(KvArena::bytes_per_block(c, block_size, DType::F16));
  const int64_t num_blocks = (int64_t{320} << 20) / block_bytes;  // 320 MiB > the first 256
  KvArena arena(c, num_blocks, block_size, DType::F16);
  ASSERT_EQ(arena.num_blocks(), num_blocks);
  std::vector<uint8_t> pattern(static_cast<size_t>(block_bytes)), out(pattern.size());
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 1);
  const auto last = static_cast<int32_t>(num_blocks - 1);
  const auto mid = static_cast<int32_t>(num_blocks / 2);
  arena.load_block(last, pattern.data());  // likely before the background thread gets there
  arena.save_block(mid, out.data());
  EXPECT_EQ(out, std::vector<uint8_t>(out.size(), 0));
  arena.wait_committed();
  arena.save_block(last, out.data());
  EXPECT_EQ(out, pattern);
  arena.load_block(mid, pattern.data());
  arena.save_block(mid, out.data());
  EXPECT_EQ(out, pattern);
  arena.wait_committed();  // a second wait returns at once

  KvArena dropped(c, num_blocks, block_size, DType::F16);  // destroyed mid-commit
}

TEST(KvArena, RejectsBadShapes) {
  const ModelConfig c = small_config();
  EXPECT_THROW(KvArena(c, 0, 16, DType::F16), Error);
  EXPECT_THROW(KvArena(c, 8, 16, DType::Q8_0), Error);
}

}  // namespace
}  // namespace pareto
