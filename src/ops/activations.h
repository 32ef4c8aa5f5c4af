// Element-wise activations.
#pragma once

#include <cstdint>

namespace pareto {

// SwiGLU gating: out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + exp(-x)). out may alias gate.
void silu_mul(const float* gate, const float* up, float* out, int64_t n);

// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n);

// In-place numerically stable softmax over n values; returns nothing, normalizes x.
void softmax_inplace(float* x, int64_t n);

}  // namespace pareto
