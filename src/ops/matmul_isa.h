// matmul with a pinned SIMD level, so tests can hold each variant to matmul_ref on a machine
// that has them all. matmul() itself uses active_simd_isa().
#pragma once

#include <cstdint>

#include "ops/matmul.h"
#include "weights/simd_isa.h"

namespace pareto {

// As matmul; isa must be supported by this CPU.
//   kScalar: weight rows dequantized to F32, F32 dot products (any type).
//   kAvx2 / kAvx512: register-tiled kernels; F32/F16/BF16 weights with F32 FMA, Q8_0/Q4_0 with
//   activations quantized to int8 per 32 values and Q4_K/Q6_K per 256 (relative error ~1e-2,
//   like llama.cpp), other quantized types through the dequantizing path. kAvx512 uses VNNI
//   when the CPU has it and the AVX2 integer kernels otherwise.
// Results depend on isa, but for a given isa y[t, n] is bit-identical whatever num_tokens, the
// row's position t in the batch and the pool's thread count: every output is reduced over K in
// one fixed order, and each token row's activations are quantized on their own.
void matmul_isa(SimdIsa isa, const WeightMatrix& w, const float* x, int64_t num_tokens, float* y,
                ThreadPool& pool);

// As matmul_multi, at a pinned level.
void matmul_multi_isa(SimdIsa isa, const MatmulTarget* targets, int count, const float* x,
                      int64_t num_tokens, ThreadPool& pool);

}  // namespace pareto
