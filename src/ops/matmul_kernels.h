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
  kF32,  // the caller's F32 rows as they are
  kQ8,   // ActQ8 blocks of 32 (matmul_quant_act.h)
  kQ8K,  // ActQ8K super-blocks of 256
};

// Quantizes one token row x: [k] into the layout of the table's ActKind, bit-identical to the
// scalar quantizer of matmul_quant_act.h.
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

// Packed-group kernels (AVX-512 Q8_0/Q4_0, matmul_group_kernels_inl.h): kGroupRows weight rows
// at a time are first packed into a buffer of num_blocks * kPackedBlockBytes (64-byte aligned),
// which every token tile of the call then reads.
inline constexpr int kGroupRows = 16;
inline constexpr size_t kPackedBlockBytes = 576;
inline constexpr int64_t kExpandTokens = 4 * kMaxTileTokens;
// Packs rows w .. w + (rows - 1) * w_stride (rows <= kGroupRows) of num_blocks blocks each.
using PackFn = void (*)(const uint8_t* w, size_t w_stride, int rows, int64_t num_blocks,
                        uint8_t* packed);
// y[t * y_stride + r] for r < rows and t < tokens of the tile, from a packed group.
using GroupFn = void (*)(const uint8_t* packed, const uint8_t* act, size_t act_stride,
                         int64_t num_blocks, float* y, int64_t y_stride, int rows);
// The same outputs as pack + GroupFn, straight from the weight rows (packing in registers):
// for calls of one token tile, where a packed copy would be read only once.
using DirectFn = void (*)(const uint8_t* w, size_t w_stride, int rows, const uint8_t* act,
                          size_t act_stride, int64_t num_blocks, float* y, int64_t y_stride);

// Kernels for matrices in the resident packed layout (pack_weights): w is a group's first byte,
// 16 rows of num_blocks blocks; y[t * y_stride + r] for r < 16 and t < tokens. With `ahead`
// null a call asks for its own weights kPrefetchBytes ahead of where it reads; otherwise it asks
// for [ahead, ahead + ahead_bytes) instead, spread evenly over its blocks (prefetch_resident).
// Only tables with prefetch_next_group get a non-null `ahead`; the others' kernels ignore it.
using ResidentFn = void (*)(const uint8_t* w, const uint8_t* act, size_t act_stride,
                            int64_t num_blocks, float* y, int64_t y_stride, const uint8_t* ahead,
                            int64_t ahead_bytes);
// Unpacks a group in the resident packed layout into the form PackFn writes, for batches of
// more than kExpandTokens tokens (null: the resident kernels serve every batch).
using ExpandFn = void (*)(const uint8_t* w, int64_t num_blocks, uint8_t* packed);
// Writes a copy of one packing unit's rows (16; 32 for F16/BF16), w_stride apart, in the resident
// packed layout to out.
using RepackFn = void (*)(const uint8_t* rows, size_t w_stride, int64_t num_blocks, uint8_t* out);

// F16/BF16 kernels on AVX-512 for the resident packed layout (matmul_half_kernels_inl.h): a
// unit of 32 rows transposed to [k][32] against T tokens of F32 activations;
// y[t * y_stride + r] for r < 32.
using HalfTileFn = void (*)(const uint8_t* w, const uint8_t* act, size_t act_stride, int64_t k,
                            float* y, int64_t y_stride);
inline constexpr int kHalfUnitRows = 32;
inline constexpr int kHalfTileTokens = 12;

struct TileTable {
  ActKind act;
  int32_t zero_point;                       // for kQ8: the zero point folded into ActQ8::bias
  QuantizeFn quantize;                      // nullptr: the scalar quantizer of matmul_quant_act.h
  int tile_rows;                            // <= kMaxTileRows
  int tile_tokens;                          // <= kMaxTileTokens
  TileFn fn[kMaxTileRows][kMaxTileTokens];  // fn[rows - 1][tokens - 1]
  // Set for packed-group kernels, which then replace fn: group[tokens - 1], tokens <= 8.
  PackFn pack = nullptr;
  GroupFn group[kMaxTileTokens] = {};
  DirectFn direct[kMaxTileTokens] = {};
  RepackFn repack = nullptr;
  ResidentFn resident[kMaxTileTokens] = {};
  ExpandFn expand = nullptr;
  // Set for F16 and BF16 on AVX-512, for packed matrices (fn serves the file's layout):
  // half[tokens - 1].
  HalfTileFn half[kHalfTileTokens] = {};
  // Resident calls of several token tiles ask for the next group's weights, a share per tile
  // (ResidentFn's `ahead`), instead of each tile streaming its own group. Set where it measured
  // faster: Q8_0, whose groups (34 KiB on tinyllama) outgrow L1 anyway; Q4_0 was unchanged
  // and Q4_K_M 5-9% slower (its next group, prefetched into L1, evicts the current one).
  bool prefetch_next_group = false;
};

// The kernels for weight type t, or nullptr when that level has none (matmul then falls back to
// dequantizing rows). The AVX-512 table needs AVX512_VNNI on top of SimdIsa::kAvx512.
const TileTable* tiles_avx2(DType t);
const TileTable* tiles_avx512(DType t);

}  // namespace pareto::matmul_detail
