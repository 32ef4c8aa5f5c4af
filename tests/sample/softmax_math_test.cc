#include "sample/softmax_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace pareto {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(ExpNonpositive, WithinThreeUlpOverTheWholeRange) {
  double worst = 0.0;
  for (float x = 0.0f; x > -87.0f; x = std::nextafter(x, -kInf)) {
    // Every float in (-87, -1e-3] is too many; stride through them, densely near 0.
    const double expected = std::exp(static_cast<double>(x));
    const double got = exp_nonpositive(x);
    worst = std::max(worst, std::abs(got - expected) / expected);
    if (x < -1e-3f) x *= 1.0001f;
  }
  EXPECT_LT(worst, 3.0 * 0x1.0p-24) << worst;
  EXPECT_EQ(exp_nonpositive(0.0f), 1.0f);
  EXPECT_EQ(exp_nonpositive(-0.0f), 1.0f);
}

TEST(ExpNonpositive, FlushesTheFarTailAndMinusInfinityToZero) {
  EXPECT_EQ(exp_nonpositive(-87.0f), 0.0f);
  EXPECT_EQ(exp_nonpositive(-1000.0f), 0.0f);
  EXPECT_EQ(exp_nonpositive(-kInf), 0.0f);
  EXPECT_GT(exp_nonpositive(-86.9f), 0.0f);
}

TEST(SoftmaxMath, MaxAndSumsOverOddLengths) {
  for (size_t n : {1u, 7u, 8u, 9u, 1001u}) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = -static_cast<float>((i * 37) % 101) / 10.0f;
    x[n / 2] = 0.5f;
    EXPECT_EQ(max_value(x), 0.5f) << n;
    double expected_sum = 0.0;
    double expected_exp_sum = 0.0;
    for (float v : x) {
      expected_sum += v;
      expected_exp_sum += exp_nonpositive(v - 0.5f);
    }
    EXPECT_NEAR(sum(x), expected_sum, 1e-9 * n) << n;
    std::vector<float> weights(n);
    exp_shifted(x, 0.5f, weights);
    // The vectorized (possibly AVX-512) loops give the scalar function's bits exactly.
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(weights[i], exp_nonpositive(x[i] - 0.5f)) << i;
    EXPECT_EQ(sum(weights), sum_exp_shifted(x, 0.5f)) << n;
    EXPECT_NEAR(sum_exp_shifted(x, 0.5f), expected_exp_sum, 1e-12 * n) << n;
  }
  EXPECT_EQ(max_value(std::vector<float>{-kInf, -kInf}), -kInf);
}

}  // namespace
}  // namespace pareto
