// A loaded Llama-family transformer (llama, mistral, qwen2, ...) and its CPU forward pass.
// Weights stay in the memory-mapped GGUF file in their stored type.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/model_config.h"
#include "model/sequence_kv_cache.h"
#include "ops/matmul.h"
#include "weights/gguf_file.h"

namespace pareto {

struct LayerWeights {
  const float* attn_norm = nullptr;  // [hidden]
  WeightMatrix wq, wk, wv, wo;       // wq: hidden -> q_size, wk/wv: hidden -> kv_size
  const float* bq = nullptr;         // optional biases (qwen2): [q_size], [kv_size], [kv_size]
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* ffn_norm = nullptr;  // [hidden]
  WeightMatrix w_gate, w_up, w_down;
};

enum class LogitsMode {
  kLast,  // logits of the last token only: [vocab]
  kAll,   // logits of every token: [num_tokens, vocab]
};

class Model {
 public:
  // Opens, validates and binds the model; throws pareto::Error naming the file and the
  // missing or malformed tensor.
  static std::unique_ptr<Model> load(const std::string& path);
  static std::unique_ptr<Model> from_gguf(GgufFile file);

  const ModelConfig& config() const { return config_; }
  const GgufFile& gguf() const { return file_; }
  // Bytes of weights a forward pass reads (all matrices; embeddings only count when tied).
  size_t weight_bytes() const;

  // Runs tokens of one sequence at positions start_pos.. through the model, storing their K/V
  // in cache (which must hold positions 0..start_pos-1 of this sequence), and writes logits.
  // Not thread-safe: a Model owns scratch buffers reused between calls.
  void forward(std::span<const int32_t> tokens, int64_t start_pos, SequenceKvCache& cache,
               LogitsMode mode, std::vector<float>& logits, ThreadPool& pool);

 private:
  explicit Model(GgufFile file);
  void bind_weights();
  void embed(std::span<const int32_t> tokens, float* x) const;

  GgufFile file_;
  ModelConfig config_;
  WeightMatrix token_embd_;
  WeightMatrix output_;
  const float* output_norm_ = nullptr;
  std::vector<LayerWeights> layers_;

  struct Scratch {
    std::vector<float> x, xn, q, k, v, attn, gate, up;
    std::vector<int32_t> positions;
  } scratch_;
};

}  // namespace pareto
