// Converts a GGUF model's weights to another storage type (`pareto quantize`): plans each
// tensor's output type by a per-scheme policy, then streams the model to a new GGUF file,
// dequantizing every row to F32 and quantizing it to its planned type. Metadata (tokenizer
// included) and tensor order are kept; general.file_type is set to llama.cpp's code for the
// scheme, so the file reads as a normal quantized model in other GGUF readers.
//
// Policy (docs/quantize.md):
//   - 1-D tensors (norms, biases, rope factors) are stored F32;
//   - non-float tensors (I8..I64, F64) are copied unchanged;
//   - matrices (2-D and up) take the scheme's type; Q4_K_M uses Q4_K except Q6_K for
//     output.weight (token_embd.weight when the embedding is tied) and for the ffn_down and
//     attn_v matrices of the layers picked by use_more_bits();
//   - a matrix whose rows are not whole blocks of its type falls back to Q8_0 (K-quants, when
//     rows are whole 32-element blocks) or else F16; the plan marks these tensors;
//   - a tensor already stored in its planned type is copied byte for byte (no double rounding).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/dtype.h"
#include "base/thread_pool.h"

namespace pareto {

class GgufFile;

// What `pareto quantize --type` accepts.
enum class QuantScheme { F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q6_K };

// Parses "q8_0", "Q4_K_M", "f16", ... (case-insensitive); nullopt when unknown.
std::optional<QuantScheme> parse_quant_scheme(std::string_view name);
std::string_view quant_scheme_name(QuantScheme s);
// The accepted names, comma-separated, for error messages and help.
std::string quant_scheme_names();
// llama.cpp's LLAMA_FTYPE value for general.file_type: F32 0, F16 1, Q4_0 2, Q8_0 7,
// Q4_K_M 15, Q6_K 18, BF16 32.
uint32_t llama_file_type(QuantScheme s);

// llama.cpp's "use more bits" layer rule: the first and last eighth of the layers and every
// third layer in between. layer_idx in [0, num_layers).
bool use_more_bits(int64_t layer_idx, int64_t num_layers);

struct TensorQuantPlan {
  std::string name;
  std::vector<int64_t> shape;  // GGUF order (shape[0] is the row length)
  DType from = DType::F32;     // stored type in the input
  DType wanted = DType::F32;   // type the policy asked for
  DType to = DType::F32;       // type written (differs from wanted on a fallback)
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;

  bool fallback() const { return to != wanted; }
  bool copied() const { return to == from; }  // bytes copied unchanged
};

struct QuantPlan {
  QuantScheme scheme = QuantScheme::F32;
  std::vector<TensorQuantPlan> tensors;  // input order
  uint64_t in_bytes = 0;                 // tensor data only
  uint64_t out_bytes = 0;
  // Some tensor stored in a block-quantized type is converted to another type: its values are
  // rounded twice, so the result is worse than quantizing the original weights.
  bool requantizes = false;
};

// Plans every tensor of `in`. Throws pareto::Error naming the tensor when one is stored in a
// type that cannot be dequantized.
QuantPlan plan_quantization(const GgufFile& in, QuantScheme scheme);

// Called on the writing thread before each tensor is written: (tensor_idx, num_tensors, its
// plan, output bytes written so far).
using QuantizeProgress =
    std::function<void(size_t, size_t, const TensorQuantPlan&, uint64_t bytes_done)>;

// Writes `in` converted by `plan` (from plan_quantization(in, ...)) to out_path, atomically
// (temporary file + rename). Rows are converted in parallel on `pool`; the output bytes do not
// depend on the thread count. Throws pareto::Error when out_path is in's own file, or naming
// the path on I/O failure.
void write_quantized_model(const GgufFile& in, const QuantPlan& plan, const std::string& out_path,
                           ThreadPool& pool, const QuantizeProgress& progress = {});

}  // namespace pareto
