#include "ops/rmsnorm.h"

#include <cmath>

namespace pareto {

void rmsnorm(const float* x, const float* weight, float* y, int64_t num_rows, int64_t n,
             float eps) {
  for (int64_t r = 0; r < num_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    // Double accumulation keeps the mean exact enough that long rows of large activations
    // normalize the same as in reference implementations.
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

}  // namespace pareto
