// matmul with a pinned SIMD level, so tests can hold each variant to matmul_ref on a machine
// that has them all. matmul() itself uses active_simd_isa().
#pragma once

#include <cstdint>

#include "ops/matmul.h"
#include "weights/simd_isa.h"

namespace pareto {

// As matmul; isa must be supported by this CPU. Results depend on isa (the summation order of
// the dot products differs with the vector width) but never on the pool's thread count.
void matmul_isa(SimdIsa isa, const WeightMatrix& w, const float* x, int64_t num_tokens, float* y,
                ThreadPool& pool);

}  // namespace pareto
