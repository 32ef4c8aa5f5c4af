#include "ops/activations.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/simd_reduce.h"

namespace pareto {
namespace {

using simd::hsum256;
using simd::hsum512;

// maskz forms with an all-ones mask below: the unmasked intrinsics trip a false
// -Wmaybe-uninitialized in GCC 12's headers.
constexpr __mmask16 kAll = 0xFFFF;

// exp(x) as 2^n * poly(r), x = n ln2 + r, |r| <= ln2 / 2; degree-7 polynomial (Cephes-style
// coefficients), about 1 ulp. Inputs below -87 give 0 (softmax weights that small vanish next
// to the row maximum's weight of 1; silu's gate is then exactly x). Every variant runs the same
// operation sequence per lane.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f,
                kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

float exp_scalar(float x) {
  if (x < kExpLo) return 0.0f;
  x = std::min(x, kExpHi);
  const float n = std::nearbyint(x * kLog2e);
  const float r = x - n * kLn2Hi - n * kLn2Lo;
  float p = kP0;
  for (float c : {kP1, kP2, kP3, kP4, kP5}) p = p * r + c;
  p = p * r * r + r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

PARETO_AVX2 __m256 exp_avx2(__m256 x) {
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(kExpLo), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpLo)), _mm256_set1_ps(kExpHi));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP0);
  for (float c : {kP1, kP2, kP3, kP4, kP5}) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

PARETO_AVX512 __m512 exp_avx512(__m512 x) {
  const __mmask16 ok = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpLo), _CMP_GE_OQ);
  x = _mm512_maskz_min_ps(kAll, _mm512_maskz_max_ps(kAll, x, _mm512_set1_ps(kExpLo)),
                          _mm512_set1_ps(kExpHi));
  const __m512 n = _mm512_maskz_roundscale_ps(kAll, _mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kP0);
  for (float c : {kP1, kP2, kP3, kP4, kP5}) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_maskz_slli_epi32(
      kAll, _mm512_add_epi32(_mm512_maskz_cvtps_epi32(kAll, n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(ok, p, _mm512_castsi512_ps(e));
}

float exp_shifted_scalar(float* s, int64_t count, float shift) {
  float sum = 0.0f;
  for (int64_t j = 0; j < count; ++j) sum += (s[j] = exp_scalar(s[j] - shift));
  return sum;
}

PARETO_AVX2 float exp_shifted_avx2(float* s, int64_t count, float shift) {
  __m256 sum = _mm256_setzero_ps();
  const __m256 sh = _mm256_set1_ps(shift);
  for (int64_t j = 0; j < count; j += 8) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count - j)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 e = _mm256_and_ps(exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(s + j, m), sh)),
                                   _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(s + j, m, e);
    sum = _mm256_add_ps(sum, e);
  }
  return hsum256(sum);
}

PARETO_AVX512 float exp_shifted_avx512(float* s, int64_t count, float shift) {
  __m512 sum = _mm512_setzero_ps();
  const __m512 sh = _mm512_set1_ps(shift);
  for (int64_t j = 0; j < count; j += 16) {
    const __mmask16 m = static_cast<__mmask16>((1u << std::min<int64_t>(16, count - j)) - 1);
    const __m512 e =
        _mm512_maskz_mov_ps(m, exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), sh)));
    _mm512_mask_storeu_ps(s + j, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  return hsum512(sum);
}

void silu_mul_scalar(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + exp_scalar(-g)) * up[i];
  }
}

PARETO_AVX2 void silu_mul_avx2(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(
        out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 g = _mm256_maskload_ps(gate + i, m);
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_maskstore_ps(
        out + i, m,
        _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_maskload_ps(up + i, m)));
  }
}

PARETO_AVX512 void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? kAll : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), g));
    _mm512_mask_storeu_ps(
        out + i, m,
        _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace

void silu_mul_isa(SimdIsa isa, const float* gate, const float* up, float* out, int64_t n) {
  switch (isa) {
    case SimdIsa::kAvx512:
      return silu_mul_avx512(gate, up, out, n);
    case SimdIsa::kAvx2:
      return silu_mul_avx2(gate, up, out, n);
    case SimdIsa::kScalar:
      break;
  }
  silu_mul_scalar(gate, up, out, n);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  silu_mul_isa(active_simd_isa(), gate, up, out, n);
}

float exp_shifted_isa(SimdIsa isa, float* x, int64_t n, float shift) {
  switch (isa) {
    case SimdIsa::kAvx512:
      return exp_shifted_avx512(x, n, shift);
    case SimdIsa::kAvx2:
      return exp_shifted_avx2(x, n, shift);
    case SimdIsa::kScalar:
      break;
  }
  return exp_shifted_scalar(x, n, shift);
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void softmax_inplace(float* x, int64_t n) {
  if (n <= 0) return;
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace pareto
