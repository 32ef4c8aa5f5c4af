// The fallback path of matmul: weight rows dequantized to F32 panels, then F32 dot products.
// It serves the scalar level and the weight types without integer tile kernels (Q4_1, Q5_0,
// Q5_1, Q5_K, ...). Same contract as matmul (ops/matmul.h); arguments are checked by the caller.
#include "ops/matmul_generic.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "ops/simd_reduce.h"
#include "weights/dequantize.h"

namespace pareto {
namespace {

using simd::hsum256;
using simd::hsum512;

// Output rows are handled in tiles of kRowTile: one token's activations are loaded once per
// tile and feed kRowTile independent dot products. Rows that do not fill a tile use the
// single-row kernel, which runs the very same per-output instruction sequence, so where tile
// boundaries fall (which depends on the thread split) never changes a result.
constexpr int kRowTile = 4;
// Weight rows dequantized at a time: enough to reuse each activation row across many weight
// rows, few enough that the F32 panel stays in L2.
constexpr int64_t kPanelBytes = 256 * 1024;

// out[r] = sum_k x[k] * w[r * w_stride + k] for r < R.
using DotFn = void (*)(const float* x, const float* w, int64_t w_stride, int64_t k, float* out);

// ---------------------------------------------------------------------------------------------
// Scalar: 8 interleaved partial sums, combined pairwise.

template <int R>
void dot_scalar(const float* x, const float* w, int64_t w_stride, int64_t k, float* out) {
  for (int r = 0; r < R; ++r) {
    const float* wr = w + r * w_stride;
    float acc[8] = {};
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
      for (int l = 0; l < 8; ++l) acc[l] += x[i + l] * wr[i + l];
    for (int l = 0; i < k; ++i, ++l) acc[l] += x[i] * wr[i];
    for (int width = 4; width > 0; width /= 2)
      for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
    out[r] = acc[0];
  }
}

// ---------------------------------------------------------------------------------------------
// AVX2: two 8-lane accumulators per output.

// Lanes < n (n in [0, 8]) all ones.
PARETO_AVX2 inline __m256i lane_mask256(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The body and the K tail share one loop: every step loads under a lane mask, all ones but in the
// last step, so there is one copy of the per-output chain (masked-off lanes add 0 * 0).

template <int R>
PARETO_AVX2 void dot_avx2(const float* x, const float* w, int64_t w_stride, int64_t k, float* out) {
  __m256 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < k; i += 16) {
    const __m256i m0 = lane_mask256(std::min<int64_t>(8, k - i));
    const __m256i m1 = lane_mask256(std::clamp<int64_t>(k - i - 8, 0, 8));
    const __m256 x0 = _mm256_maskload_ps(x + i, m0);
    const __m256 x1 = _mm256_maskload_ps(x + i + 8, m1);
    for (int r = 0; r < R; ++r) {
      acc0[r] = _mm256_fmadd_ps(x0, _mm256_maskload_ps(w + r * w_stride + i, m0), acc0[r]);
      acc1[r] = _mm256_fmadd_ps(x1, _mm256_maskload_ps(w + r * w_stride + i + 8, m1), acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = hsum256(_mm256_add_ps(acc0[r], acc1[r]));
}

// ---------------------------------------------------------------------------------------------
// AVX-512: two 16-lane accumulators per output, the same masked loop.

// Lanes < n (n in [0, 16]) set.
inline __mmask16 lane_mask16(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1);
}

template <int R>
PARETO_AVX512 void dot_avx512(const float* x, const float* w, int64_t w_stride, int64_t k,
                              float* out) {
  __m512 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; i += 32) {
    const __mmask16 m0 = lane_mask16(std::min<int64_t>(16, k - i));
    const __mmask16 m1 = lane_mask16(std::clamp<int64_t>(k - i - 16, 0, 16));
    const __m512 x0 = _mm512_maskz_loadu_ps(m0, x + i);
    const __m512 x1 = _mm512_maskz_loadu_ps(m1, x + i + 16);
    for (int r = 0; r < R; ++r) {
      acc0[r] = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m0, w + r * w_stride + i), acc0[r]);
      acc1[r] = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(m1, w + r * w_stride + i + 16), acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = hsum512(_mm512_add_ps(acc0[r], acc1[r]));
}

struct DotKernels {
  DotFn one;
  DotFn tile;  // kRowTile rows
};

DotKernels dot_kernels(SimdIsa isa) {
  switch (isa) {
    case SimdIsa::kAvx512:
      return {dot_avx512<1>, dot_avx512<kRowTile>};
    case SimdIsa::kAvx2:
      return {dot_avx2<1>, dot_avx2<kRowTile>};
    case SimdIsa::kScalar:
      break;
  }
  return {dot_scalar<1>, dot_scalar<kRowTile>};
}

// Rows [row_begin, row_end) of y for all tokens.
void matmul_rows(SimdIsa isa, const DotKernels& dot, const WeightMatrix& w, const float* x,
                 int64_t num_tokens, float* y, int64_t row_begin, int64_t row_end) {
  const int64_t k = w.in_features;
  const int64_t n = w.out_features;
  const bool direct = w.type == DType::F32;
  const int64_t panel_rows =
      std::max<int64_t>(kRowTile, kPanelBytes / std::max<int64_t>(1, k * 4) / kRowTile * kRowTile);
  // Kept per thread across calls: the pool's workers live as long as the pool.
  thread_local std::vector<float> panel;
  if (!direct) panel.resize(static_cast<size_t>(std::min(panel_rows, row_end - row_begin) * k));

  for (int64_t p0 = row_begin; p0 < row_end; p0 += panel_rows) {
    const int64_t p1 = std::min(row_end, p0 + panel_rows);
    const float* wp;
    if (direct) {
      wp = reinterpret_cast<const float*>(w.row(p0));
    } else {
      for (int64_t r = p0; r < p1; ++r)
        dequantize_row_isa(isa, w.type, w.row(r), &panel[(r - p0) * k], k);
      wp = panel.data();
    }
    for (int64_t t = 0; t < num_tokens; ++t) {
      const float* xt = x + t * k;
      float* yt = y + t * n;
      int64_t r = p0;
      for (; r + kRowTile <= p1; r += kRowTile) dot.tile(xt, wp + (r - p0) * k, k, k, yt + r);
      for (; r < p1; ++r) dot.one(xt, wp + (r - p0) * k, k, k, yt + r);
    }
  }
}

}  // namespace

void matmul_generic(SimdIsa isa, const WeightMatrix& w, const float* x, int64_t num_tokens,
                    float* y, ThreadPool& pool) {
  const DotKernels dot = dot_kernels(isa);
  // Waking a worker costs microseconds; below ~64K multiply-adds per share a small matmul is
  // faster on one thread (tiny models such as stories260K run 5x faster for it).
  constexpr int64_t kMinMacsPerShare = 1 << 16;
  const int64_t macs_per_row = w.in_features * num_tokens;
  int64_t grain = (kMinMacsPerShare + macs_per_row - 1) / macs_per_row;
  grain = (grain + kRowTile - 1) / kRowTile * kRowTile;
  pool.parallel_for(
      w.out_features,
      [&](int64_t begin, int64_t end, int) {
        matmul_rows(isa, dot, w, x, num_tokens, y, begin, end);
      },
      grain);
}

}  // namespace pareto
