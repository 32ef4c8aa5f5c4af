// Activations quantized to int8 on the fly, so quantized weights can be multiplied with integer
// dot products. Each token row is quantized on its own (nothing depends on the other rows of a
// batch), and the same scalar code serves every SIMD level, so the quantized activations of a
// row are identical whatever the batch, the thread count or the ISA.
#pragma once

#include <cstdint>

namespace pareto {

// 32 activations, for the 32-element weight blocks (Q8_0, Q4_0): x[i] ~= d * qs[i].
struct ActQ8 {
  float d;
  // -zero_point * sum(qs): the weight type's zero point (8 for Q4_0, 0 for Q8_0) folded into the
  // integer dot product, so a kernel can start its int32 accumulator from it.
  int32_t bias;
  int8_t qs[32];
};

// 256 activations, for the K-quant super-blocks (Q4_K, Q6_K): one scale for the super-block and
// the sums of each 16 quantized values (the K-quants' mins and zero points need them).
struct ActQ8K {
  float d;
  int16_t bsums[16];
  int8_t qs[256];
};

static_assert(sizeof(ActQ8) == 40);
static_assert(sizeof(ActQ8K) == 292);

// x: [k] F32, k a multiple of 32; out: [k / 32]. |qs| <= 127, d = max|x| / 127.
void quantize_act_q8(const float* x, int64_t k, int32_t zero_point, ActQ8* out);
// x: [k] F32, k a multiple of 256; out: [k / 256]. |qs| <= 127.
void quantize_act_q8k(const float* x, int64_t k, ActQ8K* out);

}  // namespace pareto
