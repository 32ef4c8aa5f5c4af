// Element-wise activations and the exp they need. The SIMD variants (AVX-512, AVX2, scalar
// fallback; picked by active_simd_isa()) share one exp polynomial, so results differ between
// levels only by FMA contraction; for a given level they depend only on each element's inputs.
#pragma once

#include <cstdint>

#include "weights/simd_isa.h"

namespace pareto {

// SwiGLU gating: out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + exp(-x)). out may alias gate
// or up. gate, up, out: [n].
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void silu_mul_isa(SimdIsa isa, const float* gate, const float* up, float* out, int64_t n);

// x[i] = exp(x[i] - shift) for i < n; returns the sum of the new values, added in an order fixed
// by isa and n (attention's online softmax). Within ~2 ulp of std::exp; arguments below -87 give
// 0. isa must be supported by this CPU.
float exp_shifted_isa(SimdIsa isa, float* x, int64_t n, float shift);

// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n);

// In-place numerically stable softmax over n values; returns nothing, normalizes x.
void softmax_inplace(float* x, int64_t n);

}  // namespace pareto
