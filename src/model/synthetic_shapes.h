// Shapes of Llama-family models for `pareto synth`, which writes random-weight GGUF files of
// real models' sizes: benchmarks and tests get realistic compute and memory traffic without
// downloading gigabytes of weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pareto {

struct SyntheticShape {
  std::string name;                    // general.name, and the --shape lookup name
  std::string architecture = "llama";  // general.architecture ("llama" or "qwen2")
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // 0: hidden_size / num_heads
  int64_t ffn_size = 0;
  int64_t context_length = 2048;
  double rms_eps = 1e-5;
  double rope_freq_base = 10000.0;
  bool tied_embeddings = false;  // no output.weight; the output projection reuses token_embd
  bool qkv_bias = false;         // attn_{q,k,v}.bias tensors (Qwen2)

  int64_t resolved_head_dim() const { return head_dim > 0 ? head_dim : hidden_size / num_heads; }
  int64_t q_size() const { return num_heads * resolved_head_dim(); }
  int64_t kv_size() const { return num_kv_heads * resolved_head_dim(); }

  // Throws pareto::Error (prefixed with `where`) when the shape cannot describe a model.
  void validate(const std::string& where) const;
};

// The built-in shapes: llama-135m, tinyllama-1.1b, qwen2.5-0.5b.
const std::vector<SyntheticShape>& builtin_shapes();
// Looks up a built-in shape; throws pareto::Error listing the known names.
SyntheticShape find_shape(const std::string& name);

// Reads a JSON object with SyntheticShape's field names, e.g.
//   {"name": "tiny", "hidden_size": 64, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2,
//    "ffn_size": 128}
// Fields other than hidden_size, num_layers, num_heads and ffn_size are optional
// (num_kv_heads defaults to num_heads); unknown fields are rejected so typos are not ignored.
SyntheticShape shape_from_json(const std::string& json_text, const std::string& where);
SyntheticShape load_shape(const std::string& path);

}  // namespace pareto
