// matmul tile kernels for AVX-512 F/BW/VL/DQ + VNNI (see matmul_kernels_inl.h).
// GCC 12's AVX-512 headers start many intrinsics from _mm512_undefined_* (zero-extensions,
// inserts, min/max, roundscale), which trips false -Wmaybe-uninitialized warnings once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")

namespace pareto::matmul_detail {
namespace avx512 {
namespace {
#define PARETO_MM_AVX512 1
#include "ops/matmul_kernels_inl.h"
#undef PARETO_MM_AVX512
}  // namespace
}  // namespace avx512

const TileTable* tiles_avx512(DType t) {
  return avx512::tiles_for(t);
}

}  // namespace pareto::matmul_detail

#pragma GCC pop_options
