#include "weights/dequantize.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "base/half.h"
#include "weights/quant_blocks.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

// ---------------------------------------------------------------------------------------------
// Scalar reference: the layouts of quant_blocks.h spelled out one element at a time.

// Hardware half->float conversion (F16C) quiets signalling NaNs; do the same so the SIMD path
// can use it and still match bit for bit.
float half_ref(uint16_t h) {
  float f = fp16_to_f32(h);
  if (std::isnan(f)) f = std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 0x00400000u);
  return f;
}

uint32_t load_u32le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void ref_q4_0(const BlockQ4_0* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const float d = half_ref(b[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>((b[i].qs[j] & 0xF) - 8);
      y[j + kQK / 2] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

void ref_q4_1(const BlockQ4_1* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const float d = half_ref(b[i].d);
    const float m = half_ref(b[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = std::fma(static_cast<float>(b[i].qs[j] & 0xF), d, m);
      y[j + kQK / 2] = std::fma(static_cast<float>(b[i].qs[j] >> 4), d, m);
    }
  }
}

void ref_q5_0(const BlockQ5_0* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const float d = half_ref(b[i].d);
    const uint32_t qh = load_u32le(b[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (b[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
      y[j] = d * static_cast<float>(lo - 16);
      y[j + kQK / 2] = d * static_cast<float>(hi - 16);
    }
  }
}

void ref_q5_1(const BlockQ5_1* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const float d = half_ref(b[i].d);
    const float m = half_ref(b[i].m);
    const uint32_t qh = load_u32le(b[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (b[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
      y[j] = std::fma(static_cast<float>(lo), d, m);
      y[j + kQK / 2] = std::fma(static_cast<float>(hi), d, m);
    }
  }
}

void ref_q8_0(const BlockQ8_0* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const float d = half_ref(b[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

// Q4_K and Q5_K differ only in the fifth bit (qh == nullptr for Q4_K).
void ref_k_4or5(uint16_t d_half, uint16_t dmin_half, const uint8_t* scales, const uint8_t* qs,
                const uint8_t* qh, float* y) {
  const float d = half_ref(d_half);
  const float dmin = half_ref(dmin_half);
  for (int j = 0; j < 4; ++j) {  // 64 elements: two sub-blocks sharing 32 bytes of qs
    for (int half = 0; half < 2; ++half) {
      const int sub = 2 * j + half;
      uint8_t sc, mn;
      unpack_k_scale_min(scales, sub, &sc, &mn);
      const float ds = d * static_cast<float>(sc);
      const float neg_min = -(dmin * static_cast<float>(mn));
      for (int l = 0; l < 32; ++l) {
        int q = half == 0 ? (qs[32 * j + l] & 0xF) : (qs[32 * j + l] >> 4);
        if (qh != nullptr) q |= ((qh[l] >> sub) & 1) << 4;
        y[32 * sub + l] = std::fma(static_cast<float>(q), ds, neg_min);
      }
    }
  }
}

void ref_q4_k(const BlockQ4_K* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQKK)
    ref_k_4or5(b[i].d, b[i].dmin, b[i].scales, b[i].qs, nullptr, y);
}

void ref_q5_k(const BlockQ5_K* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQKK)
    ref_k_4or5(b[i].d, b[i].dmin, b[i].scales, b[i].qs, b[i].qh, y);
}

void ref_q6_k(const BlockQ6_K* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i) {
    const float d = half_ref(b[i].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int q[4] = {
            ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32,
            ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32,
            ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32,
            ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32,
        };
        for (int k = 0; k < 4; ++k) {
          const float ds = d * static_cast<float>(sc[2 * k + l / 16]);
          y[32 * k + l] = ds * static_cast<float>(q[k]);
        }
      }
    }
  }
}

void ref_f16(const uint16_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = half_ref(src[i]);
}

void ref_bf16(const uint16_t* src, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(src[i]);
}

void check_row(DType t, int64_t n) {
  if (!can_dequantize(t)) fail("dequantize: unsupported type {}", dtype_name(t));
  const int64_t block = traits(t).block_elems;
  if (n < 0 || n % block != 0)
    fail("dequantize: row of {} elements is not a multiple of {}'s block of {}", n, dtype_name(t),
         block);
}

// ---------------------------------------------------------------------------------------------
// AVX2 (+FMA, F16C). Each function computes exactly the reference's float operations, 8 lanes
// at a time: the same products, the same fused multiply-adds, no reassociation.

#define PARETO_AVX2 __attribute__((target("avx2,fma,f16c")))
#define PARETO_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

// Block scales in one instruction: the scalar fp16_to_f32 with its subnormal loop dominated
// Q8_0 decoding. half_ref quiets NaNs exactly as F16C does, so results stay bit-identical.
PARETO_AVX2 inline float half_f16c(uint16_t h) {
  return _cvtsh_ss(h);
}

// y[0..8) = d * q[0..8) for the low 8 int8 lanes of q.
PARETO_AVX2 inline void store_scaled8(__m128i q, __m256 d, float* y) {
  _mm256_storeu_ps(y, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
}

// y[0..16) = d * q[0..16).
PARETO_AVX2 inline void store_scaled16(__m128i q, __m256 d, float* y) {
  store_scaled8(q, d, y);
  store_scaled8(_mm_srli_si128(q, 8), d, y + 8);
}

// y[0..32) = d * q[0..32).
PARETO_AVX2 inline void store_scaled32(__m256i q, __m256 d, float* y) {
  store_scaled16(_mm256_castsi256_si128(q), d, y);
  store_scaled16(_mm256_extracti128_si256(q, 1), d, y + 16);
}

// y[0..32) = fma(q[0..32), d, m).
PARETO_AVX2 inline void store_affine32(__m256i q, __m256 d, __m256 m, float* y) {
  for (int k = 0; k < 4; ++k) {
    const __m128i part = k < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
    const __m128i q8 = (k & 1) ? _mm_srli_si128(part, 8) : part;
    const __m256 qf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
    _mm256_storeu_ps(y + 8 * k, _mm256_fmadd_ps(qf, d, m));
  }
}

// The 32 nibbles of a legacy block in element order: low nibbles, then high nibbles.
PARETO_AVX2 inline __m256i unpack_nibbles16(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0xF);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), mask), _mm_and_si128(v, mask));
}

// Byte i = 0x10 where bit i of the little-endian qh is set, else 0.
PARETO_AVX2 inline __m256i expand_bits32(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                           2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

PARETO_AVX2 void avx2_q4_0(const BlockQ4_0* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const __m256i q = _mm256_sub_epi8(unpack_nibbles16(b[i].qs), _mm256_set1_epi8(8));
    store_scaled32(q, _mm256_set1_ps(half_f16c(b[i].d)), y);
  }
}

PARETO_AVX2 void avx2_q4_1(const BlockQ4_1* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    store_affine32(unpack_nibbles16(b[i].qs), _mm256_set1_ps(half_f16c(b[i].d)),
                   _mm256_set1_ps(half_f16c(b[i].m)), y);
  }
}

PARETO_AVX2 void avx2_q5_0(const BlockQ5_0* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const __m256i q = _mm256_or_si256(unpack_nibbles16(b[i].qs), expand_bits32(b[i].qh));
    store_scaled32(_mm256_sub_epi8(q, _mm256_set1_epi8(16)), _mm256_set1_ps(half_f16c(b[i].d)), y);
  }
}

PARETO_AVX2 void avx2_q5_1(const BlockQ5_1* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const __m256i q = _mm256_or_si256(unpack_nibbles16(b[i].qs), expand_bits32(b[i].qh));
    store_affine32(q, _mm256_set1_ps(half_f16c(b[i].d)), _mm256_set1_ps(half_f16c(b[i].m)), y);
  }
}

PARETO_AVX2 void avx2_q8_0(const BlockQ8_0* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQK) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs));
    store_scaled32(q, _mm256_set1_ps(half_f16c(b[i].d)), y);
  }
}

PARETO_AVX2 void avx2_k_4or5(uint16_t d_half, uint16_t dmin_half, const uint8_t* scales,
                             const uint8_t* qs, const uint8_t* qh, float* y) {
  const float d = half_f16c(d_half);
  const float dmin = half_f16c(dmin_half);
  const __m256i nibble = _mm256_set1_epi8(0xF);
  const __m256i fifth = _mm256_set1_epi8(0x10);
  const __m256i high_bits =
      qh != nullptr ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh)) : __m256i{};
  for (int j = 0; j < 4; ++j) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * j));
    for (int half = 0; half < 2; ++half) {
      const int sub = 2 * j + half;
      __m256i q = _mm256_and_si256(half == 0 ? v : _mm256_srli_epi16(v, 4), nibble);
      if (qh != nullptr) {
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << sub));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(high_bits, bit), bit);
        q = _mm256_or_si256(q, _mm256_and_si256(set, fifth));
      }
      uint8_t sc, mn;
      unpack_k_scale_min(scales, sub, &sc, &mn);
      const float ds = d * static_cast<float>(sc);
      const float neg_min = -(dmin * static_cast<float>(mn));
      store_affine32(q, _mm256_set1_ps(ds), _mm256_set1_ps(neg_min), y + 32 * sub);
    }
  }
}

PARETO_AVX2 void avx2_q4_k(const BlockQ4_K* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQKK)
    avx2_k_4or5(b[i].d, b[i].dmin, b[i].scales, b[i].qs, nullptr, y);
}

PARETO_AVX2 void avx2_q5_k(const BlockQ5_K* b, float* y, int64_t num_blocks) {
  for (int64_t i = 0; i < num_blocks; ++i, y += kQKK)
    avx2_k_4or5(b[i].d, b[i].dmin, b[i].scales, b[i].qs, b[i].qh, y);
}

PARETO_AVX2 void avx2_q6_k(const BlockQ6_K* b, float* y, int64_t num_blocks) {
  const __m256i nibble = _mm256_set1_epi8(0xF);
  const __m256i two_bits = _mm256_set1_epi8(0x30);
  for (int64_t i = 0; i < num_blocks; ++i) {
    const float d = half_f16c(b[i].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].ql + 64 * h));
      const __m256i ql1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh + 32 * h));
      // Shifts are per 16-bit lane; the masks drop what crosses from the neighbouring byte.
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, nibble),
                          _mm256_and_si256(_mm256_slli_epi16(qh, 4), two_bits)),
          _mm256_or_si256(_mm256_and_si256(ql1, nibble),
                          _mm256_and_si256(_mm256_slli_epi16(qh, 2), two_bits)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble),
                          _mm256_and_si256(qh, two_bits)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble),
                          _mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits)),
      };
      const int8_t* sc = b[i].scales + 8 * h;
      for (int k = 0; k < 4; ++k) {
        const __m256i qk = _mm256_sub_epi8(q[k], _mm256_set1_epi8(32));
        const float ds0 = d * static_cast<float>(sc[2 * k]);
        const float ds1 = d * static_cast<float>(sc[2 * k + 1]);
        store_scaled16(_mm256_castsi256_si128(qk), _mm256_set1_ps(ds0), y + 32 * k);
        store_scaled16(_mm256_extracti128_si256(qk, 1), _mm256_set1_ps(ds1), y + 32 * k + 16);
      }
    }
  }
}

PARETO_AVX2 void avx2_f16(const uint16_t* src, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  ref_f16(src + i, y + i, n - i);
}

PARETO_AVX2 void avx2_bf16(const uint16_t* src, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_slli_epi32(w, 16));
  }
  ref_bf16(src + i, y + i, n - i);
}

// GCC 12 warns about the self-initialized "undefined" registers inside the unmasked forms of
// some AVX-512 intrinsics, hence the maskz forms with all lanes enabled.
// The plain conversions are pure bandwidth, so they get the wider registers too; the block
// decoders are shuffle-bound and stay at 256 bits.
PARETO_AVX512 void avx512_f16(const uint16_t* src, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i,
                     _mm512_maskz_cvtph_ps(
                         0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  ref_f16(src + i, y + i, n - i);
}

PARETO_AVX512 void avx512_bf16(const uint16_t* src, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i w = _mm512_maskz_cvtepu16_epi32(
        0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    _mm512_storeu_si512(y + i, _mm512_maskz_slli_epi32(0xFFFF, w, 16));
  }
  ref_bf16(src + i, y + i, n - i);
}

}  // namespace

bool can_dequantize(DType t) {
  // The type table marks what Pareto implements; this file implements all of it.
  const auto tr = dtype_traits(static_cast<uint32_t>(t));
  return tr.has_value() && tr->supported;
}

void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n) {
  check_row(t, n);
  const int64_t num_blocks = n / traits(t).block_elems;
  switch (t) {
    case DType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16:
      return ref_f16(static_cast<const uint16_t*>(src), dst, n);
    case DType::BF16:
      return ref_bf16(static_cast<const uint16_t*>(src), dst, n);
    case DType::Q4_0:
      return ref_q4_0(static_cast<const BlockQ4_0*>(src), dst, num_blocks);
    case DType::Q4_1:
      return ref_q4_1(static_cast<const BlockQ4_1*>(src), dst, num_blocks);
    case DType::Q5_0:
      return ref_q5_0(static_cast<const BlockQ5_0*>(src), dst, num_blocks);
    case DType::Q5_1:
      return ref_q5_1(static_cast<const BlockQ5_1*>(src), dst, num_blocks);
    case DType::Q8_0:
      return ref_q8_0(static_cast<const BlockQ8_0*>(src), dst, num_blocks);
    case DType::Q4_K:
      return ref_q4_k(static_cast<const BlockQ4_K*>(src), dst, num_blocks);
    case DType::Q5_K:
      return ref_q5_k(static_cast<const BlockQ5_K*>(src), dst, num_blocks);
    case DType::Q6_K:
      return ref_q6_k(static_cast<const BlockQ6_K*>(src), dst, num_blocks);
    default:
      fail("dequantize: unsupported type {}", dtype_name(t));
  }
}

void dequantize_row_isa(SimdIsa isa, DType t, const void* src, float* dst, int64_t n) {
  if (isa == SimdIsa::kScalar || t == DType::F32) return dequantize_row_ref(t, src, dst, n);
  if (!cpu_supports(isa)) fail("dequantize: this CPU cannot run {} code", simd_isa_name(isa));
  check_row(t, n);
  const int64_t num_blocks = n / traits(t).block_elems;
  const bool wide = isa == SimdIsa::kAvx512;
  switch (t) {
    case DType::F16:
      if (wide) return avx512_f16(static_cast<const uint16_t*>(src), dst, n);
      return avx2_f16(static_cast<const uint16_t*>(src), dst, n);
    case DType::BF16:
      if (wide) return avx512_bf16(static_cast<const uint16_t*>(src), dst, n);
      return avx2_bf16(static_cast<const uint16_t*>(src), dst, n);
    case DType::Q4_0:
      return avx2_q4_0(static_cast<const BlockQ4_0*>(src), dst, num_blocks);
    case DType::Q4_1:
      return avx2_q4_1(static_cast<const BlockQ4_1*>(src), dst, num_blocks);
    case DType::Q5_0:
      return avx2_q5_0(static_cast<const BlockQ5_0*>(src), dst, num_blocks);
    case DType::Q5_1:
      return avx2_q5_1(static_cast<const BlockQ5_1*>(src), dst, num_blocks);
    case DType::Q8_0:
      return avx2_q8_0(static_cast<const BlockQ8_0*>(src), dst, num_blocks);
    case DType::Q4_K:
      return avx2_q4_k(static_cast<const BlockQ4_K*>(src), dst, num_blocks);
    case DType::Q5_K:
      return avx2_q5_k(static_cast<const BlockQ5_K*>(src), dst, num_blocks);
    case DType::Q6_K:
      return avx2_q6_k(static_cast<const BlockQ6_K*>(src), dst, num_blocks);
    default:
      fail("dequantize: unsupported type {}", dtype_name(t));
  }
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  dequantize_row_isa(active_simd_isa(), t, src, dst, n);
}

}  // namespace pareto
