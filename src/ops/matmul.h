// Matrix multiplication of F32 activations by a weight matrix stored in any supported GGUF type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/dtype.h"
#include "base/thread_pool.h"

namespace pareto {

// A weight matrix as GGUF stores it: out_features rows, each of in_features elements of `type`,
// rows `row_bytes(type, in_features)` apart. Not owned (usually points into a mapped file).
struct WeightMatrix {
  DType type = DType::F32;
  int64_t in_features = 0;   // K
  int64_t out_features = 0;  // N
  const void* data = nullptr;
  // The bytes are in the resident packed layout of pack_weights, not GGUF's rows.
  bool packed = false;

  size_t row_stride() const { return row_bytes(type, in_features); }
  const uint8_t* row(int64_t n) const {
    return static_cast<const uint8_t*>(data) + static_cast<size_t>(n) * row_stride();
  }
};

// y[t, n] = sum_k x[t, k] * W[n, k] for t < num_tokens.
// x: [num_tokens, K] row-major F32; y: [num_tokens, N] row-major F32.
// Work is split across the pool by output rows; each output element is computed by one thread
// with the same instruction sequence, so results do not depend on the thread count.
void matmul(const WeightMatrix& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool);

// One output of matmul_multi: y = x * w^T, y: [num_tokens, w.out_features].
struct MatmulTarget {
  WeightMatrix w;
  float* y;
};

// matmul of the same x by up to 4 matrices with the same in_features (Q/K/V, gate/up): the
// activations are quantized once and the rows of all matrices share one split across the pool.
// Each y is bit-identical to what matmul(targets[i].w, x, num_tokens, targets[i].y) gives.
void matmul_multi(const MatmulTarget* targets, int count, const float* x, int64_t num_tokens,
                  ThreadPool& pool);

// Whether pack_weights can pack w on this CPU: Q8_0, Q4_0, Q4_K or Q6_K with out_features a
// multiple of 16, or F16 or BF16 with a multiple of 32, and AVX-512 VNNI (whose kernels are the
// only ones that read the packed layout).
bool can_pack_weights(const WeightMatrix& w);

// Rewrites w's bytes in place (data: the same bytes as w.data, writable) from GGUF's rows into
// the layout the AVX-512 VNNI kernels read best: per group of 16 rows, per block, the 16 rows'
// weights transposed so that vector lane r belongs to row r, then their 16 scales (Q4_K/Q6_K:
// the same per super-block, then the rows' scale bytes and F16 scales; F16/BF16: per unit of 32
// rows, their values transposed, [k][32]). The size is unchanged. matmul then streams each group
// once, sequentially. Q8_0/Q4_0 results are bit-identical to the unpacked matrix's; Q4_K/Q6_K
// and F16/BF16 sum each output in another order than the file layout's kernels, so their last bits
// differ from it (each is the same for every batch and thread count). w.packed becomes true, and
// matmul_ref, the other SIMD levels and the row accessors can no longer read w. Throws unless
// can_pack_weights(w).
void pack_weights(WeightMatrix& w, uint8_t* data);

// Scalar reference: dequantizes each row with dequantize_row_ref and accumulates in double.
void matmul_ref(const WeightMatrix& w, const float* x, int64_t num_tokens, float* y);

}  // namespace pareto
