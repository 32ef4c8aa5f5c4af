#include "sample/softmax_math.h"

#include <bit>
#include <cstdint>
#include <limits>

// See the header: fused multiply-adds would change the bits from one machine to another.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace pareto {
namespace {

constexpr size_t kLanes = 16;

// Every clone does the same IEEE operations in the same order per lane, so results are
// bit-identical whichever one the CPU gets.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PARETO_ROW_LOOP __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PARETO_ROW_LOOP
#endif

// Branch-free so that the loops vectorize: out-of-range lanes compute garbage that the final
// mask discards.
inline float exp_nonpositive_inline(float x) {
  constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const uint32_t keep = 0u - static_cast<uint32_t>(x > -87.0f);
  const float t = x * 1.44269504f + kRoundMagic;
  const float n = t - kRoundMagic;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln2 split: n * hi is exact
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t exponent = std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(kRoundMagic);
  const float scale = std::bit_cast<float>((exponent + 127u) << 23);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(p * scale) & keep);
}

double combine(const double (&lanes)[kLanes]) {
  double partial[kLanes / 2];
  for (size_t j = 0; j < kLanes / 2; ++j) partial[j] = lanes[j] + lanes[j + kLanes / 2];
  for (size_t width = kLanes / 4; width >= 1; width /= 2) {
    for (size_t j = 0; j < width; ++j) partial[j] += partial[j + width];
  }
  return partial[0];
}

}  // namespace

float exp_nonpositive(float x) {
  return exp_nonpositive_inline(x);
}

PARETO_ROW_LOOP float max_value(std::span<const float> x) {
  float lanes[kLanes];
  for (float& lane : lanes) lane = -std::numeric_limits<float>::infinity();
  size_t i = 0;
  for (; i + kLanes <= x.size(); i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lanes[j] = x[i + j] > lanes[j] ? x[i + j] : lanes[j];
  }
  for (; i < x.size(); ++i) lanes[0] = x[i] > lanes[0] ? x[i] : lanes[0];
  float best = lanes[0];
  for (float lane : lanes) best = lane > best ? lane : best;
  return best;
}

PARETO_ROW_LOOP double sum(std::span<const float> x) {
  double lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= x.size(); i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lanes[j] += x[i + j];
  }
  for (; i < x.size(); ++i) lanes[0] += x[i];
  return combine(lanes);
}

PARETO_ROW_LOOP void exp_shifted(std::span<const float> x, float shift, std::span<float> out) {
  for (size_t i = 0; i < x.size(); ++i) out[i] = exp_nonpositive_inline(x[i] - shift);
}

PARETO_ROW_LOOP double sum_exp_shifted(std::span<const float> x, float shift) {
  double lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= x.size(); i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lanes[j] += exp_nonpositive_inline(x[i + j] - shift);
  }
  for (; i < x.size(); ++i) lanes[0] += exp_nonpositive_inline(x[i] - shift);
  return combine(lanes);
}

}  // namespace pareto
