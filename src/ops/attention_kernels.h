// SIMD kernels of paged attention (ops/attention.cc), internal to it: the four steps of a
// tile at each SIMD level, and the F32 -> F16 conversion of stored K/V rows. Every level keeps
// the same reduction order per output lane within itself; levels differ in the last bits.
#pragma once

#include <cstdint>

#include "weights/simd_isa.h"

namespace pareto::attention_detail {

// Positions per tile: scores of a tile fit in two AVX-512 registers per query head.
constexpr int64_t kTile = 32;
// Scratch rows are padded to a multiple of this many floats (one AVX-512 vector).
constexpr int64_t kDimAlign = 16;

// The four steps of a tile. Shapes: q [group, padded], k and v [kTile, padded] (rows < count
// valid), scores [group, kTile], acc [padded]; padded is a multiple of kDimAlign.
struct Kernels {
  SimdIsa isa;
  // dst[i] = src[i] for i < n (F16 -> F32).
  void (*f16_to_f32)(const uint16_t* src, float* dst, int64_t n);
  // scores[g, j] = dot(q[g], k[j]) * scale for j < count.
  void (*scores)(const float* q, const float* k, int64_t group, int64_t count, int64_t padded,
                 float scale, float* scores);
  // acc = acc * correction + sum_j p[j] * v[j] over j < count.
  void (*accumulate)(const float* p, const float* v, int64_t count, int64_t padded,
                     float correction, float* acc);
};

// The kernels of one SIMD level (the CPU must support it).
Kernels kernels_for(SimdIsa isa);

// dst[i] = src[i] as F16 (round to nearest even, as f32_to_fp16) for i < n, at the best level
// the CPU has.
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);

}  // namespace pareto::attention_detail
