// The tile kernels of ops/attention_kernels.h at each SIMD level.
#include "ops/attention_kernels.h"

#include <immintrin.h>

#include <cstring>

#include "base/half.h"
#include "ops/simd_reduce.h"

namespace pareto::attention_detail {
namespace {

using simd::hsum256;

// maskz forms with an all-ones mask below: the unmasked intrinsics trip a false
// -Wmaybe-uninitialized in GCC 12's headers.
constexpr __mmask16 kAll = 0xFFFF;

// --- scalar ----------------------------------------------------------------------------------

void f16_to_f32_scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

void scores_scalar(const float* q, const float* k, int64_t group, int64_t count, int64_t padded,
                   float scale, float* scores) {
  for (int64_t g = 0; g < group; ++g) {
    for (int64_t j = 0; j < count; ++j) {
      const float* qg = q + g * padded;
      const float* kj = k + j * padded;
      float lanes[8] = {};
      for (int64_t i = 0; i < padded; i += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += qg[i + l] * kj[i + l];
      for (int width = 4; width > 0; width /= 2)
        for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
      scores[g * kTile + j] = lanes[0] * scale;
    }
  }
}

void accumulate_scalar(const float* p, const float* v, int64_t count, int64_t padded,
                       float correction, float* acc) {
  for (int64_t i = 0; i < padded; ++i) {
    float a = acc[i] * correction;
    for (int64_t j = 0; j < count; ++j) a += p[j] * v[j * padded + i];
    acc[i] = a;
  }
}

// --- AVX2 ------------------------------------------------------------------------------------

PARETO_AVX2 void f16_to_f32_avx2(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

PARETO_AVX2 void scores_avx2(const float* q, const float* k, int64_t group, int64_t count,
                             int64_t padded, float scale, float* scores) {
  for (int64_t g = 0; g < group; ++g) {
    const float* qg = q + g * padded;
    for (int64_t j = 0; j < count; ++j) {
      const float* kj = k + j * padded;
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
      for (int64_t i = 0; i < padded; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + i), _mm256_loadu_ps(kj + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + i + 8), _mm256_loadu_ps(kj + i + 8), a1);
      }
      scores[g * kTile + j] = hsum256(_mm256_add_ps(a0, a1)) * scale;
    }
  }
}

PARETO_AVX2 void accumulate_avx2(const float* p, const float* v, int64_t count, int64_t padded,
                                 float correction, float* acc) {
  const __m256 c = _mm256_set1_ps(correction);
  for (int64_t i = 0; i < padded; i += 16) {
    __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(acc + i), c);
    __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(acc + i + 8), c);
    for (int64_t j = 0; j < count; ++j) {
      const __m256 w = _mm256_broadcast_ss(p + j);
      a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + j * padded + i), a0);
      a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + j * padded + i + 8), a1);
    }
    _mm256_storeu_ps(acc + i, a0);
    _mm256_storeu_ps(acc + i + 8, a1);
  }
}

// --- AVX-512 ---------------------------------------------------------------------------------

PARETO_AVX512 void f16_to_f32_avx512(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(
        dst + i,
        _mm512_maskz_cvtph_ps(kAll, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(dst + i, m,
                          _mm512_maskz_cvtph_ps(kAll, _mm256_maskz_loadu_epi16(m, src + i)));
  }
}

// Lane-local partial sums of four vectors: lane 4i + r of the result holds the sum of
// 128-bit lane i of the r-th input (a, b, c, d for r = 0..3).
PARETO_AVX512 inline __m512 reduce4_lanes(__m512 a, __m512 b, __m512 c, __m512 d) {
  // unpacklo + unpackhi: per 128-bit lane [a0+a2, b0+b2, a1+a3, b1+b3] (likewise c, d).
  const __m512 ab =
      _mm512_add_ps(_mm512_maskz_unpacklo_ps(kAll, a, b), _mm512_maskz_unpackhi_ps(kAll, a, b));
  const __m512 cd =
      _mm512_add_ps(_mm512_maskz_unpacklo_ps(kAll, c, d), _mm512_maskz_unpackhi_ps(kAll, c, d));
  return _mm512_add_ps(_mm512_maskz_shuffle_ps(kAll, ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                       _mm512_maskz_shuffle_ps(kAll, ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
}

// Lane j of the result is the sum of v[j]'s 16 lanes: sixteen horizontal sums for ~3
// shuffles and adds each instead of ~8, and one vector store for 16 scores.
PARETO_AVX512 inline __m512 reduce16(const __m512* v) {
  const __m512 u0 = reduce4_lanes(v[0], v[1], v[2], v[3]);
  const __m512 u1 = reduce4_lanes(v[4], v[5], v[6], v[7]);
  const __m512 u2 = reduce4_lanes(v[8], v[9], v[10], v[11]);
  const __m512 u3 = reduce4_lanes(v[12], v[13], v[14], v[15]);
  // [u0: L0+L1, L2+L3, u1: L0+L1, L2+L3], then the same pairing once more.
  const __m512 x = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_maskz_shuffle_f32x4(kAll, u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 y = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, u2, u3, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_maskz_shuffle_f32x4(kAll, u2, u3, _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_maskz_shuffle_f32x4(kAll, x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Scores of 16 positions at a time (rows past count are computed from whatever the scratch
// holds and never read). The 16 dot products are independent chains, so their latencies
// overlap. NV > 0: the head is NV vectors wide and q stays in registers; 0: any width.
template <int NV>
PARETO_AVX512 void scores_tiles(const float* q, const float* k, int64_t group, int64_t count,
                                int64_t padded, float scale, float* scores) {
  const __m512 sc = _mm512_set1_ps(scale);
  for (int64_t g = 0; g < group; ++g) {
    const float* qg = q + g * padded;
    __m512 qv[NV > 0 ? NV : 1];
    if constexpr (NV > 0)
      for (int c = 0; c < NV; ++c) qv[c] = _mm512_loadu_ps(qg + 16 * c);
    for (int64_t j0 = 0; j0 < count; j0 += 16) {
      __m512 dots[16];
      for (int r = 0; r < 16; ++r) {
        const float* kj = k + (j0 + r) * padded;
        __m512 a;
        if constexpr (NV > 0) {
          a = _mm512_mul_ps(qv[0], _mm512_loadu_ps(kj));
          for (int c = 1; c < NV; ++c) a = _mm512_fmadd_ps(qv[c], _mm512_loadu_ps(kj + 16 * c), a);
        } else {
          a = _mm512_mul_ps(_mm512_loadu_ps(qg), _mm512_loadu_ps(kj));
          for (int64_t i = 16; i < padded; i += 16)
            a = _mm512_fmadd_ps(_mm512_loadu_ps(qg + i), _mm512_loadu_ps(kj + i), a);
        }
        dots[r] = a;
      }
      _mm512_storeu_ps(scores + g * kTile + j0, _mm512_mul_ps(reduce16(dots), sc));
    }
  }
}

PARETO_AVX512 void scores_avx512(const float* q, const float* k, int64_t group, int64_t count,
                                 int64_t padded, float scale, float* scores) {
  switch (padded) {
    case 64:
      return scores_tiles<4>(q, k, group, count, padded, scale, scores);
    case 128:
      return scores_tiles<8>(q, k, group, count, padded, scale, scores);
    default:
      return scores_tiles<0>(q, k, group, count, padded, scale, scores);
  }
}

// acc = acc * correction + sum_j p[j] v[j] with the head's NV vectors in registers and
// 16 / NV partial sums per vector over positions j = P m + r: one chain of count dependent
// FMAs per vector made this latency-bound. The partials are added in a fixed order.
template <int NV>
PARETO_AVX512 void accumulate_tiles(const float* p, const float* v, int64_t count, float correction,
                                    float* acc) {
  constexpr int P = 16 / NV;
  constexpr int64_t padded = 16 * NV;
  __m512 a[P][NV];
  const __m512 c = _mm512_set1_ps(correction);
  for (int i = 0; i < NV; ++i) {
    a[0][i] = _mm512_mul_ps(_mm512_loadu_ps(acc + 16 * i), c);
    for (int r = 1; r < P; ++r) a[r][i] = _mm512_setzero_ps();
  }
  int64_t j = 0;
  for (; j + P <= count; j += P) {
    for (int r = 0; r < P; ++r) {
      const __m512 w = _mm512_set1_ps(p[j + r]);
      for (int i = 0; i < NV; ++i)
        a[r][i] = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + (j + r) * padded + 16 * i), a[r][i]);
    }
  }
  for (int r = 0; j < count; ++j, ++r) {
    const __m512 w = _mm512_set1_ps(p[j]);
    for (int i = 0; i < NV; ++i)
      a[r][i] = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + j * padded + 16 * i), a[r][i]);
  }
  for (int i = 0; i < NV; ++i) {
    __m512 sum = a[0][i];
    for (int r = 1; r < P; ++r) sum = _mm512_add_ps(sum, a[r][i]);
    _mm512_storeu_ps(acc + 16 * i, sum);
  }
}

// Any width: four partial sums per output vector, as above.
PARETO_AVX512 void accumulate_any(const float* p, const float* v, int64_t count, int64_t padded,
                                  float correction, float* acc) {
  const __m512 c = _mm512_set1_ps(correction);
  for (int64_t i = 0; i < padded; i += 16) {
    __m512 a[4] = {_mm512_mul_ps(_mm512_loadu_ps(acc + i), c), _mm512_setzero_ps(),
                   _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t j = 0; j < count; ++j)
      a[j % 4] =
          _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_loadu_ps(v + j * padded + i), a[j % 4]);
    _mm512_storeu_ps(acc + i, _mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])));
  }
}

PARETO_AVX512 void accumulate_avx512(const float* p, const float* v, int64_t count, int64_t padded,
                                     float correction, float* acc) {
  switch (padded) {
    case 64:
      return accumulate_tiles<4>(p, v, count, correction, acc);
    case 128:
      return accumulate_tiles<8>(p, v, count, correction, acc);
    default:
      return accumulate_any(p, v, count, padded, correction, acc);
  }
}

// F32 -> F16 with round-to-nearest-even, as f32_to_fp16 (NaN payloads aside: every NaN stays
// a NaN). The scalar loop was ~2% of a batched decode step.
PARETO_AVX512 void f32_to_f16_avx512(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(dst + i),
        _mm512_maskz_cvtps_ph(kAll, _mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

void f32_to_f16_scalar(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

}  // namespace

Kernels kernels_for(SimdIsa isa) {
  switch (isa) {
    case SimdIsa::kAvx512:
      return {isa, f16_to_f32_avx512, scores_avx512, accumulate_avx512};
    case SimdIsa::kAvx2:
      return {isa, f16_to_f32_avx2, scores_avx2, accumulate_avx2};
    case SimdIsa::kScalar:
      break;
  }
  return {isa, f16_to_f32_scalar, scores_scalar, accumulate_scalar};
}

void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n) {
  static const auto convert =
      active_simd_isa() == SimdIsa::kAvx512 ? f32_to_f16_avx512 : f32_to_f16_scalar;
  convert(src, dst, n);
}

}  // namespace pareto::attention_detail
