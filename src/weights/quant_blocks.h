// Block layouts of the GGUF quantized types (ggml's block_q4_0 ... block_q6_k), byte for byte.
// Scales are IEEE half floats stored as raw uint16_t (see base/half.h). All structs are
// byte-aligned so they can be overlaid on unaligned data inside a mapped file.
//
// Decoded value of element i of a block:
//   Q4_0  d * (q[i] - 8)              q: 4 bits            Q4_1  q[i] * d + m
//   Q5_0  d * (q[i] - 16)             q: 5 bits            Q5_1  q[i] * d + m
//   Q8_0  d * q[i]                    q: int8
//   Q4_K  (d * sc[s]) * q[i] - dmin * mn[s]   s = i / 32, sc/mn: 6 bits, q: 4 bits
//   Q5_K  as Q4_K with 5-bit q
//   Q6_K  (d * sc[s]) * (q[i] - 32)   s = i / 16, sc: int8, q: 6 bits
// The affine forms (Q4_1, Q5_1, Q4_K, Q5_K) are evaluated as one fused multiply-add, so every
// implementation rounds exactly once and the reference and SIMD decoders agree bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pareto {

inline constexpr int kQK = 32;           // elements per block of the legacy types
inline constexpr int kQKK = 256;         // elements per super-block of the K-quants
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales and mins of Q4_K / Q5_K

// Element i < 16 is the low nibble of qs[i], element i + 16 the high nibble.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};

// Nibbles as in Q4_0; bit i of the little-endian 32-bit qh is the fifth bit of element i.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// 8 sub-blocks of 32. Each group of 64 elements j (0..3) takes 32 bytes of qs: sub-block 2j
// from the low nibbles, sub-block 2j + 1 from the high nibbles. Scales and mins: see
// unpack_k_scale_min.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQKK / 2];
};

// As Q4_K, plus a fifth bit per element: element l of group j's low-nibble sub-block uses bit
// 2j of qh[l], the high-nibble sub-block bit 2j + 1.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};

// Two halves of 128 elements, each using 64 bytes of ql, 32 of qh and 8 scales. In a half,
// for l < 32: element l = low nibble of ql[l] | bits 0-1 of qh[l] << 4, element l + 32 = low
// nibble of ql[l + 32] | bits 2-3, element l + 64 = high nibble of ql[l] | bits 4-5, element
// l + 96 = high nibble of ql[l + 32] | bits 6-7. 16 scales, one per 16 elements.
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};

static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) <= 2);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// Scale and min of sub-block j (0..7) of a Q4_K / Q5_K block, both 6-bit. Sub-blocks 0-3 keep
// them in the low 6 bits of bytes j and j + 4; sub-blocks 4-7 keep their low 4 bits in the
// nibbles of byte j + 4 and their top 2 bits in the spare high bits of bytes j - 4 and j.
inline void unpack_k_scale_min(const uint8_t* scales, int j, uint8_t* sc, uint8_t* mn) {
  if (j < 4) {
    *sc = scales[j] & 63;
    *mn = scales[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
    *mn = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// Inverse of unpack_k_scale_min for all 8 sub-blocks; sc and mn must be < 64.
inline void pack_k_scale_min(const uint8_t sc[8], const uint8_t mn[8], uint8_t* scales) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
}

}  // namespace pareto
