// Register-tile kernels of matmul, written once and compiled per SIMD level: a translation unit
// includes this file after `#pragma GCC target(...)`, with PARETO_MM_AVX512 set to 1 (AVX-512 +
// VNNI) or 0 (AVX2 + FMA + F16C), inside its own namespace. See matmul_kernels.h for the tile
// contract.
//
// Quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) meet int8 activations (matmul_quant_act.h): the
// products of one block are summed exactly in int32 lanes of 4 elements each, by
// _mm256_dpbusd_epi32 (VNNI) or _mm256_maddubs_epi16 + _mm256_madd_epi16 (AVX2; the operands are
// kept small enough that the int16 step never saturates), so both levels produce the same
// integers. Each output then accumulates, block after block, lanes * (weight scale * activation
// scale) into its own 8-float accumulator with one FMA, and ends with a fixed horizontal sum.
// Float weights (F32, F16, BF16) are widened to F32 and multiplied with FMA in the same way.
//
// Nothing here may depend on the tile shape: loops over rows and tokens only replicate the
// per-output chain, so a 1x1 tile and a 4x4 tile give the same bits for the same output.
// No std:: templates are used below the target pragma (their instantiations would be compiled
// for this level and could be picked by the linker for baseline code).

#ifndef PARETO_MM_AVX512
#error "define PARETO_MM_AVX512 before including matmul_kernels_inl.h"
#endif

// ---------------------------------------------------------------------------------------------
// Shared helpers.

inline float half_to_f32(uint16_t h) {
  return _cvtsh_ss(h);
}

using simd::hsum256;
#if PARETO_MM_AVX512
using simd::hsum512;
#endif

inline __m256i loadu256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
inline __m128i loadu128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

// Weights stream from memory once per call, as R interleaved row streams per tile. On its own
// the hardware prefetcher kept only about half of a core's read bandwidth busy on them
// (bench/matmul_bench, GEMV), so as a tile reads a row it asks for the same place in the row
// one or more tiles further on: at least kPrefetchBytes ahead in the weights, which are read
// in order. Of 0.5 to 32 KiB, 8 KiB was best on this machine (tinyllama Q8_0 GEMV on 2
// threads: 28 -> 49 GB/s). A prefetch never faults, so running past the end is harmless.
constexpr int64_t kPrefetchBytes = 8192;
template <int R>
inline int64_t prefetch_distance(size_t w_stride) {
  const int64_t tile_bytes = R * static_cast<int64_t>(w_stride);
  return (kPrefetchBytes + tile_bytes - 1) / tile_bytes * tile_bytes;
}
inline void prefetch_ahead(const uint8_t* p, int64_t distance) {
  _mm_prefetch(reinterpret_cast<const char*>(p + distance), _MM_HINT_T0);
}
// prefetch_ahead for each 64-byte line of a span of kBytes (a block size).
template <int64_t kBytes>
inline void prefetch_span_ahead(const uint8_t* p, int64_t distance) {
  for (int64_t off = 0; off < kBytes; off += 64) prefetch_ahead(p + off, distance);
}

// What a resident-layout call asks the memory for at block b of num_blocks: its own stream
// kBytes a block, kPrefetchBytes ahead, or, when its caller gave a span (`ahead`), the lines of
// the span's b-th share. A call of several token tiles reads its group from memory in the first
// tile only; spreading the next group's lines over all the tiles keeps memory busy through all
// of them instead of the first (run_resident).
template <int64_t kBytes>
inline void prefetch_resident(const uint8_t* p, int64_t b, int64_t num_blocks, const uint8_t* ahead,
                              int64_t ahead_bytes) {
  if (ahead == nullptr) {
    prefetch_span_ahead<kBytes>(p, kPrefetchBytes);
    return;
  }
  const int64_t lo = ahead_bytes * b / num_blocks, hi = ahead_bytes * (b + 1) / num_blocks;
  for (int64_t off = lo & ~int64_t{63}; off < hi; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T0);
}

// acc + per-lane sums of 4 products u[i] * s[i]; u unsigned <= 128, s signed with |s| <= 127.
inline __m256i dot4(__m256i acc, __m256i u, __m256i s) {
#if PARETO_MM_AVX512
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// Lane scales for dot4_scaled: lanes 0-3 (elements 0-15 of a 32-byte vector) get lo, lanes 4-7
// get hi. The representation differs per level (int16 pairs for madd, int32 for mullo).
inline __m256i lane_scales(int lo, int hi) {
#if PARETO_MM_AVX512
  return _mm256_setr_epi32(lo, lo, lo, lo, hi, hi, hi, hi);
#else
  return _mm256_setr_m128i(_mm_set1_epi16(static_cast<int16_t>(lo)),
                           _mm_set1_epi16(static_cast<int16_t>(hi)));
#endif
}

// Per-lane sums of 4 products (as dot4, from zero) times the lane's scale from lane_scales.
// |u * s| pair sums must stay below 2^15 (u <= 63 here).
inline __m256i dot4_scaled(__m256i u, __m256i s, __m256i scales) {
#if PARETO_MM_AVX512
  return _mm256_mullo_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s), scales);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scales);
#endif
}

template <int R, int T>
inline void store_tile(const __m256 (&acc)[R][T], float* y, int64_t y_stride) {
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) y[t * y_stride + r] = hsum256(acc[r][t]);
}

template <int R, int T>
inline void zero_tile(__m256 (&acc)[R][T]) {
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
}

// The loop the one-block-per-vector kernels share: per block, each row's weights are unpacked
// once (K::Row) and then meet every token's activations (Row::step, one FMA chain per output).
template <class K, int R, int T>
void tile_blocks(const uint8_t* w, size_t w_stride, const uint8_t* act, size_t act_stride,
                 int64_t num_blocks, float* y, int64_t y_stride) {
  using Act = typename K::Act;
  __m256 acc[R][T];
  zero_tile(acc);
  const int64_t distance = prefetch_distance<R>(w_stride);
  for (int64_t b = 0; b < num_blocks; ++b) {
    for (int r = 0; r < R; ++r) {
      prefetch_span_ahead<K::kBlockBytes>(w + r * w_stride + b * K::kBlockBytes, distance);
      const typename K::Row row(w + r * w_stride, b);
      for (int t = 0; t < T; ++t)
        acc[r][t] = row.step(reinterpret_cast<const Act*>(act + t * act_stride) + b, acc[r][t]);
    }
  }
  store_tile(acc, y, y_stride);
}

// ---------------------------------------------------------------------------------------------
// Q8_0 x ActQ8: |w| as the unsigned operand and x with w's sign as the signed one (|w| <= 128,
// |x| <= 127), so no zero point is needed.

struct Q8_0Kernel {
  using Act = ActQ8;
  static constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);
  struct Row {
    __m256i wq, aw;
    __m256 dw;
    Row(const uint8_t* row, int64_t b) {
      const BlockQ8_0* wb = reinterpret_cast<const BlockQ8_0*>(row) + b;
      wq = loadu256(wb->qs);
      aw = _mm256_abs_epi8(wq);
      // The scale product as a vector multiply of broadcasts: one ALU op per output instead
      // of a scalar multiply and a broadcast (same bits either way).
      dw = _mm256_set1_ps(half_to_f32(wb->d));
    }
    __m256 step(const ActQ8* xb, __m256 acc) const {
      const __m256i sx = _mm256_sign_epi8(loadu256(xb->qs), wq);
      const __m256i isum = dot4(_mm256_setzero_si256(), aw, sx);
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(xb->d));
      return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
    }
  };
};

// ---------------------------------------------------------------------------------------------
// Q4_0 x ActQ8: the nibbles (0..15) are the unsigned operand; the zero point 8 enters through
// ActQ8::bias, which starts lane 0 of the accumulator.

struct Q4_0Kernel {
  using Act = ActQ8;
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_0);
  struct Row {
    __m256i u;
    __m256 dw;
    Row(const uint8_t* row, int64_t b) {
      const BlockQ4_0* wb = reinterpret_cast<const BlockQ4_0*>(row) + b;
      const __m128i q = loadu128(wb->qs);
      u = _mm256_and_si256(_mm256_setr_m128i(q, _mm_srli_epi16(q, 4)), _mm256_set1_epi8(0x0F));
      dw = _mm256_set1_ps(half_to_f32(wb->d));
    }
    __m256 step(const ActQ8* xb, __m256 acc) const {
      const __m256i bias = _mm256_setr_epi32(xb->bias, 0, 0, 0, 0, 0, 0, 0);
      const __m256i isum = dot4(bias, u, loadu256(xb->qs));
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(xb->d));
      return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scale, acc);
    }
  };
};

#if !PARETO_MM_AVX512
template <int R, int T>
void tile_q8_0(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t nb, float* y,
               int64_t ys) {
  tile_blocks<Q8_0Kernel, R, T>(w, ws, a, as, nb, y, ys);
}
template <int R, int T>
void tile_q4_0(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t nb, float* y,
               int64_t ys) {
  tile_blocks<Q4_0Kernel, R, T>(w, ws, a, as, nb, y, ys);
}
#endif

#if PARETO_MM_AVX512
// The scalar quantizer's value for each of 16 lanes (quantize_block in matmul_quant_act.cc).
inline __m512i quantize16(__m512 v, __m512 id) {
  const __m512 lim = _mm512_set1_ps(127.0f);
  v = _mm512_roundscale_ps(_mm512_mul_ps(v, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  v = _mm512_min_ps(_mm512_max_ps(v, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
  return _mm512_cvtps_epi32(v);
}

// quantize_act_q8k: one 16-lane vector per bsums entry.
void quantize_q8k(const float* x, int64_t k, int32_t /*zero_point*/, void* out_v) {
  ActQ8K* out = static_cast<ActQ8K*>(out_v);
  for (int64_t b = 0; b < k / 256; ++b) {
    const float* xb = x + b * 256;
    __m512 amax = _mm512_setzero_ps();
    for (int j = 0; j < 16; ++j)
      amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(xb + 16 * j)));
    const float d = _mm512_reduce_max_ps(amax) / 127.0f;
    const __m512 id = _mm512_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
    ActQ8K& blk = out[b];
    blk.d = d;
    for (int j = 0; j < 16; ++j) {
      const __m512i q = quantize16(_mm512_loadu_ps(xb + 16 * j), id);
      blk.bsums[j] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(blk.qs + 16 * j), _mm512_cvtepi32_epi8(q));
    }
  }
}

#include "ops/matmul_group_kernels_inl.h"
// After the group kernels, whose transpose_16x4 (and group_store) they use.
#include "ops/matmul_half_kernels_inl.h"
#include "ops/matmul_q4k_kernels_inl.h"
#include "ops/matmul_q6k_kernels_inl.h"
#endif  // PARETO_MM_AVX512

// ---------------------------------------------------------------------------------------------
// Q4_K x ActQ8K. Per super-block: A = sum over sub-blocks s of sc[s] * dot(q_s, x_s) and
// B = sum_s mn[s] * sum(x_s), both exact int32 lanes; then acc += A * (d * dx) and
// acc -= B * (dmin * dx).

// Unpacks the 6-bit scales and mins of a Q4_K/Q5_K block (layout: unpack_k_scale_min) four at
// a time in 32-bit words.
inline void unpack_k_scales(const uint8_t* packed, uint8_t sc[8], uint8_t mn[8]) {
  uint32_t a, b, c;
  __builtin_memcpy(&a, packed, 4);
  __builtin_memcpy(&b, packed + 4, 4);
  __builtin_memcpy(&c, packed + 8, 4);
  const uint32_t sc_lo = a & 0x3F3F3F3Fu;
  const uint32_t mn_lo = b & 0x3F3F3F3Fu;
  const uint32_t sc_hi = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
  const uint32_t mn_hi = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
  __builtin_memcpy(sc, &sc_lo, 4);
  __builtin_memcpy(sc + 4, &sc_hi, 4);
  __builtin_memcpy(mn, &mn_lo, 4);
  __builtin_memcpy(mn + 4, &mn_hi, 4);
}

struct Q4_KKernel {
  using Act = ActQ8K;
  static constexpr int64_t kBlockBytes = sizeof(BlockQ4_K);
  struct Row {
    __m256i u[8], scales[8], mins;
    float d, dmin;
    Row(const uint8_t* row, int64_t b) {
      const BlockQ4_K* wb = reinterpret_cast<const BlockQ4_K*>(row) + b;
      uint8_t sc[8], mn[8];
      unpack_k_scales(wb->scales, sc, mn);
      const __m256i low4 = _mm256_set1_epi8(0x0F);
      for (int j = 0; j < 4; ++j) {
        const __m256i q = loadu256(wb->qs + 32 * j);
        u[2 * j] = _mm256_and_si256(q, low4);
        u[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      }
      for (int s = 0; s < 8; ++s) scales[s] = lane_scales(sc[s], sc[s]);
      // Each min twice: the activation sums come per 16 values.
      mins = _mm256_cvtepu8_epi16(
          _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn)),
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn))));
      d = half_to_f32(wb->d);
      dmin = half_to_f32(wb->dmin);
    }
    __m256 step(const ActQ8K* xb, __m256 acc) const {
      __m256i a = _mm256_setzero_si256();
      for (int s = 0; s < 8; ++s)
        a = _mm256_add_epi32(a, dot4_scaled(u[s], loadu256(xb->qs + 32 * s), scales[s]));
      const __m256i m = _mm256_madd_epi16(loadu256(xb->bsums), mins);
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), _mm256_set1_ps(d * xb->d), acc);
      return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(dmin * xb->d), acc);
    }
  };
};

template <int R, int T>
void tile_q4_k(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t nb, float* y,
               int64_t ys) {
  tile_blocks<Q4_KKernel, R, T>(w, ws, a, as, nb, y, ys);
}

// ---------------------------------------------------------------------------------------------
// Q6_K x ActQ8K. The 6-bit values (0..63) are the unsigned operand; the zero point 32 is taken
// out once per super-block: A - 32 * sum_i sc[i] * bsums[i].

struct Q6_KKernel {
  using Act = ActQ8K;
  static constexpr int64_t kBlockBytes = sizeof(BlockQ6_K);
  struct Row {
    __m256i u[8], scales[8], scales16;
    float d;
    Row(const uint8_t* row, int64_t b) {
      const BlockQ6_K* wb = reinterpret_cast<const BlockQ6_K*>(row) + b;
      const __m256i low4 = _mm256_set1_epi8(0x0F);
      const __m256i bits45 = _mm256_set1_epi8(0x30);
      // u[c]: elements 32c..32c+31 (see BlockQ6_K for the bit layout).
      for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = loadu256(wb->ql + 64 * h);
        const __m256i ql1 = loadu256(wb->ql + 64 * h + 32);
        const __m256i qh = loadu256(wb->qh + 32 * h);
        u[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                                       _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
        u[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                       _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
        u[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                       _mm256_and_si256(qh, bits45));
        u[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
      }
      for (int c = 0; c < 8; ++c) scales[c] = lane_scales(wb->scales[2 * c], wb->scales[2 * c + 1]);
      scales16 = _mm256_cvtepi8_epi16(loadu128(wb->scales));
      d = half_to_f32(wb->d);
    }
    __m256 step(const ActQ8K* xb, __m256 acc) const {
      __m256i a = _mm256_setzero_si256();
      for (int c = 0; c < 8; ++c)
        a = _mm256_add_epi32(a, dot4_scaled(u[c], loadu256(xb->qs + 32 * c), scales[c]));
      const __m256i zp = _mm256_madd_epi16(loadu256(xb->bsums), scales16);
      a = _mm256_sub_epi32(a, _mm256_slli_epi32(zp, 5));
      return _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), _mm256_set1_ps(d * xb->d), acc);
    }
  };
};

template <int R, int T>
void tile_q6_k(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t nb, float* y,
               int64_t ys) {
  tile_blocks<Q6_KKernel, R, T>(w, ws, a, as, nb, y, ys);
}

// ---------------------------------------------------------------------------------------------
// Float weights x F32 activations: one vector accumulator per output, kLanes elements a step;
// the K % kLanes tail goes through zero-padded copies so every output runs the same steps.

#if PARETO_MM_AVX512
constexpr int kLanes = 16;
using VecF = __m512;
inline VecF vzero() {
  return _mm512_setzero_ps();
}
inline VecF vload(const float* p) {
  return _mm512_loadu_ps(p);
}
inline VecF vfma(VecF a, VecF b, VecF c) {
  return _mm512_fmadd_ps(a, b, c);
}
inline float vhsum(VecF v) {
  return hsum512(v);
}
// maskz forms throughout: the unmasked ones trip a false -Wmaybe-uninitialized in GCC 12's
// headers (they start from _mm512_undefined_*).
inline VecF vload_f16(const uint16_t* p) {
  return _mm512_maskz_cvtph_ps(0xFFFF, loadu256(p));
}
inline VecF vload_bf16(const uint16_t* p) {
  const __m512i wide = _mm512_maskz_cvtepu16_epi32(0xFFFF, loadu256(p));
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, wide, 16));
}
#else
constexpr int kLanes = 8;
using VecF = __m256;
inline VecF vzero() {
  return _mm256_setzero_ps();
}
inline VecF vload(const float* p) {
  return _mm256_loadu_ps(p);
}
inline VecF vfma(VecF a, VecF b, VecF c) {
  return _mm256_fmadd_ps(a, b, c);
}
inline float vhsum(VecF v) {
  return hsum256(v);
}
inline VecF vload_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(loadu128(p));
}
inline VecF vload_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(loadu128(p)), 16));
}
#endif

struct LoadF32 {
  using Elem = float;
  static VecF load(const float* p) { return vload(p); }
};
struct LoadF16 {
  using Elem = uint16_t;
  static VecF load(const uint16_t* p) { return vload_f16(p); }
};
struct LoadBF16 {
  using Elem = uint16_t;
  static VecF load(const uint16_t* p) { return vload_bf16(p); }
};

template <class L, int R, int T>
void tile_float(const uint8_t* w, size_t w_stride, const uint8_t* act, size_t act_stride, int64_t k,
                float* y, int64_t y_stride) {
  using E = typename L::Elem;
  VecF acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = vzero();
  const int64_t distance = prefetch_distance<R>(w_stride);
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    VecF wv[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* wr = w + r * w_stride + i * static_cast<int64_t>(sizeof(E));
      prefetch_ahead(wr, distance);
      wv[r] = L::load(reinterpret_cast<const E*>(wr));
    }
    for (int t = 0; t < T; ++t) {
      const VecF xv = vload(reinterpret_cast<const float*>(act + t * act_stride) + i);
      for (int r = 0; r < R; ++r) acc[r][t] = vfma(xv, wv[r], acc[r][t]);
    }
  }
  if (i < k) {
    const int64_t rest = k - i;
    E wtail[kLanes] = {};
    float xtail[kLanes] = {};
    for (int r = 0; r < R; ++r) {
      __builtin_memcpy(wtail, reinterpret_cast<const E*>(w + r * w_stride) + i, rest * sizeof(E));
      const VecF wv = L::load(wtail);
      for (int t = 0; t < T; ++t) {
        __builtin_memcpy(xtail, reinterpret_cast<const float*>(act + t * act_stride) + i,
                         rest * sizeof(float));
        acc[r][t] = vfma(vload(xtail), wv, acc[r][t]);
      }
    }
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) y[t * y_stride + r] = vhsum(acc[r][t]);
}

template <int R, int T>
void tile_f32(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t k, float* y,
              int64_t ys) {
  tile_float<LoadF32, R, T>(w, ws, a, as, k, y, ys);
}
template <int R, int T>
void tile_f16(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t k, float* y,
              int64_t ys) {
  tile_float<LoadF16, R, T>(w, ws, a, as, k, y, ys);
}
template <int R, int T>
void tile_bf16(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t k, float* y,
               int64_t ys) {
  tile_float<LoadBF16, R, T>(w, ws, a, as, k, y, ys);
}

// ---------------------------------------------------------------------------------------------
// Tables.

// fn[rows - 1][tokens - 1] for rows <= 4 and tokens <= 4 or 8; the rest of the table is null.
#define PARETO_TILE_ROW4(fn, r) \
  { fn<r, 1>, fn<r, 2>, fn<r, 3>, fn<r, 4> }
#define PARETO_TILE_ROW8(fn, r) \
  { fn<r, 1>, fn<r, 2>, fn<r, 3>, fn<r, 4>, fn<r, 5>, fn<r, 6>, fn<r, 7>, fn<r, 8> }
#define PARETO_TILES(row, fn) \
  { row(fn, 1), row(fn, 2), row(fn, 3), row(fn, 4) }

using matmul_detail::ActKind;
using matmul_detail::TileTable;

// AVX2 has 16 vector registers: 4 rows x 2 tokens keeps the accumulators and operands in them.
constexpr int kTileTokens = PARETO_MM_AVX512 ? 4 : 2;

#if PARETO_MM_AVX512
constexpr matmul_detail::QuantizeFn kQuantizeQ8K = quantize_q8k;
#else
constexpr matmul_detail::QuantizeFn kQuantizeQ8K = nullptr;
#endif

#if PARETO_MM_AVX512
// Q8_0 and Q4_0: groups of 16 rows (matmul_group_kernels_inl.h), up to 8 tokens a tile.
// PARETO_GROUP_FNS also serves the packed K-quant tables below.
#define PARETO_GROUP_FNS(fn, ...)                                                                  \
  {                                                                                                \
    fn<__VA_ARGS__ 1>, fn<__VA_ARGS__ 2>, fn<__VA_ARGS__ 3>, fn<__VA_ARGS__ 4>, fn<__VA_ARGS__ 5>, \
        fn<__VA_ARGS__ 6>, fn<__VA_ARGS__ 7>, fn<__VA_ARGS__ 8>                                    \
  }
const TileTable kQ8_0Tiles = {ActKind::kQ8,
                              128,
                              quantize_q8,
                              0,
                              0,
                              {},
                              pack_group<GroupQ8_0>,
                              PARETO_GROUP_FNS(group_tile),
                              PARETO_GROUP_FNS(group_direct, GroupQ8_0, ),
                              repack_group<GroupQ8_0>,
                              PARETO_GROUP_FNS(group_resident, GroupQ8_0, ),
                              nullptr,  // tiles read the resident layout as it is
                              {},
                              GroupQ8_0::kPrefetchNextGroup};
const TileTable kQ4_0Tiles = {ActKind::kQ8,
                              8,
                              quantize_q8,
                              0,
                              0,
                              {},
                              pack_group<GroupQ4_0>,
                              PARETO_GROUP_FNS(group_tile),
                              PARETO_GROUP_FNS(group_direct, GroupQ4_0, ),
                              repack_group<GroupQ4_0>,
                              PARETO_GROUP_FNS(group_resident, GroupQ4_0, ),
                              expand_group<GroupQ4_0>};
#else
const TileTable kQ8_0Tiles = {
    ActKind::kQ8, 0, nullptr, 4, kTileTokens, PARETO_TILES(PARETO_TILE_ROW4, tile_q8_0)};
const TileTable kQ4_0Tiles = {
    ActKind::kQ8, 8, nullptr, 4, kTileTokens, PARETO_TILES(PARETO_TILE_ROW4, tile_q4_0)};
#endif
#if PARETO_MM_AVX512
// Q4_K and Q6_K: the file layout's tiles, and matmul_q4k/q6k_kernels_inl.h for the resident
// packed layout.
#define PARETO_KQUANT_TILES(tile, repack, resident)                                                \
  {                                                                                                \
    ActKind::kQ8K, 0, kQuantizeQ8K, 4, kTileTokens, PARETO_TILES(PARETO_TILE_ROW4, tile), nullptr, \
        {}, {}, repack, PARETO_GROUP_FNS(resident), nullptr                                        \
  }
const TileTable kQ4_KTiles = PARETO_KQUANT_TILES(tile_q4_k, q4k_repack, q4k_resident);
const TileTable kQ6_KTiles = PARETO_KQUANT_TILES(tile_q6_k, q6k_repack, q6k_resident);
#undef PARETO_KQUANT_TILES
#undef PARETO_GROUP_FNS
#else
const TileTable kQ4_KTiles = {
    ActKind::kQ8K, 0, kQuantizeQ8K, 4, kTileTokens, PARETO_TILES(PARETO_TILE_ROW4, tile_q4_k)};
const TileTable kQ6_KTiles = {
    ActKind::kQ8K, 0, kQuantizeQ8K, 4, kTileTokens, PARETO_TILES(PARETO_TILE_ROW4, tile_q6_k)};
#endif
// Float weights on AVX-512: 4 x 6 tiles (24 accumulators). Activations need no conversion, so
// more tokens per weight vector spread each row's F16/BF16 widening over more FMAs: 4-8% faster
// than 4 x 4 on the shapes of bench/matmul_bench.cc at 32-128 tokens (3 x 8 spills registers).
constexpr int kFloatTileTokens = PARETO_MM_AVX512 ? 6 : kTileTokens;
const TileTable kF32Tiles = {
    ActKind::kF32, 0, nullptr, 4, kFloatTileTokens, PARETO_TILES(PARETO_TILE_ROW8, tile_f32)};
#if PARETO_MM_AVX512
// F16 and BF16 on AVX-512: the dot-form tiles for the file's layout, the transposed units of
// matmul_half_kernels_inl.h for the resident packed layout.
#define PARETO_HALF_TILES(tile, widen)                                                             \
  {                                                                                                \
    ActKind::kF32, 0, nullptr, 4, kFloatTileTokens, PARETO_TILES(PARETO_TILE_ROW8, tile), nullptr, \
        {}, {}, half_repack, {}, nullptr, {                                                        \
      half_tile<widen, 1>, half_tile<widen, 2>, half_tile<widen, 3>, half_tile<widen, 4>,          \
          half_tile<widen, 5>, half_tile<widen, 6>, half_tile<widen, 7>, half_tile<widen, 8>,      \
          half_tile<widen, 9>, half_tile<widen, 10>, half_tile<widen, 11>, half_tile<widen, 12>    \
    }                                                                                              \
  }
const TileTable kF16Tiles = PARETO_HALF_TILES(tile_f16, WidenF16);
const TileTable kBF16Tiles = PARETO_HALF_TILES(tile_bf16, WidenBF16);
#undef PARETO_HALF_TILES
#else
const TileTable kF16Tiles = {
    ActKind::kF32, 0, nullptr, 4, kFloatTileTokens, PARETO_TILES(PARETO_TILE_ROW8, tile_f16)};
const TileTable kBF16Tiles = {
    ActKind::kF32, 0, nullptr, 4, kFloatTileTokens, PARETO_TILES(PARETO_TILE_ROW8, tile_bf16)};
#endif

#undef PARETO_TILES
#undef PARETO_TILE_ROW8
#undef PARETO_TILE_ROW4

const TileTable* tiles_for(DType t) {
  switch (t) {
    case DType::Q8_0:
      return &kQ8_0Tiles;
    case DType::Q4_0:
      return &kQ4_0Tiles;
    case DType::Q4_K:
      return &kQ4_KTiles;
    case DType::Q6_K:
      return &kQ6_KTiles;
    case DType::F32:
      return &kF32Tiles;
    case DType::F16:
      return &kF16Tiles;
    case DType::BF16:
      return &kBF16Tiles;
    default:
      return nullptr;
  }
}
