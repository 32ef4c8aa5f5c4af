#include "weights/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/half.h"
#include "support/test_paths.h"
#include "weights/dequantize.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

std::vector<float> normal_data(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  return x;
}

std::vector<float> roundtrip(DType t, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(row_bytes(t, n));
  quantize_row(t, x.data(), q.data(), n);
  std::vector<float> y(x.size());
  dequantize_row_ref(t, q.data(), y.data(), n);
  return y;
}

double rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// Per-element bound for the legacy types, from the block's own range: half a step for
// round-to-nearest, a whole step where the largest level is clipped (Q4_0 / Q5_0 map the
// largest magnitude to -2^(b-1), so the other side tops out one step short), plus the error of
// storing d (and m) as halves times the largest level they multiply.
struct LegacyCase {
  DType type;
  int levels;      // 2^bits
  bool symmetric;  // d from the signed max (Q4_0 / Q5_0 / Q8_0) or min/max affine (Q4_1 / Q5_1)
};

// Largest error of rounding v to a half: 2^-11 relative, or half the subnormal spacing.
float half_error(float v) {
  return std::max(std::fabs(v) * std::ldexp(1.0f, -11), std::ldexp(1.0f, -25));
}

void expect_legacy_bounds(const LegacyCase& c, const std::vector<float>& x) {
  const auto y = roundtrip(c.type, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const auto first = x.begin() + static_cast<int64_t>(32 * b);
    const float lo = *std::min_element(first, first + 32);
    const float hi = *std::max_element(first, first + 32);
    const float amax = std::max(std::fabs(lo), std::fabs(hi));
    float tol;
    if (c.type == DType::Q8_0) {
      const float d = amax / 127;
      tol = 0.5f * d + 127 * half_error(d);
    } else if (c.symmetric) {
      const float d = amax / static_cast<float>(c.levels / 2);
      tol = d + static_cast<float>(c.levels / 2) * half_error(d);
    } else {
      const float d = (hi - lo) / static_cast<float>(c.levels - 1);
      tol = 0.5f * d + static_cast<float>(c.levels - 1) * half_error(d) + half_error(lo);
    }
    for (size_t i = 32 * b; i < 32 * b + 32; ++i)
      ASSERT_LE(std::fabs(x[i] - y[i]), tol * 1.0001f + 1e-30f)
          << dtype_name(c.type) << " element " << i << " of " << x[i];
  }
}

constexpr LegacyCase kLegacy[] = {
    {DType::Q8_0, 256, true}, {DType::Q4_0, 16, true},  {DType::Q5_0, 32, true},
    {DType::Q4_1, 16, false}, {DType::Q5_1, 32, false},
};

TEST(Quantize, LegacyTypesStayWithinAStepOnNormalData) {
  for (const auto& c : kLegacy) {
    expect_legacy_bounds(c, normal_data(32 * 512, 1));
    expect_legacy_bounds(c, normal_data(32 * 64, 2, 1e-3f));
    expect_legacy_bounds(c, normal_data(32 * 64, 3, 300.0f));
  }
}

TEST(Quantize, LegacyTypesHandleSkewedBlocks) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(32 * 64);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t block = i / 32;
    // All-positive, all-negative, a lone outlier, and a constant block.
    if (block % 4 == 0) x[i] = 1.0f + u(rng);
    if (block % 4 == 1) x[i] = -3.0f - u(rng);
    if (block % 4 == 2) x[i] = (i % 32 == 7) ? 50.0f : u(rng) - 0.5f;
    if (block % 4 == 3) x[i] = 0.75f;
  }
  for (const auto& c : kLegacy) expect_legacy_bounds(c, x);
}

// Typical RMS errors on N(0, 1) data (measured): Q8_0 0.0054, Q5_1 0.038, Q5_0 0.043,
// Q4_1 0.078, Q4_0 0.086, Q6_K 0.017, Q5_K 0.036, Q4_K 0.071. Bounds have ~10% headroom.
TEST(Quantize, RmsErrorOnNormalData) {
  const auto x = normal_data(256 * 256, 11);
  const struct {
    DType type;
    double max_rms;
  } cases[] = {
      {DType::Q8_0, 0.006}, {DType::Q5_1, 0.042}, {DType::Q5_0, 0.047}, {DType::Q4_1, 0.086},
      {DType::Q4_0, 0.095}, {DType::Q6_K, 0.019}, {DType::Q5_K, 0.039}, {DType::Q4_K, 0.078},
  };
  for (const auto& c : cases)
    EXPECT_LE(rms_error(x, roundtrip(c.type, x)), c.max_rms) << dtype_name(c.type);
}

TEST(Quantize, KQuantsBeatTheLegacyTypesOfTheSameWidth) {
  const auto x = normal_data(256 * 128, 12);
  const double q4_0 = rms_error(x, roundtrip(DType::Q4_0, x));
  const double q4_k = rms_error(x, roundtrip(DType::Q4_K, x));
  const double q5_0 = rms_error(x, roundtrip(DType::Q5_0, x));
  const double q5_k = rms_error(x, roundtrip(DType::Q5_K, x));
  EXPECT_LT(q4_k, 0.85 * q4_0);
  EXPECT_LT(q5_k, 0.85 * q5_0);
  EXPECT_LT(rms_error(x, roundtrip(DType::Q6_K, x)), 0.5 * q5_k);
}

// K-quants on data far from N(0, 1): scale-free (relative error), and no blow-ups on
// one-sided, constant, zero and outlier sub-blocks.
TEST(Quantize, KQuantsOnAwkwardData) {
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    for (float sigma : {1e-4f, 1.0f, 1e3f}) {
      const auto x = normal_data(256 * 16, 21, sigma);
      EXPECT_LT(rms_error(x, roundtrip(t, x)) / sigma, 0.08);
    }
    std::vector<float> x(256 * 4, 0.0f);
    for (int i = 0; i < 256; ++i) x[i] = 2.0f + 0.01f * static_cast<float>(i % 32);  // positive
    for (int i = 256; i < 512; ++i) x[i] = -1.0f - 0.02f * static_cast<float>(i % 17);
    for (int i = 512; i < 768; ++i) x[i] = (i % 64 == 3) ? 40.0f : 0.1f * std::sin(i * 1.0f);
    // x[768..1024) stays zero.
    const auto y = roundtrip(t, x);
    for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << i;
    for (size_t i = 768; i < 1024; ++i) EXPECT_EQ(y[i], 0.0f) << i;
    // Offsets can only be subtracted, so an all-positive sub-block is fit by scale alone:
    // [2.0, 2.31] on a grid from 0 has steps of 2.31 / 15.
    for (size_t i = 0; i < 256; ++i) EXPECT_NEAR(y[i], x[i], 0.08) << i;
    for (size_t i = 256; i < 512; ++i) EXPECT_NEAR(y[i], x[i], 0.03) << i;
    for (size_t i = 512; i < 768; ++i) EXPECT_NEAR(y[i], x[i], i % 64 == 3 ? 1.5 : 0.35) << i;
  }
}

TEST(Quantize, ZeroRowsGiveZeros) {
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K,
                  DType::Q5_K, DType::Q6_K, DType::F16, DType::BF16}) {
    const std::vector<float> x(256, 0.0f);
    EXPECT_EQ(roundtrip(t, x), x) << dtype_name(t);
  }
}

TEST(Quantize, HalfAndBFloat16AreExactForRepresentableValues) {
  std::mt19937 rng(3);
  std::vector<float> f16_values, bf16_values;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_f32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) f16_values.push_back(f);
    const float b = bf16_to_f32(static_cast<uint16_t>(h));
    if (!std::isnan(b)) bf16_values.push_back(b);
  }
  std::shuffle(f16_values.begin(), f16_values.end(), rng);
  std::shuffle(bf16_values.begin(), bf16_values.end(), rng);
  auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i)
      if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) return false;
    return true;
  };
  EXPECT_TRUE(same(roundtrip(DType::F16, f16_values), f16_values));
  EXPECT_TRUE(same(roundtrip(DType::BF16, bf16_values), bf16_values));
  EXPECT_TRUE(same(roundtrip(DType::F32, f16_values), f16_values));
}

TEST(Quantize, HalfAndBFloat16RoundToNearest) {
  const auto x = normal_data(4096, 8, 10.0f);
  const auto h = roundtrip(DType::F16, x);
  const auto b = roundtrip(DType::BF16, x);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(h[i] - x[i]), std::fabs(x[i]) * std::ldexp(1.0f, -11) + 3e-8f) << x[i];
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * std::ldexp(1.0f, -8)) << x[i];
  }
}

// The legacy quantizers follow ggml's reference rounding, so re-quantizing the F32 reference
// model reproduces llama.cpp's Q8_0, Q4_0 and F16 files byte for byte.
TEST(Quantize, ReproducesLlamaCppFiles) {
  const std::string dir = test::reference_dir() + "/synthetic/";
  const GgufFile f32 = GgufFile::open(dir + "tiny-llama-F32.gguf");
  for (const char* name : {"tiny-llama-Q8_0.gguf", "tiny-llama-Q4_0.gguf", "tiny-llama-F16.gguf"}) {
    SCOPED_TRACE(name);
    const GgufFile file = GgufFile::open(dir + name);
    int checked = 0;
    for (const GgufTensorInfo& t : file.tensors()) {
      if (t.type == DType::F32 || !can_quantize(t.type)) continue;
      if (t.type == DType::Q6_K) continue;  // llama.cpp's own K-quant search differs from ours
      const GgufTensorInfo* orig = f32.find_tensor(t.name);
      ASSERT_NE(orig, nullptr) << t.name;
      const int64_t n = t.num_elements();
      std::vector<uint8_t> q(row_bytes(t.type, n));
      quantize_row(t.type, reinterpret_cast<const float*>(orig->data), q.data(), n);
      ASSERT_EQ(q.size(), t.num_bytes);
      EXPECT_EQ(std::memcmp(q.data(), t.data, q.size()), 0) << t.name;
      ++checked;
    }
    EXPECT_GT(checked, 10);
  }
}

TEST(Quantize, RejectsBadArguments) {
  std::vector<float> x(512);
  std::vector<uint8_t> q(4096);
  EXPECT_THROW(quantize_row(DType::Q4_0, x.data(), q.data(), 48), Error);
  EXPECT_THROW(quantize_row(DType::Q6_K, x.data(), q.data(), 128), Error);
  EXPECT_THROW(quantize_row(DType::Q8_K, x.data(), q.data(), 256), Error);
  EXPECT_THROW(quantize_row(DType::I8, x.data(), q.data(), 4), Error);
  EXPECT_FALSE(can_quantize(DType::Q3_K));
  EXPECT_TRUE(can_quantize(DType::Q5_K));
}

}  // namespace
}  // namespace pareto
