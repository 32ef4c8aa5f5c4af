#include "ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <utility>

#include "base/error.h"
#include "base/half.h"
#include "weights/simd_isa.h"

namespace pareto {

// Defined in ops/attention.cc (no header of its own yet): paged_attention at a pinned SIMD level.
void paged_attention_isa(SimdIsa isa, const float* q, std::span<const AttentionSlice> slices,
                         int64_t num_heads, const KvLayerView& kv, float scale, float* out,
                         ThreadPool& pool);

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
    ::testing::Values(Shape{8, 4, 8, 16, 0, 5, DType::F32},       // stories260K prefill
                      Shape{8, 4, 8, 16, 37, 1, DType::F32},      // decode across blocks
                      Shape{8, 2, 32, 8, 10, 7, DType::F32},      // GQA 4:1, chunk after history
                      Shape{9, 3, 64, 16, 3, 20, DType::F16},     // llama-135m heads, F16 KV
                      Shape{4, 4, 16, 1, 0, 9, DType::F16},       // block size 1 (MHA)
                      Shape{14, 2, 64, 32, 100, 3, DType::F32},   // qwen2.5 heads
                      Shape{16, 2, 24, 8, 45, 4, DType::F16},     // GQA 8:1, head_dim not /16
                      Shape{6, 3, 72, 32, 31, 2, DType::F32},     // head_dim 72: masked tails
                      Shape{4, 2, 5, 16, 12, 3, DType::F16},      // head_dim 5: all tail
                      Shape{32, 4, 64, 16, 2100, 1, DType::F16},  // tinyllama decode, long ctx
                      Shape{9, 3, 64, 32, 2040, 3, DType::F32},   // long ctx, tile-edge tokens
                      Shape{8, 2, 128, 16, 50, 3, DType::F16}     // head_dim 128 (Llama 3.2)
                      ));

// Random N(0, 1) values.
std::vector<float> randn(std::mt19937& rng, int64_t n) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& e : x) e = dist(rng);
  return x;
}

// Several sequences sharing one block pool, each with its own shuffled block table.
struct Batch {
  int64_t num_heads, num_kv_heads, head_dim, block_size;
  DType dtype;
  std::vector<uint8_t> k_pool, v_pool;
  std::vector<std::vector<int32_t>> tables;
  std::vector<std::vector<float>> k, v;  // per sequence, [positions, kv heads, head_dim]
  std::vector<std::vector<float>> q;     // per sequence, [num_tokens, heads, head_dim]
  std::vector<int64_t> start_pos, num_tokens;

  KvLayerView view() {
    return {dtype, k_pool.data(), v_pool.data(), block_size, num_kv_heads, head_dim};
  }
};

Batch make_batch(int64_t num_heads, int64_t num_kv_heads, int64_t head_dim, int64_t block_size,
                 DType dtype, const std::vector<std::pair<int64_t, int64_t>>& seqs, uint32_t seed) {
  std::mt19937 rng(seed);
  Batch b{num_heads, num_kv_heads, head_dim, block_size, dtype, {}, {}, {}, {}, {}, {}, {}, {}};
  int64_t total_blocks = 0;
  for (auto [start, n] : seqs) total_blocks += (start + n + block_size - 1) / block_size;
  std::vector<int32_t> ids(static_cast<size_t>(total_blocks + 3));
  std::iota(ids.begin(), ids.end(), 0);
  std::mt19937 layout_rng(seed + 1);  // the values must not depend on the block layout
  std::shuffle(ids.begin(), ids.end(), layout_rng);
  const size_t elem = dtype == DType::F16 ? 2 : 4;
  const size_t bytes =
      static_cast<size_t>(static_cast<int64_t>(ids.size()) * block_size * num_kv_heads * head_dim) *
      elem;
  b.k_pool.assign(bytes, 0xff);  // NaN garbage in unused slots
  b.v_pool.assign(bytes, 0xff);
  size_t next = 0;
  for (auto [start, n] : seqs) {
    const int64_t total = start + n;
    const int64_t blocks = (total + block_size - 1) / block_size;
    b.tables.emplace_back(ids.begin() + static_cast<int64_t>(next),
                          ids.begin() + static_cast<int64_t>(next) + blocks);
    next += static_cast<size_t>(blocks);
    b.k.push_back(randn(rng, total * num_kv_heads * head_dim));
    b.v.push_back(randn(rng, total * num_kv_heads * head_dim));
    if (dtype == DType::F16) {
      for (auto& e : b.k.back()) e = fp16_to_f32(f32_to_fp16(e));
      for (auto& e : b.v.back()) e = fp16_to_f32(f32_to_fp16(e));
    }
    b.q.push_back(randn(rng, n * num_heads * head_dim));
    b.start_pos.push_back(start);
    b.num_tokens.push_back(n);
    kv_store(b.view(), b.tables.back().data(), 0, total, b.k.back().data(), b.v.back().data());
  }
  return b;
}

// Runs the sequences `order` as one flattened batch (rows in that order, after `row_offset`
// empty rows); returns each sequence's output rows.
std::vector<std::vector<float>> run_batch(Batch& b, const std::vector<size_t>& order,
                                          int64_t row_offset, ThreadPool& pool,
                                          SimdIsa isa = active_simd_isa()) {
  const int64_t row = b.num_heads * b.head_dim;
  std::vector<AttentionSlice> slices;
  int64_t rows = row_offset;
  for (size_t i : order) {
    slices.push_back({rows, b.num_tokens[i], b.start_pos[i], b.tables[i].data()});
    rows += b.num_tokens[i];
  }
  std::vector<float> q(static_cast<size_t>(rows * row), 0.0f), out(q.size(), -1.0f);
  for (size_t s = 0; s < order.size(); ++s)
    std::copy(b.q[order[s]].begin(), b.q[order[s]].end(), q.begin() + slices[s].token_offset * row);
  const float scale = 1.0f / std::sqrt(static_cast<float>(b.head_dim));
  paged_attention_isa(isa, q.data(), slices, b.num_heads, b.view(), scale, out.data(), pool);
  std::vector<std::vector<float>> result(b.q.size());
  for (size_t s = 0; s < order.size(); ++s) {
    const auto first = out.begin() + slices[s].token_offset * row;
    result[order[s]].assign(first, first + b.num_tokens[order[s]] * row);
  }
  return result;
}

struct BatchShape {
  int64_t num_heads, num_kv_heads, head_dim, block_size;
  DType dtype;
};

class AttentionBatchTest : public ::testing::TestWithParam<BatchShape> {};

// Prefill chunks and decodes of different lengths, mixed as the engine batches them.
const std::vector<std::pair<int64_t, int64_t>> kSeqs = {{0, 13}, {40, 1}, {7, 1},   {95, 1},
                                                        {31, 2}, {0, 1},  {64, 33}, {200, 1}};

TEST_P(AttentionBatchTest, EveryIsaMatchesNaive) {
  const BatchShape s = GetParam();
  Batch b = make_batch(s.num_heads, s.num_kv_heads, s.head_dim, s.block_size, s.dtype, kSeqs, 7);
  ThreadPool pool(2);
  std::vector<size_t> order(kSeqs.size());
  std::iota(order.begin(), order.end(), 0);
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  for (SimdIsa isa : {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512}) {
    if (!cpu_supports(isa)) continue;
    const auto got = run_batch(b, order, 0, pool, isa);
    for (size_t i = 0; i < kSeqs.size(); ++i) {
      const auto want = naive_attention(b.q[i], b.k[i], b.v[i], b.num_tokens[i], b.start_pos[i],
                                        s.num_heads, s.num_kv_heads, s.head_dim, scale);
      for (size_t e = 0; e < want.size(); ++e)
        ASSERT_NEAR(got[i][e], want[e], 1e-5) << simd_isa_name(isa) << " seq " << i << " at " << e;
    }
  }
}

TEST_P(AttentionBatchTest, ResultOfASequenceDoesNotDependOnTheBatchOrThreads) {
  const BatchShape s = GetParam();
  Batch b = make_batch(s.num_heads, s.num_kv_heads, s.head_dim, s.block_size, s.dtype, kSeqs, 11);
  ThreadPool pool1(1), pool2(2), pool3(3);
  std::vector<size_t> order(kSeqs.size());
  std::iota(order.begin(), order.end(), 0);
  const auto batched = run_batch(b, order, 0, pool2);
  // Each sequence alone, at row 0, on one thread. A lone decode token is split into one item
  // per KV head, while the batch gives an item all of a token's heads: same bits either way.
  for (size_t i = 0; i < kSeqs.size(); ++i)
    EXPECT_EQ(run_batch(b, {i}, 0, pool1)[i], batched[i]) << "seq " << i;
  // Reversed and shuffled orders, shifted rows, other thread counts.
  std::vector<size_t> reversed(order.rbegin(), order.rend());
  EXPECT_EQ(run_batch(b, reversed, 3, pool3), batched);
  std::mt19937 rng(3);
  std::shuffle(order.begin(), order.end(), rng);
  EXPECT_EQ(run_batch(b, order, 1, pool1), batched);
  // A subset: the others' absence changes nothing either.
  const auto subset = run_batch(b, {6, 1, 3}, 0, pool2);
  for (size_t i : {6, 1, 3}) EXPECT_EQ(subset[i], batched[i]) << "seq " << i;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionBatchTest,
    ::testing::Values(BatchShape{9, 3, 64, 16, DType::F16}, BatchShape{9, 3, 64, 8, DType::F32},
                      BatchShape{8, 8, 32, 32, DType::F16}, BatchShape{8, 4, 40, 16, DType::F32},
                      BatchShape{16, 2, 64, 32, DType::F16}, BatchShape{32, 4, 64, 16, DType::F16},
                      BatchShape{24, 8, 128, 16, DType::F16}));

TEST(Attention, ChunkTokensGetTheirBitsAlone) {
  // A prefill chunk shares each K/V tile among blocks of query tokens; every token must still
  // get the bits it gets as a lone decode at its position, or as part of any other chunking.
  // Starting at 240, the tokens' contexts cross a segment boundary (256), where the online
  // softmax restarts; a lone decode there is split over threads by segment (and by head).
  for (auto [dtype, start] :
       {std::pair{DType::F16, int64_t{20}}, std::pair{DType::F32, int64_t{20}},
        std::pair{DType::F16, int64_t{240}}}) {
    Batch b = make_batch(9, 3, 64, 16, dtype, {{start, 37}}, 9);
    const int64_t row = b.num_heads * b.head_dim, n = 37;
    const float scale = 1.0f / std::sqrt(static_cast<float>(b.head_dim));
    auto run = [&](const std::vector<std::pair<int64_t, int64_t>>& chunks, ThreadPool& pool) {
      std::vector<AttentionSlice> slices;
      for (auto [first, count] : chunks)
        slices.push_back({first, count, start + first, b.tables[0].data()});
      std::vector<float> out(static_cast<size_t>(n * row), -1.0f);
      paged_attention(b.q[0].data(), slices, b.num_heads, b.view(), scale, out.data(), pool);
      return out;
    };
    ThreadPool pool1(1), pool2(2);
    const auto whole = run({{0, n}}, pool2);
    std::vector<std::pair<int64_t, int64_t>> singles;
    for (int64_t t = 0; t < n; ++t) singles.push_back({t, 1});
    EXPECT_EQ(run(singles, pool1), whole);
    EXPECT_EQ(run(singles, pool2), whole);
    EXPECT_EQ(run({{0, 5}, {5, 17}, {22, 15}}, pool2), whole);
    EXPECT_EQ(run({{0, 36}, {36, 1}}, pool1), whole);
    ThreadPool pool3(3);
    for (int64_t t = 0; t < n; ++t) {  // each token as the only decode of a step
      const auto alone = run({{t, 1}}, t % 2 ? pool2 : pool3);
      ASSERT_TRUE(std::equal(alone.begin() + t * row, alone.begin() + (t + 1) * row,
                             whole.begin() + t * row))
          << "token " << t << " from " << start;
    }
    const auto want = naive_attention(b.q[0], b.k[0], b.v[0], n, start, b.num_heads, b.num_kv_heads,
                                      b.head_dim, scale);
    for (size_t e = 0; e < want.size(); ++e) ASSERT_NEAR(whole[e], want[e], 1e-5) << e;
  }
}

TEST(Attention, SameBitsForAnyBlockSize) {
  // Tiles are position ranges, not blocks, so the block layout cannot change a result.
  std::vector<std::vector<float>> outs;
  for (int64_t bs : {8, 16, 32}) {
    Batch b = make_batch(8, 2, 64, bs, DType::F16, kSeqs, 5);
    ThreadPool pool(2);
    outs.push_back(run_batch(b, {0, 1, 2, 3, 4, 5, 6, 7}, 0, pool)[6]);
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
}

TEST(Attention, F16StoreRoundsAsTheScalarConversion) {
  // kv_store_slots converts with vector instructions where it can; every stored half must be
  // f32_to_fp16's (round to nearest even, subnormals, overflow to infinity), NaN staying NaN.
  constexpr int64_t kDim = 40;  // two 16-lane vectors and a tail of 8
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               65504.0f,
                               65519.0f,
                               65520.0f,
                               -1e9f,
                               6.1e-5f,
                               5.9604645e-8f,
                               2.9e-8f,
                               3.0e-8f,
                               1.00048828125f,
                               1.00146484375f,
                               1e-45f,
                               -3.5e-6f,
                               std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> exponent(-30.0f, 18.0f);
  while (values.size() < 2 * kDim)
    values.push_back(std::ldexp(1.2345f, exponent(rng) > 0 ? 1 : -1) * std::exp2(exponent(rng)));
  std::vector<uint16_t> k(kDim), v(kDim);
  KvLayerView kv;
  kv.dtype = DType::F16;
  kv.k = k.data();
  kv.v = v.data();
  kv.block_size = 1;
  kv.num_kv_heads = 1;
  kv.head_dim = kDim;
  const int64_t slot = 0;
  kv_store_slots(kv, &slot, 1, values.data(), values.data() + kDim);
  for (int64_t i = 0; i < kDim; ++i) {
    for (const auto& [stored, value] :
         {std::pair{k[i], values[i]}, std::pair{v[i], values[kDim + i]}}) {
      if (std::isnan(value))
        EXPECT_TRUE(std::isnan(fp16_to_f32(stored))) << i;
      else
        EXPECT_EQ(stored, f32_to_fp16(value)) << i << " " << value;
    }
  }
}

TEST(Attention, RejectsBadShapes) {
  Batch b = make_batch(8, 2, 16, 16, DType::F32, {{0, 1}}, 1);
  ThreadPool pool(1);
  KvLayerView kv = b.view();
  kv.dtype = DType::Q8_0;
  const AttentionSlice slice{0, 1, 0, b.tables[0].data()};
  std::vector<float> out(8 * 16);
  EXPECT_THROW(paged_attention(b.q[0].data(), {&slice, 1}, 8, kv, 1.0f, out.data(), pool), Error);
  EXPECT_THROW(paged_attention(b.q[0].data(), {&slice, 1}, 7, b.view(), 1.0f, out.data(), pool),
               Error);
}

}  // namespace
}  // namespace pareto
