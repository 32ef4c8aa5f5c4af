// The dequantizing fallback of matmul (see matmul_generic.cc). Internal to ops.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "ops/matmul.h"
#include "weights/simd_isa.h"

namespace pareto {

// As matmul_isa for any type can_dequantize supports; w, x, y already checked, K > 0, N > 0,
// num_tokens > 0.
void matmul_generic(SimdIsa isa, const WeightMatrix& w, const float* x, int64_t num_tokens,
                    float* y, ThreadPool& pool);

}  // namespace pareto
