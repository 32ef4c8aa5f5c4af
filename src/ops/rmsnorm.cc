#include "ops/rmsnorm.h"

#include <cmath>

namespace pareto {
namespace {

// Double accumulation keeps the mean exact enough that long rows of large activations
// normalize the same as in reference implementations.
float inv_rms(double sum_squares, int64_t n, float eps) {
  return 1.0f / std::sqrt(static_cast<float>(sum_squares / static_cast<double>(n)) + eps);
}

}  // namespace

void rmsnorm(const float* x, const float* weight, float* y, int64_t num_rows, int64_t n,
             float eps) {
  for (int64_t r = 0; r < num_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = inv_rms(sum, n, eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

void add_rmsnorm(float* x, const float* delta, const float* weight, float* y, int64_t num_rows,
                 int64_t n, float eps) {
  for (int64_t r = 0; r < num_rows; ++r) {
    float* xr = x + r * n;
    const float* dr = delta + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const float v = xr[i] + dr[i];
      xr[i] = v;
      sum += static_cast<double>(v) * v;
    }
    const float scale = inv_rms(sum, n, eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

}  // namespace pareto
