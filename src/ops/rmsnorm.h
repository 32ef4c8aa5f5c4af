// RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight, row by row.
#pragma once

#include <cstdint>

namespace pareto {

// x, y: [num_rows, n]; weight: [n]. y may alias x.
void rmsnorm(const float* x, const float* weight, float* y, int64_t num_rows, int64_t n, float eps);

}  // namespace pareto
