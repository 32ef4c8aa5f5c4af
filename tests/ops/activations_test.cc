#include "ops/activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace pareto {
namespace {

constexpr SimdIsa kIsas[] = {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512};

std::vector<float> randn(int64_t n, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& e : x) e = dist(rng);
  return x;
}

TEST(SiluMul, EveryIsaMatchesDoubleReference) {
  for (int64_t n : {1, 7, 8, 15, 16, 17, 33, 1000}) {
    auto gate = randn(n, 4.0f, 1), up = randn(n, 1.0f, 2);
    gate[0] = 0.0f;
    if (n > 3) gate[1] = 100.0f, gate[2] = -100.0f, gate[3] = -88.5f;  // exp's clamps
    for (SimdIsa isa : kIsas) {
      if (!cpu_supports(isa)) continue;
      std::vector<float> out(static_cast<size_t>(n));
      silu_mul_isa(isa, gate.data(), up.data(), out.data(), n);
      for (size_t i = 0; i < out.size(); ++i) {
        const double g = gate[i];
        const double want = g / (1.0 + std::exp(-g)) * up[i];
        ASSERT_NEAR(out[i], want, 1e-6 * std::max(1.0, std::abs(want)))
            << simd_isa_name(isa) << " n=" << n << " i=" << i << " gate=" << g;
      }
    }
  }
}

TEST(SiluMul, ElementsDoNotDependOnTheirNeighbours) {
  // A row computed alone or inside a longer buffer, at any offset, gives the same bits: the
  // model's results must not depend on how tokens are batched.
  const auto gate = randn(301, 3.0f, 3), up = randn(301, 1.0f, 4);
  for (SimdIsa isa : kIsas) {
    if (!cpu_supports(isa)) continue;
    std::vector<float> all(gate.size());
    silu_mul_isa(isa, gate.data(), up.data(), all.data(), 301);
    for (int64_t off : {1, 5, 100}) {
      std::vector<float> part(static_cast<size_t>(301 - off));
      silu_mul_isa(isa, gate.data() + off, up.data() + off, part.data(), 301 - off);
      for (size_t i = 0; i < part.size(); ++i)
        ASSERT_EQ(part[i], all[i + static_cast<size_t>(off)]) << simd_isa_name(isa);
    }
    std::vector<float> aliased = gate;  // out == gate
    silu_mul_isa(isa, aliased.data(), up.data(), aliased.data(), 301);
    EXPECT_EQ(aliased, all);
  }
}

TEST(ExpShifted, EveryIsaMatchesStdExp) {
  for (int64_t n : {1, 5, 8, 16, 31, 32, 100}) {
    const auto x = randn(n, 10.0f, 5);
    for (SimdIsa isa : kIsas) {
      if (!cpu_supports(isa)) continue;
      std::vector<float> y = x;
      const float sum = exp_shifted_isa(isa, y.data(), n, 3.0f);
      double want_sum = 0.0;
      for (size_t i = 0; i < y.size(); ++i) {
        // The argument is rounded to float before exp, as the kernels do.
        const double arg = x[i] - 3.0f;
        const double want = arg < -87.0 ? 0.0 : std::exp(arg);
        want_sum += want;
        ASSERT_NEAR(y[i], want, 3e-7 * want + 1e-37) << simd_isa_name(isa) << " arg " << arg;
      }
      EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum) << simd_isa_name(isa);
    }
  }
}

TEST(ExpShifted, ExactAtZeroAndZeroFarBelow) {
  for (SimdIsa isa : kIsas) {
    if (!cpu_supports(isa)) continue;
    std::vector<float> y = {2.0f, -200.0f, -std::numeric_limits<float>::infinity()};
    EXPECT_EQ(exp_shifted_isa(isa, y.data(), 3, 2.0f), 1.0f);
    EXPECT_EQ(y, (std::vector<float>{1.0f, 0.0f, 0.0f})) << simd_isa_name(isa);
  }
}

}  // namespace
}  // namespace pareto
