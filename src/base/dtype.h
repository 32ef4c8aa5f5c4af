// Element types of tensors. The numeric values are GGUF's (ggml_type), so a type read from a
// file maps straight onto this enum; quantized types store elements in fixed-size blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pareto {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct DTypeTraits {
  std::string_view name;  // "f32", "q4_k", ...
  int64_t block_elems;    // elements per block (1 for plain types)
  size_t block_bytes;     // bytes per block
  bool supported;         // Pareto can dequantize / compute with it
};

// Traits of a type, or nullopt when the value is not a known ggml type.
std::optional<DTypeTraits> dtype_traits(uint32_t raw);
const DTypeTraits& traits(DType t);  // t must be known
std::string_view dtype_name(DType t);
// Parses "f32", "F16", "q8_0", "Q4_K" ... (case-insensitive).
std::optional<DType> parse_dtype(std::string_view name);

// Bytes needed for a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
  const auto& tr = traits(t);
  return static_cast<size_t>(n / tr.block_elems) * tr.block_bytes;
}

}  // namespace pareto
