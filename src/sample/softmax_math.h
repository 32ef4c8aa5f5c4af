// The float loops under softmax-style work on a [vocab_size] row: max, exp and sums.
//
// Their results are fixed by the source, bit for bit, on every machine: exp is our own (libm's
// differs between versions), sums run in sixteen double lanes combined in a fixed order (no
// reassociation), and the .cc turns off multiply-add contraction, which would otherwise round
// differently wherever FMA exists (AVX-512, ARM). That is what lets a seeded sampler reproduce its
// tokens across machines. Within those rules the loops vectorize, with AVX2 / AVX-512 clones
// picked at load time on x86-64.
#pragma once

#include <span>

namespace pareto {

// exp(x) for x <= 0, including -inf; results below exp(-87) ~ 1.6e-38 are flushed to 0. Within
// 2 ulp: Cody-Waite reduction to r in [-ln2/2, ln2/2], a degree-7 Taylor polynomial, and the
// power of two built in the exponent bits. Exactly what the row functions below compute per
// element.
float exp_nonpositive(float x);

// Largest value of a non-empty row.
float max_value(std::span<const float> x);

// Sum in double, in a fixed order.
double sum(std::span<const float> x);

// out[i] = exp_nonpositive(x[i] - shift), shift >= every x[i]; out.size() >= x.size().
void exp_shifted(std::span<const float> x, float shift, std::span<float> out);

// sum() of exp_shifted(x, shift) without storing it.
double sum_exp_shifted(std::span<const float> x, float shift);

}  // namespace pareto
