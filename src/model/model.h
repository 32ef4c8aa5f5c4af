// A loaded Llama-family transformer (llama, mistral, qwen2, ...) and its CPU forward pass.
// Weights stay in the GGUF file's bytes in their stored type (see Model::load for the one
// change of layout).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/huge_page_buffer.h"
#include "base/thread_pool.h"
#include "model/forward_batch.h"
#include "model/model_config.h"
#include "ops/attention.h"
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

class Model {
 public:
  // Opens, validates and binds the model; throws pareto::Error naming the file and the
  // missing or malformed tensor.
  // Weights are read into huge-page memory by default (GgufFile::Load). With kRead, matrices
  // the AVX-512 VNNI kernels can take (Q8_0, Q4_0, Q4_K, Q6_K, F16, BF16) are packed in place
  // (pack_weights): same size, faster matmuls (the same results for Q8_0/Q4_0; for
  // Q4_K/Q6_K/F16/BF16 they differ from kMap's in the last bits). Tied embeddings then get a packed
  // copy for the output projection (the lookup keeps reading the file's rows). kMap leaves the
  // file's bytes alone.
  static std::unique_ptr<Model> load(const std::string& path,
                                     GgufFile::Load load = GgufFile::Load::kRead,
                                     const std::function<void(size_t, size_t)>& progress = {});
  // pack: as kRead above; the file's tensor bytes must then be writable memory it owns.
  static std::unique_ptr<Model> from_gguf(GgufFile file, bool pack = false);
  // Another Model over the same weights (packed or not), with its own scratch buffers: one per
  // engine replica.
  std::unique_ptr<Model> replica() const;

  const ModelConfig& config() const { return config_; }
  // The file: metadata and tensor table. The bytes of packed matrices are no longer GGUF rows.
  const GgufFile& gguf() const { return file_; }
  // Bytes of weights a forward pass reads (all matrices; embeddings only count when tied).
  size_t weight_bytes() const;

  // Runs a flattened batch through the model, storing each token's K/V at its slot in the
  // paged cache kv_layers ([num_layers] views of one arena), and writes logits:
  //   [num slices with compute_logits, vocab] in slice order, or [num_tokens, vocab] when
  //   batch.all_logits.
  // Throws pareto::Error on inconsistent batch sizes or a token id outside the vocabulary.
  // Not thread-safe: a Model owns scratch buffers reused between calls.
  void forward(const ForwardBatch& batch, std::span<const KvLayerView> kv_layers,
               std::vector<float>& logits, ThreadPool& pool);

 private:
  explicit Model(GgufFile file);
  Model(const Model&) = default;
  void bind_weights();
  void pack_matrices();
  void embed(std::span<const int32_t> tokens, float* x) const;
  void check_batch(const ForwardBatch& batch, std::span<const KvLayerView> kv_layers) const;

  GgufFile file_;
  ModelConfig config_;
  WeightMatrix token_embd_;
  WeightMatrix output_;
  std::shared_ptr<HugePageBuffer> packed_output_;  // tied embeddings' packed copy
  const float* output_norm_ = nullptr;
  std::vector<LayerWeights> layers_;

  struct Scratch {
    std::vector<float> x, xn, q, k, v, attn, gate, up;
    std::vector<AttentionSlice> attn_slices;
    std::vector<int64_t> logit_rows;
  } scratch_;
};

}  // namespace pareto
