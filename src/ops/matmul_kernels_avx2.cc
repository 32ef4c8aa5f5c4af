// matmul tile kernels for AVX2 + FMA + F16C (see matmul_kernels_inl.h).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "base/dtype.h"
#include "ops/matmul_kernels.h"
#include "ops/matmul_quant_act.h"
#include "ops/simd_reduce.h"
#include "weights/quant_blocks.h"

// Everything below, and only that, is compiled for this level; all headers come first.
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace pareto::matmul_detail {
namespace avx2 {
namespace {
#define PARETO_MM_AVX512 0
#include "ops/matmul_kernels_inl.h"
#undef PARETO_MM_AVX512
}  // namespace
}  // namespace avx2

const TileTable* tiles_avx2(DType t) {
  return avx2::tiles_for(t);
}

}  // namespace pareto::matmul_detail

#pragma GCC pop_options
