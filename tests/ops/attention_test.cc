#include "ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "base/half.h"

namespace pareto {
namespace {

// Straightforward causal GQA attention over contiguous K/V, in double.
std::vector<float> naive_attention(const std::vector<float>& q, const std::vector<float>& k,
                                   const std::vector<float>& v, int64_t num_tokens,
                                   int64_t start_pos, int64_t num_heads, int64_t num_kv_heads,
                                   int64_t head_dim, float scale) {
  std::vector<float> out(static_cast<size_t>(num_tokens * num_heads * head_dim));
  const int64_t group = num_heads / num_kv_heads;
  for (int64_t t = 0; t < num_tokens; ++t) {
    const int64_t ctx = start_pos + t + 1;
    for (int64_t h = 0; h < num_heads; ++h) {
      const int64_t kvh = h / group;
      std::vector<double> s(static_cast<size_t>(ctx));
      for (int64_t p = 0; p < ctx; ++p) {
        double dot = 0;
        for (int64_t i = 0; i < head_dim; ++i)
          dot += static_cast<double>(q[static_cast<size_t>((t * num_heads + h) * head_dim + i)]) *
                 k[static_cast<size_t>((p * num_kv_heads + kvh) * head_dim + i)];
        s[static_cast<size_t>(p)] = dot * scale;
      }
      const double mx = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (auto& x : s) sum += (x = std::exp(x - mx));
      for (int64_t i = 0; i < head_dim; ++i) {
        double acc = 0;
        for (int64_t p = 0; p < ctx; ++p)
          acc += s[static_cast<size_t>(p)] *
                 v[static_cast<size_t>((p * num_kv_heads + kvh) * head_dim + i)];
        out[static_cast<size_t>((t * num_heads + h) * head_dim + i)] =
            static_cast<float>(acc / sum);
      }
    }
  }
  return out;
}

struct Shape {
  int64_t num_heads, num_kv_heads, head_dim, block_size, start_pos, num_tokens;
  DType dtype;
};

class AttentionTest : public ::testing::TestWithParam<Shape> {};

TEST_P(AttentionTest, PagedMatchesNaive) {
  const Shape s = GetParam();
  const int64_t total = s.start_pos + s.num_tokens;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto randn = [&](int64_t n) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& e : x) e = dist(rng);
    return x;
  };
  const auto q = randn(s.num_tokens * s.num_heads * s.head_dim);
  auto k = randn(total * s.num_kv_heads * s.head_dim);
  auto v = randn(total * s.num_kv_heads * s.head_dim);
  if (s.dtype == DType::F16) {  // the reference sees what the cache stores
    for (auto& e : k) e = fp16_to_f32(f32_to_fp16(e));
    for (auto& e : v) e = fp16_to_f32(f32_to_fp16(e));
  }

  // A shuffled block table over a pool with spare blocks: the op must follow the indirection.
  const int64_t num_blocks = (total + s.block_size - 1) / s.block_size;
  const int64_t pool_blocks = num_blocks * 2 + 1;
  std::vector<int32_t> ids(static_cast<size_t>(pool_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<int32_t> table(ids.begin(), ids.begin() + num_blocks);

  const size_t elem = s.dtype == DType::F16 ? 2 : 4;
  const size_t pool_bytes =
      static_cast<size_t>(pool_blocks * s.block_size * s.num_kv_heads * s.head_dim) * elem;
  std::vector<uint8_t> k_pool(pool_bytes, 0xff), v_pool(pool_bytes, 0xff);  // NaN garbage
  KvLayerView kv{s.dtype, k_pool.data(), v_pool.data(), s.block_size, s.num_kv_heads, s.head_dim};
  // Store history and new tokens in two calls, as prefill then decode would.
  kv_store(kv, table.data(), 0, s.start_pos, k.data(), v.data());
  const size_t row = static_cast<size_t>(s.num_kv_heads * s.head_dim);
  kv_store(kv, table.data(), s.start_pos, s.num_tokens, k.data() + s.start_pos * row,
           v.data() + s.start_pos * row);

  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  std::vector<float> out(q.size());
  ThreadPool pool(2);
  attention(q.data(), s.num_tokens, s.start_pos, s.num_heads, kv, table.data(), scale, out.data(),
            pool);
  const auto want = naive_attention(q, k, v, s.num_tokens, s.start_pos, s.num_heads, s.num_kv_heads,
                                    s.head_dim, scale);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], want[i], 1e-5) << "at " << i;

  // Same result with one thread, bit for bit.
  std::vector<float> out1(q.size());
  ThreadPool pool1(1);
  attention(q.data(), s.num_tokens, s.start_pos, s.num_heads, kv, table.data(), scale, out1.data(),
            pool1);
  EXPECT_EQ(out, out1);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(Shape{8, 4, 8, 16, 0, 5, DType::F32},     // stories260K prefill
                      Shape{8, 4, 8, 16, 37, 1, DType::F32},    // decode across blocks
                      Shape{8, 2, 32, 8, 10, 7, DType::F32},    // GQA 4:1, chunk after history
                      Shape{9, 3, 64, 16, 3, 20, DType::F16},   // llama-135m heads, F16 KV
                      Shape{4, 4, 16, 1, 0, 9, DType::F16},     // block size 1 (MHA)
                      Shape{14, 2, 64, 32, 100, 3, DType::F32}  // qwen2.5 heads
                      ));

}  // namespace
}  // namespace pareto
