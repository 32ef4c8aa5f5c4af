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

// Two consecutive 32-blocks (2j, 2j + 1) for the AVX-512 kernels, which multiply both with one
// 64-byte dot product. qs interleaves the blocks by 4-byte groups: bytes 4i..4i+3 hold elements
// 4(i/2)..4(i/2)+3 of block 2j + (i % 2), so int32 lane i of vpdpbusd sums four products of one
// block and a 64-bit broadcast of d (or bias) lines up with the lanes. Lanes of an odd last block
// with no partner are zero (d, bias and qs).
struct ActQ8Pair {
  float d[2];
  int32_t bias[2];  // as ActQ8::bias, per block
  int8_t qs[64];
};

static_assert(sizeof(ActQ8) == 40);
static_assert(sizeof(ActQ8Pair) == 80);
static_assert(sizeof(ActQ8K) == 292);

// x: [k] F32, k a multiple of 32; out: [k / 32]. |qs| <= 127, d = max|x| / 127.
void quantize_act_q8(const float* x, int64_t k, int32_t zero_point, ActQ8* out);
// x: [k] F32, k a multiple of 32; out: [ceil(k / 64)]. Same values as quantize_act_q8, laid out
// as ActQ8Pair says.
void quantize_act_q8_pairs(const float* x, int64_t k, int32_t zero_point, ActQ8Pair* out);
// x: [k] F32, k a multiple of 256; out: [k / 256]. |qs| <= 127.
void quantize_act_q8k(const float* x, int64_t k, ActQ8K* out);

}  // namespace pareto
