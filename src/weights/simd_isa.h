// The x86 SIMD levels Pareto's CPU kernels are written for, and entry points that pin one, so
// tests can hold every variant to the scalar reference on a machine that has them all.
// The library is built for baseline x86-64; SIMD code is selected at run time.
#pragma once

#include <cstdint>

#include "base/dtype.h"

namespace pareto {

enum class SimdIsa {
  kScalar = 0,
  kAvx2 = 1,    // AVX2 + FMA + F16C
  kAvx512 = 2,  // AVX-512 F/BW/VL/DQ
};

const char* simd_isa_name(SimdIsa isa);
// Can this CPU (and OS) run code for isa?
bool cpu_supports(SimdIsa isa);
// The best level this CPU supports, capped by $PARETO_SIMD ("scalar", "avx2", "avx512") when
// set. Read once.
SimdIsa active_simd_isa();

// dequantize_row with a fixed SIMD level; isa must be supported by the CPU. Every level gives
// bit-identical output.
void dequantize_row_isa(SimdIsa isa, DType t, const void* src, float* dst, int64_t n);

}  // namespace pareto
