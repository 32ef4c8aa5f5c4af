// The engine's batch-invariance guarantee rests on this: for a given SIMD level, y[t, n] of
// matmul is bit-identical whatever the batch it is computed in (num_tokens), the row's position
// in that batch and the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/matmul.h"
#include "ops/matmul_isa.h"
#include "support/quant_types.h"
#include "weights/quantize.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

using test::kAllTypes;
using test::supported_isas;

struct Matrix {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

Matrix random_matrix(DType t, int64_t k, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(k));
  Matrix m;
  m.bytes.resize(row_bytes(t, k) * static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    for (auto& v : row) v = normal(rng);
    quantize_row(t, row.data(), m.bytes.data() + r * row_bytes(t, k), k);
  }
  m.w = {t, k, n, m.bytes.data()};
  return m;
}

// Activations with a few large outliers, as real hidden states have, so the per-block
// activation scales differ a lot between rows.
std::vector<float> activations(int64_t rows, int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * k));
  for (auto& v : x) v = normal(rng);
  for (int64_t i = 0; i < rows * k; i += 97) x[i] *= 40.0f;
  return x;
}

void check_invariance(SimdIsa isa, const WeightMatrix& w, int max_batch) {
  std::mt19937 rng(7);
  const int64_t k = w.in_features, n = w.out_features;
  const auto x = activations(max_batch, k, rng);
  ThreadPool one(1), two(2);

  // Each row alone (the decode GEMV path), on one thread.
  std::vector<float> alone(static_cast<size_t>(max_batch * n));
  for (int64_t t = 0; t < max_batch; ++t) matmul_isa(isa, w, &x[t * k], 1, &alone[t * n], one);

  std::vector<float> y(static_cast<size_t>(max_batch * n));
  for (int batch = 2; batch <= max_batch; ++batch) {
    // Several windows, so a row sits at different positions (and in different token tiles).
    for (int start : {0, (batch * 7) % (max_batch - batch + 1), max_batch - batch}) {
      for (ThreadPool* pool : {&one, &two}) {
        matmul_isa(isa, w, &x[start * k], batch, y.data(), *pool);
        for (int t = 0; t < batch; ++t)
          ASSERT_EQ(std::memcmp(&y[t * n], &alone[(start + t) * n], n * sizeof(float)), 0)
              << dtype_name(w.type) << " " << simd_isa_name(isa) << " K=" << k << " N=" << n
              << " batch=" << batch << " start=" << start << " row=" << start + t
              << " threads=" << pool->num_threads();
      }
    }
  }
}

TEST(MatmulInvariance, RowAloneEqualsRowInAnyBatchOnAnyThreadCount) {
  std::mt19937 rng(1);
  for (DType t : kAllTypes) {
    const int64_t block = traits(t).block_elems;
    // K not a multiple of any vector width for the float types; odd N.
    const int64_t k = block == 1 ? 300 : (block == 32 ? 288 : 512);
    const Matrix m = random_matrix(t, k, 13, rng);
    for (SimdIsa isa : supported_isas()) check_invariance(isa, m.w, 33);
  }
}

// Bigger matrices: several cache panels per thread, and enough work per row that the pool
// really splits the rows.
TEST(MatmulInvariance, LargeMatricesAcrossPanelsAndThreads) {
  std::mt19937 rng(2);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::F16}) {
    const Matrix m = random_matrix(t, 2048, 160, rng);
    // The scalar level (the dequantizing path) is covered by the test above; skipping it here
    // keeps the sanitizer build fast.
    for (SimdIsa isa : supported_isas())
      if (isa != SimdIsa::kScalar) check_invariance(isa, m.w, 7);
  }
}

// matmul_multi (Q/K/V and gate/up in one call) gives each matrix the bits matmul gives it, also
// when the matrices want different activation forms (mixed types, as in Q4_K_M files).
TEST(MatmulInvariance, MultiEqualsSeparateCalls) {
  std::mt19937 rng(4);
  const int64_t k = 512;
  const std::vector<std::vector<DType>> groups = {
      {DType::Q8_0, DType::Q8_0, DType::Q8_0},
      {DType::Q4_0, DType::Q4_0},
      {DType::Q4_K, DType::Q6_K, DType::Q8_0, DType::F16},
      {DType::Q5_0, DType::Q4_0, DType::F32}};
  for (const auto& types : groups) {
    std::vector<Matrix> ms;
    for (size_t i = 0; i < types.size(); ++i)
      ms.push_back(random_matrix(types[i], k, 5 + 4 * static_cast<int64_t>(i), rng));
    for (int64_t tokens : {1, 3, 9}) {
      const auto x = activations(tokens, k, rng);
      for (SimdIsa isa : supported_isas()) {
        for (int threads : {1, 2}) {
          ThreadPool pool(threads);
          std::vector<std::vector<float>> multi(ms.size()), alone(ms.size());
          std::vector<MatmulTarget> targets;
          for (size_t i = 0; i < ms.size(); ++i) {
            multi[i].assign(static_cast<size_t>(tokens * ms[i].w.out_features), NAN);
            alone[i].assign(multi[i].size(), NAN);
            targets.push_back({ms[i].w, multi[i].data()});
            matmul_isa(isa, ms[i].w, x.data(), tokens, alone[i].data(), pool);
          }
          matmul_multi_isa(isa, targets.data(), static_cast<int>(targets.size()), x.data(), tokens,
                           pool);
          for (size_t i = 0; i < ms.size(); ++i)
            ASSERT_EQ(std::memcmp(multi[i].data(), alone[i].data(), multi[i].size() * 4), 0)
                << dtype_name(types[i]) << " " << simd_isa_name(isa) << " tokens=" << tokens
                << " threads=" << threads;
        }
      }
    }
  }
}

// For K-quant matrices in the file's layout (not packed: ops/matmul_q4k_kernels_inl.h sums in
// another order) the AVX2 and AVX-512 kernels compute the same exact int32 lane sums (dpbusd
// versus maddubs + madd) and the same float chains, so they agree bit for bit. (Q8_0 and Q4_0
// differ on purpose: AVX-512 sums two blocks per 16-lane vector, AVX2 one per 8 lanes.)
TEST(MatmulInvariance, Avx2AndAvx512AgreeOnKQuants) {
  if (!cpu_supports(SimdIsa::kAvx512)) GTEST_SKIP() << "no AVX-512";
  std::mt19937 rng(3);
  ThreadPool pool(2);
  for (DType t : {DType::Q4_K, DType::Q6_K}) {
    const Matrix m = random_matrix(t, 768, 21, rng);
    const auto x = activations(11, 768, rng);
    std::vector<float> a(11 * 21), b(11 * 21);
    matmul_isa(SimdIsa::kAvx2, m.w, x.data(), 11, a.data(), pool);
    matmul_isa(SimdIsa::kAvx512, m.w, x.data(), 11, b.data(), pool);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << dtype_name(t);
  }
}

}  // namespace
}  // namespace pareto
