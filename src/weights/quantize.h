// Conversion of F32 rows to GGUF storage types, used by `pareto synth` and `pareto quantize`.
// Layouts match the GGUF specification so files we write load in other GGUF readers.
#pragma once

#include <cstdint>

#include "base/dtype.h"

namespace pareto {

// Is quantization to t implemented?
bool can_quantize(DType t);

// src: n floats; dst: row_bytes(t, n) bytes. n must be a multiple of t's block size.
// Throws pareto::Error for unsupported types.
void quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace pareto
