// Conversion of GGUF tensor rows to F32. The scalar reference (dequantize_row_ref) follows the
// block layouts of the GGUF specification literally; dequantize_row is the fast version used by
// the model and must give bit-identical results (tests hold it to the reference).
#pragma once

#include <cstdint>

#include "base/dtype.h"

namespace pareto {

// Is dequantization implemented for t? (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K,
// Q5_K, Q6_K.)
bool can_dequantize(DType t);

// src: row_bytes(t, n) bytes of type t; dst: n floats. n must be a multiple of t's block size.
// Throws pareto::Error for unsupported types.
void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n);
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

}  // namespace pareto
