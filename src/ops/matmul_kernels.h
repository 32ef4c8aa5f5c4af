// Internal interface between matmul.cc (argument checks, activation preparation, threading,
// cache blocking) and the per-ISA register-tile kernels (matmul_kernels_avx2.cc,
// matmul_kernels_avx512.cc, both generated from matmul_kernels_inl.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/dtype.h"

namespace pareto::matmul_detail {

// What a kernel reads as activations.
enum class ActKind {
  kF32,     // the caller's F32 rows as they are
  kQ8,      // ActQ8 blocks of 32 (matmul_quant_act.h)
  kQ8K,     // ActQ8K super-blocks of 256
  kQ8Pair,  // ActQ8Pair: two 32-blocks per 64-byte vector (AVX-512 kernels)
};

// Quantizes one token row x: [k] into the layout of the table's ActKind (for kQ8Pair,
// bit-identical to quantize_act_q8_pairs).
using QuantizeFn = void (*)(const float* x, int64_t k, int32_t zero_point, void* out);

// Computes a tile of rows x tokens outputs:
//   y[t * y_stride + r] = sum_k act[t][k] * W[r][k]   for r < rows, t < tokens
// w: the tile's first weight row, rows w_stride bytes apart; act: the first token's prepared
// activations, tokens act_stride bytes apart; num_blocks: K in units of the weight type's
// block (elements for F32/F16/BF16).
// Every output is accumulated by its own chain of vector operations, the same for every tile
// shape, so y[t, r] does not depend on which tile (or thread, or batch) computed it.
using TileFn = void (*)(const uint8_t* w, size_t w_stride, const uint8_t* act, size_t act_stride,
                        int64_t num_blocks, float* y, int64_t y_stride);

inline constexpr int kMaxTileRows = 4;
inline constexpr int kMaxTileTokens = 8;

struct TileTable {
  ActKind act;
  int32_t zero_point;   // for kQ8/kQ8Pair: the zero point folded into ActQ8::bias
  QuantizeFn quantize;  // nullptr: the scalar quantizer of matmul_quant_act.h
  int tile_rows;        // <= kMaxTileRows
  int tile_tokens;      // <= kMaxTileTokens
  TileFn fn[kMaxTileRows][kMaxTileTokens];  // fn[rows - 1][tokens - 1]
};

// The kernels for weight type t, or nullptr when that level has none (matmul then falls back to
// dequantizing rows). The AVX-512 table needs AVX512_VNNI on top of SimdIsa::kAvx512.
const TileTable* tiles_avx2(DType t);
const TileTable* tiles_avx512(DType t);

}  // namespace pareto::matmul_detail
