#include "ops/matmul_quant_act.h"

#include <gtest/gtest.h>

#include <vector>

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

}  // namespace
}  // namespace pareto
