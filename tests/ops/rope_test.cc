#include "ops/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace pareto {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

TEST(Rope, PositionZeroIsIdentity) {
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    auto x = random_vec(2 * 3 * 16, 1);
    const auto orig = x;
    const int32_t pos[2] = {0, 0};
    RopeConfig cfg{style, 16, 10000.0, 1.0, {}};
    apply_rope(x.data(), pos, 2, 3, 16, cfg);
    EXPECT_EQ(x, orig);
  }
}

TEST(Rope, MatchesRotationFormula) {
  const int64_t head_dim = 8, dims = 8;
  auto x = random_vec(head_dim, 2);
  const int32_t pos = 5;
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    auto y = x;
    RopeConfig cfg{style, dims, 500.0, 1.0, {}};
    apply_rope(y.data(), &pos, 1, 1, head_dim, cfg);
    for (int64_t i = 0; i < dims / 2; ++i) {
      const double theta = pos * std::pow(500.0, -2.0 * i / dims);
      const int64_t a = style == RopeStyle::kNormal ? 2 * i : i;
      const int64_t b = style == RopeStyle::kNormal ? 2 * i + 1 : i + dims / 2;
      EXPECT_NEAR(y[a], x[a] * std::cos(theta) - x[b] * std::sin(theta), 1e-5);
      EXPECT_NEAR(y[b], x[a] * std::sin(theta) + x[b] * std::cos(theta), 1e-5);
    }
  }
}

TEST(Rope, QkGivesTheBitsOfTwoCalls) {
  const int32_t pos[3] = {0, 17, 4095};
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    RopeConfig cfg{style, 12, 10000.0, 0.5, {1.0f, 2.0f, 1.5f, 4.0f, 1.0f, 8.0f}};
    auto q = random_vec(3 * 4 * 16, 4), k = random_vec(3 * 2 * 16, 5);
    auto q_want = q, k_want = k;
    apply_rope(q_want.data(), pos, 3, 4, 16, cfg);
    apply_rope(k_want.data(), pos, 3, 2, 16, cfg);
    apply_rope_qk(q.data(), 4, k.data(), 2, pos, 3, 16, cfg);
    EXPECT_EQ(q, q_want);
    EXPECT_EQ(k, k_want);
  }
}

TEST(Rope, PartialRotationLeavesTailAlone) {
  auto x = random_vec(16, 3);
  auto y = x;
  const int32_t pos = 9;
  RopeConfig cfg{RopeStyle::kNeox, 8, 10000.0, 1.0, {}};
  apply_rope(y.data(), &pos, 1, 1, 16, cfg);
  for (int i = 8; i < 16; ++i) EXPECT_EQ(y[i], x[i]);
}

TEST(Rope, PreservesNormAndRelativePosition) {
  // Rotations keep the norm, and <rope(q, m), rope(k, n)> depends only on m - n.
  auto q = random_vec(32, 4), k = random_vec(32, 5);
  RopeConfig cfg{RopeStyle::kNormal, 32, 10000.0, 1.0, {}};
  auto dot_at = [&](int32_t m, int32_t n) {
    auto qq = q, kk = k;
    apply_rope(qq.data(), &m, 1, 1, 32, cfg);
    apply_rope(kk.data(), &n, 1, 1, 32, cfg);
    double d = 0;
    for (int i = 0; i < 32; ++i) d += static_cast<double>(qq[i]) * kk[i];
    return d;
  };
  EXPECT_NEAR(dot_at(10, 3), dot_at(107, 100), 1e-4);
}

TEST(Rope, LinearScalingDividesPositions) {
  auto x = random_vec(16, 6);
  auto a = x, b = x;
  const int32_t p8 = 8, p2 = 2;
  apply_rope(a.data(), &p8, 1, 1, 16, RopeConfig{RopeStyle::kNormal, 16, 10000.0, 0.25, {}});
  apply_rope(b.data(), &p2, 1, 1, 16, RopeConfig{RopeStyle::kNormal, 16, 10000.0, 1.0, {}});
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
}

TEST(Rope, Llama3FactorsKeepHighFrequenciesAndScaleLowOnes) {
  // Llama 3.1/3.2 settings: factor 32 (3.2) with low 1, high 4, original context 8192.
  const auto f = llama3_rope_freq_factors(128, 500000.0, 32.0, 1.0, 4.0, 8192.0);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_FLOAT_EQ(f.front(), 1.0f);  // highest frequency untouched
  EXPECT_FLOAT_EQ(f.back(), 32.0f);  // lowest frequency slowed by the full factor
  for (size_t i = 1; i < f.size(); ++i) EXPECT_GE(f[i], f[i - 1]);
}

}  // namespace
}  // namespace pareto
