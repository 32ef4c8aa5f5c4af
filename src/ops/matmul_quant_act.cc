#include "ops/matmul_quant_act.h"

#include <algorithm>
#include <cmath>

namespace pareto {
namespace {

// Quantizes n values with one scale: q = round-half-even(x * 127 / max|x|). Returns the scale.
// Rounding by adding and subtracting 1.5 * 2^23 keeps the loop vectorizable and gives the same
// bits on every machine (|x * id| <= 127, far inside the trick's exact range).
float quantize_block(const float* x, int n, int8_t* q) {
  // Plain comparisons, not std::fmax/fmin: those become library calls at baseline x86-64.
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    amax = a > amax ? a : amax;
  }
  const float d = amax / 127.0f;
  const float id = d > 0.0f ? 1.0f / d : 0.0f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  for (int i = 0; i < n; ++i) {
    float v = x[i] * id;
    v = (v + kRound) - kRound;
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[i] = static_cast<int8_t>(static_cast<int>(v));
  }
  return d;
}

}  // namespace

void quantize_act_q8(const float* x, int64_t k, int32_t zero_point, ActQ8* out) {
  for (int64_t b = 0; b < k / 32; ++b) {
    ActQ8& blk = out[b];
    blk.d = quantize_block(x + b * 32, 32, blk.qs);
    int32_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += blk.qs[i];
    blk.bias = -zero_point * sum;
  }
}

void quantize_act_q8k(const float* x, int64_t k, ActQ8K* out) {
  for (int64_t b = 0; b < k / 256; ++b) {
    ActQ8K& blk = out[b];
    blk.d = quantize_block(x + b * 256, 256, blk.qs);
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blk.qs[16 * j + i];
      blk.bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

}  // namespace pareto
