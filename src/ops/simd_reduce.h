// Horizontal sums shared by the SIMD kernels of src/ops, and the function attributes that compile
// a function for one SIMD level (the ops pick a level at run time, so the rest of each file stays
// baseline x86-64). The reduction order is fixed: kernels whose bit-exact results are tested
// (matmul invariance, attention) depend on it.
#pragma once

#include <immintrin.h>

#define PARETO_AVX2 __attribute__((target("avx2,fma,f16c")))
#define PARETO_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

namespace pareto::simd {

// ((v0..3 + v4..7) pairwise, then the last two).
PARETO_AVX2 inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The two halves added, then hsum256.
PARETO_AVX512 inline float hsum512(__m512 v) {
  // maskz forms: the unmasked extract trips a false -Wuninitialized in GCC 12's headers.
  return hsum256(_mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0),
                               _mm512_maskz_extractf32x8_ps(0xFF, v, 1)));
}

}  // namespace pareto::simd
