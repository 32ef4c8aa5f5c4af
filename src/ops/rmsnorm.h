// RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight, row by row.
#pragma once

#include <cstdint>

namespace pareto {

// x, y: [num_rows, n]; weight: [n]. y may alias x.
void rmsnorm(const float* x, const float* weight, float* y, int64_t num_rows, int64_t n, float eps);

// Residual add fused with the next norm, one pass over x instead of two:
//   x += delta; y = rmsnorm(x, weight).
// x, delta, y: [num_rows, n]; weight: [n]. y may alias delta (not x). Bit-identical to
// add_inplace(x, delta, num_rows * n) followed by rmsnorm(x, weight, y, ...).
void add_rmsnorm(float* x, const float* delta, const float* weight, float* y, int64_t num_rows,
                 int64_t n, float eps);

}  // namespace pareto
