#include "ops/rmsnorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/activations.h"

namespace pareto {
namespace {

TEST(RmsNorm, NormalizesEachRow) {
  const std::vector<float> x = {1, 2, 3, 4, -2, 0, 2, 0};
  const std::vector<float> w = {1, 1, 2, 0.5f};
  std::vector<float> y(8);
  rmsnorm(x.data(), w.data(), y.data(), 2, 4, 0.0f);
  const float r0 = std::sqrt((1 + 4 + 9 + 16) / 4.0f), r1 = std::sqrt(8 / 4.0f);
  EXPECT_FLOAT_EQ(y[0], 1 / r0);
  EXPECT_FLOAT_EQ(y[2], 3 / r0 * 2);
  EXPECT_FLOAT_EQ(y[3], 4 / r0 * 0.5f);
  EXPECT_FLOAT_EQ(y[4], -2 / r1);
  EXPECT_FLOAT_EQ(y[5], 0.0f);
}

TEST(RmsNorm, EpsilonKeepsZeroRowFinite) {
  const std::vector<float> x(4, 0.0f), w(4, 1.0f);
  std::vector<float> y(4, 1.0f);
  rmsnorm(x.data(), w.data(), y.data(), 1, 4, 1e-5f);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

TEST(RmsNorm, AddRmsNormEqualsAddThenNorm) {
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const int64_t rows = 3, n = 577;
  std::vector<float> x(rows * n), delta(rows * n), w(n);
  for (auto* v : {&x, &delta, &w})
    for (auto& e : *v) e = dist(rng);
  std::vector<float> x1 = x, y1(x.size());
  add_inplace(x1.data(), delta.data(), rows * n);
  rmsnorm(x1.data(), w.data(), y1.data(), rows, n, 1e-5f);
  std::vector<float> x2 = x, y2 = delta;  // y aliases delta, as the model would use it
  add_rmsnorm(x2.data(), y2.data(), w.data(), y2.data(), rows, n, 1e-5f);
  EXPECT_EQ(x2, x1);
  EXPECT_EQ(y2, y1);
}

TEST(Activations, SiluMulAndSoftmax) {
  const std::vector<float> g = {0.0f, 1.0f, -3.0f}, u = {5.0f, 2.0f, 1.0f};
  std::vector<float> out(3);
  silu_mul(g.data(), u.data(), out.data(), 3);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_NEAR(out[1], 2.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(out[2], -3.0 / (1.0 + std::exp(3.0)), 1e-6);
  std::vector<float> s = {1000.0f, 1000.0f, -1e30f};
  softmax_inplace(s.data(), 3);
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_FLOAT_EQ(s[2], 0.0f);
}

}  // namespace
}  // namespace pareto
