// Hyper-parameters of a Llama-family transformer, read from GGUF metadata.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/rope.h"

namespace pareto {

class GgufFile;

struct ModelConfig {
  std::string architecture;  // general.architecture, e.g. "llama", "qwen2"
  std::string name;          // general.name when present
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;  // embedding_length
  int64_t num_layers = 0;   // block_count
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn_size = 0;  // feed_forward_length
  int64_t context_length = 0;
  float rms_eps = 1e-5f;
  RopeConfig rope;
  bool tied_embeddings = false;  // no output.weight: the output projection is token_embd

  // Reads and validates the config; throws pareto::Error naming the file and the key or the
  // unsupported architecture. Tensor-dependent fields (vocab size, tied embeddings, Llama 3
  // rope factors) are filled in by the model loader.
  static ModelConfig from_gguf(const GgufFile& file);

  int64_t q_size() const { return num_heads * head_dim; }
  int64_t kv_size() const { return num_kv_heads * head_dim; }
};

// Architectures this build can run (general.architecture values).
const std::vector<std::string>& supported_architectures();

}  // namespace pareto
