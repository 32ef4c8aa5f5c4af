#include "ops/matmul_quant_act.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "ops/matmul_kernels.h"

namespace pareto {
namespace {

TEST(QuantizeActQ8, ScaleRoundingAndBias) {
  std::vector<float> x(64, 0.0f);
  x[0] = 2.54f;  // max |x| of block 0: d = 0.02
  x[1] = -2.54f;
  x[2] = 0.041f;   // 2.05 * d -> 2
  x[3] = 0.069f;   // 3.45 * d -> 3
  x[4] = -0.011f;  // -0.55 * d -> -1
  // Block 1 all zeros: scale 0, values 0.
  std::vector<ActQ8> out(2);
  quantize_act_q8(x.data(), 64, 8, out.data());
  EXPECT_FLOAT_EQ(out[0].d, 2.54f / 127.0f);
  EXPECT_EQ(out[0].qs[0], 127);
  EXPECT_EQ(out[0].qs[1], -127);
  EXPECT_EQ(out[0].qs[2], 2);
  EXPECT_EQ(out[0].qs[3], 3);
  EXPECT_EQ(out[0].qs[4], -1);
  int sum = 0;
  for (int8_t q : out[0].qs) sum += q;
  EXPECT_EQ(out[0].bias, -8 * sum);
  EXPECT_EQ(out[1].d, 0.0f);
  EXPECT_EQ(out[1].bias, 0);
  for (int8_t q : out[1].qs) EXPECT_EQ(q, 0);
}

TEST(QuantizeActQ8K, OneScalePerSuperBlockAndSumsPer16) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(i % 16) - 5.0f;  // max |x| = 10
  x[200] = -12.7f;
  ActQ8K out;
  quantize_act_q8k(x.data(), 256, &out);
  EXPECT_FLOAT_EQ(out.d, 0.1f);
  EXPECT_EQ(out.qs[200], -127);
  EXPECT_EQ(out.qs[5], 0);
  EXPECT_EQ(out.qs[15], 100);
  for (int j = 0; j < 16; ++j) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += out.qs[16 * j + i];
    EXPECT_EQ(out.bsums[j], sum) << j;
  }
}

// Random rows with outliers and exact ties (x * id landing on .5), K with an odd block count.
std::vector<float> tricky_row(int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(k));
  for (auto& v : x) v = normal(rng);
  for (int64_t i = 0; i < k; i += 41) x[i] *= 30.0f;
  for (int64_t b = 0; b + 32 <= k; b += 96) {
    x[b] = 127.0f;  // d = 1: the next values are exact halves
    x[b + 1] = 2.5f;
    x[b + 2] = -3.5f;
    x[b + 3] = 0.5f;
  }
  if (k >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // a zero block
  return x;
}

// The AVX-512 quantizer of the Q8_0/Q4_0 kernels gives the scalar one's bytes exactly.
TEST(QuantizeActQ8, Avx512QuantizerIsBitIdenticalToScalar) {
  if (!__builtin_cpu_supports("avx512vnni")) GTEST_SKIP() << "no AVX-512 VNNI";
  std::mt19937 rng(6);
  for (DType type : {DType::Q8_0, DType::Q4_0}) {
    const matmul_detail::TileTable* tab = matmul_detail::tiles_avx512(type);
    ASSERT_TRUE(tab != nullptr && tab->quantize != nullptr);
    for (int64_t k : {32, 64, 96, 224, 576, 2048, 5632}) {
      for (int rep = 0; rep < 20; ++rep) {
        auto x = tricky_row(k, rng);
        if (rep % 2 == 1)
          for (auto& v : x) v *= 1e-3f;
        const size_t n = static_cast<size_t>(k / 32);
        std::vector<ActQ8> want(n), got(n);
        std::memset(got.data(), 0x5A, n * sizeof(ActQ8));
        quantize_act_q8(x.data(), k, tab->zero_point, want.data());
        tab->quantize(x.data(), k, tab->zero_point, got.data());
        ASSERT_EQ(std::memcmp(want.data(), got.data(), n * sizeof(ActQ8)), 0)
            << dtype_name(type) << " k=" << k << " rep=" << rep;
      }
    }
  }
}

// Likewise for the K-quants' super-blocks.
TEST(QuantizeActQ8K, Avx512QuantizerIsBitIdenticalToScalar) {
  const matmul_detail::TileTable* tab = matmul_detail::tiles_avx512(DType::Q4_K);
  if (!__builtin_cpu_supports("avx512vnni") || tab == nullptr || tab->quantize == nullptr)
    GTEST_SKIP() << "no AVX-512 VNNI";
  std::mt19937 rng(8);
  for (int64_t k : {256, 768, 2048, 5632}) {
    for (int rep = 0; rep < 20; ++rep) {
      auto x = tricky_row(k, rng);
      if (rep % 2 == 1)
        for (auto& v : x) v *= 1e-3f;
      const size_t n = static_cast<size_t>(k / 256);
      std::vector<ActQ8K> want(n), got(n);
      std::memset(got.data(), 0x5A, n * sizeof(ActQ8K));
      quantize_act_q8k(x.data(), k, want.data());
      tab->quantize(x.data(), k, 0, got.data());
      ASSERT_EQ(std::memcmp(want.data(), got.data(), n * sizeof(ActQ8K)), 0)
          << "k=" << k << " rep=" << rep;
    }
  }
}

}  // namespace
}  // namespace pareto
