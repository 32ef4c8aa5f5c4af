#include "model/model.h"

#include <cmath>
#include <cstring>

#include "base/error.h"
#include "ops/activations.h"
#include "ops/attention.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "weights/dequantize.h"

namespace pareto {
namespace {

// Batches smaller than this run row-wise ops on the calling thread: waking the pool costs more
// than splitting a few rows saves.
constexpr int64_t kParallelRows = 8;

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, GgufFile::Load load,
                                   const std::function<void(size_t, size_t)>& progress) {
  return from_gguf(GgufFile::open(path, load, progress), load == GgufFile::Load::kRead);
}

std::unique_ptr<Model> Model::from_gguf(GgufFile file, bool pack) {
  if (pack && !file.writable())
    fail("{}: packing weights needs the file read into memory (Load::kRead)", file.path());
  std::unique_ptr<Model> model(new Model(std::move(file)));
  model->bind_weights();
  if (pack) model->pack_matrices();
  return model;
}

std::unique_ptr<Model> Model::replica() const {
  std::unique_ptr<Model> model(new Model(*this));
  model->scratch_ = {};
  return model;
}

void Model::pack_matrices() {
  auto pack = [](WeightMatrix& w) {
    if (can_pack_weights(w))
      pack_weights(w, const_cast<uint8_t*>(static_cast<const uint8_t*>(w.data)));
  };
  for (LayerWeights& l : layers_)
    for (WeightMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) pack(*w);
  if (!config_.tied_embeddings) {
    pack(output_);
  } else if (can_pack_weights(output_)) {
    // The lookup reads the embedding's rows, so the output projection gets its own copy.
    const size_t bytes = output_.row_stride() * static_cast<size_t>(output_.out_features);
    packed_output_ = std::make_shared<HugePageBuffer>(bytes);
    std::memcpy(packed_output_->data(), output_.data, bytes);
    output_.data = packed_output_->data();
    pack_weights(output_, packed_output_->data());
  }
}

Model::Model(GgufFile file) : file_(std::move(file)), config_(ModelConfig::from_gguf(file_)) {}

void Model::bind_weights() {
  const auto& c = config_;
  auto tensor = [&](const std::string& name) -> const GgufTensorInfo& {
    const GgufTensorInfo* t = file_.find_tensor(name);
    if (!t)
      fail("{}: missing tensor '{}' required by architecture '{}'", file_.path(), name,
           c.architecture);
    return *t;
  };
  auto check_shape = [&](const GgufTensorInfo& t, std::vector<int64_t> want) {
    if (t.shape != want)
      fail("{}: tensor '{}' has shape {}, expected {}", file_.path(), t.name, shape_str(t.shape),
           shape_str(want));
  };
  auto vector_f32 = [&](const std::string& name, int64_t n) -> const float* {
    const GgufTensorInfo& t = tensor(name);
    check_shape(t, {n});
    if (t.type != DType::F32)
      fail("{}: tensor '{}' must be f32, found {}", file_.path(), name, dtype_name(t.type));
    if (reinterpret_cast<uintptr_t>(t.data) % alignof(float) != 0)
      fail("{}: tensor '{}' is not 4-byte aligned", file_.path(), name);
    return reinterpret_cast<const float*>(t.data);
  };
  auto optional_vector_f32 = [&](const std::string& name, int64_t n) -> const float* {
    return file_.find_tensor(name) ? vector_f32(name, n) : nullptr;
  };
  auto matrix = [&](const std::string& name, int64_t in, int64_t out) {
    const GgufTensorInfo& t = tensor(name);
    check_shape(t, {in, out});
    if (!can_dequantize(t.type))
      fail("{}: tensor '{}' has type {}, which Pareto cannot compute with yet", file_.path(), name,
           dtype_name(t.type));
    return WeightMatrix{t.type, in, out, t.data};
  };

  const GgufTensorInfo& embd = tensor("token_embd.weight");
  if (embd.shape.size() != 2 || embd.shape[0] != c.hidden_size)
    fail("{}: tensor 'token_embd.weight' has shape {}, expected [{}, vocab]", file_.path(),
         shape_str(embd.shape), c.hidden_size);
  if (config_.vocab_size != 0 && config_.vocab_size != embd.shape[1])
    fail("{}: vocab_size {} does not match token_embd.weight {}", file_.path(), config_.vocab_size,
         shape_str(embd.shape));
  config_.vocab_size = embd.shape[1];
  token_embd_ = matrix("token_embd.weight", c.hidden_size, config_.vocab_size);
  output_norm_ = vector_f32("output_norm.weight", c.hidden_size);
  if (file_.find_tensor("output.weight")) {
    output_ = matrix("output.weight", c.hidden_size, config_.vocab_size);
  } else {
    config_.tied_embeddings = true;
    output_ = token_embd_;
  }
  // Llama 3 conversions store their long-context frequency factors as a tensor.
  if (const float* factors = optional_vector_f32("rope_freqs.weight", c.rope.dims / 2))
    config_.rope.freq_factors.assign(factors, factors + c.rope.dims / 2);

  layers_.resize(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights& w = layers_[static_cast<size_t>(l)];
    w.attn_norm = vector_f32(p + "attn_norm.weight", c.hidden_size);
    w.wq = matrix(p + "attn_q.weight", c.hidden_size, c.q_size());
    w.wk = matrix(p + "attn_k.weight", c.hidden_size, c.kv_size());
    w.wv = matrix(p + "attn_v.weight", c.hidden_size, c.kv_size());
    w.wo = matrix(p + "attn_output.weight", c.q_size(), c.hidden_size);
    w.bq = optional_vector_f32(p + "attn_q.bias", c.q_size());
    w.bk = optional_vector_f32(p + "attn_k.bias", c.kv_size());
    w.bv = optional_vector_f32(p + "attn_v.bias", c.kv_size());
    w.ffn_norm = vector_f32(p + "ffn_norm.weight", c.hidden_size);
    w.w_gate = matrix(p + "ffn_gate.weight", c.hidden_size, c.ffn_size);
    w.w_up = matrix(p + "ffn_up.weight", c.hidden_size, c.ffn_size);
    w.w_down = matrix(p + "ffn_down.weight", c.ffn_size, c.hidden_size);
  }
}

size_t Model::weight_bytes() const {
  auto bytes = [](const WeightMatrix& w) { return w.row_stride() * w.out_features; };
  size_t total = bytes(output_);
  for (const auto& w : layers_)
    total += bytes(w.wq) + bytes(w.wk) + bytes(w.wv) + bytes(w.wo) + bytes(w.w_gate) +
             bytes(w.w_up) + bytes(w.w_down);
  return total;
}

void Model::embed(std::span<const int32_t> tokens, float* x) const {
  for (size_t t = 0; t < tokens.size(); ++t)
    dequantize_row(token_embd_.type, token_embd_.row(tokens[t]), x + t * config_.hidden_size,
                   config_.hidden_size);
}

void Model::check_batch(const ForwardBatch& batch, std::span<const KvLayerView> kv_layers) const {
  const int64_t n = batch.num_tokens();
  if (n == 0) fail("forward: no tokens");
  if (static_cast<int64_t>(batch.positions.size()) != n ||
      static_cast<int64_t>(batch.slot_mapping.size()) != n)
    fail("forward: {} tokens but {} positions and {} slots", n, batch.positions.size(),
         batch.slot_mapping.size());
  int64_t sum = 0;
  for (const SequenceSlice& sl : batch.slices) {
    if (sl.num_tokens <= 0 || sl.start_pos < 0 || !sl.block_table)
      fail("forward: malformed sequence slice ({} tokens at position {})", sl.num_tokens,
           sl.start_pos);
    sum += sl.num_tokens;
  }
  if (sum != n) fail("forward: slices cover {} tokens, the batch has {}", sum, n);
  if (static_cast<int64_t>(kv_layers.size()) != config_.num_layers)
    fail("forward: {} KV layers for a {}-layer model", kv_layers.size(), config_.num_layers);
  for (int32_t t : batch.token_ids)
    if (t < 0 || t >= config_.vocab_size) fail("forward: token id {} is outside the vocabulary", t);
}

void Model::forward(const ForwardBatch& batch, std::span<const KvLayerView> kv_layers,
                    std::vector<float>& logits, ThreadPool& pool) {
  check_batch(batch, kv_layers);
  const auto& c = config_;
  const int64_t n = batch.num_tokens();

  Scratch& s = scratch_;
  auto sized = [](std::vector<float>& v, int64_t count) {
    if (v.size() < static_cast<size_t>(count)) v.resize(static_cast<size_t>(count));
    return v.data();
  };
  float* x = sized(s.x, n * c.hidden_size);
  float* xn = sized(s.xn, n * c.hidden_size);
  float* q = sized(s.q, n * c.q_size());
  float* k = sized(s.k, n * c.kv_size());
  float* v = sized(s.v, n * c.kv_size());
  float* attn = sized(s.attn, n * c.q_size());
  float* gate = sized(s.gate, n * c.ffn_size);
  float* up = sized(s.up, n * c.ffn_size);
  s.attn_slices.clear();
  s.logit_rows.clear();
  int64_t offset = 0;
  for (const SequenceSlice& sl : batch.slices) {
    s.attn_slices.push_back({offset, sl.num_tokens, sl.start_pos, sl.block_table});
    offset += sl.num_tokens;
    if (sl.compute_logits) s.logit_rows.push_back(offset - 1);
  }
  if (batch.all_logits) {
    s.logit_rows.resize(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) s.logit_rows[static_cast<size_t>(t)] = t;
  }
  const int32_t* positions = batch.positions.data();

  embed(batch.token_ids, x);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  auto add_bias = [](float* y, const float* b, int64_t rows, int64_t cols) {
    if (!b) return;
    for (int64_t r = 0; r < rows; ++r) add_inplace(y + r * cols, b, cols);
  };

  // Row-wise ops (norms, bias, RoPE, KV stores, SwiGLU) are cheap per token, but in a batch
  // they left the pool's other threads idle for ~10% of a 32-sequence step. Each row's result
  // is the same however the rows are split.
  auto for_rows = [&pool, n](const auto& fn) {
    if (n < kParallelRows || pool.num_threads() == 1) return fn(int64_t{0}, n);
    pool.parallel_for(n, [&fn](int64_t begin, int64_t end, int) { fn(begin, end); });
  };
  const int64_t hidden = c.hidden_size, q_size = c.q_size(), kv_size = c.kv_size();

  // Residual adds are fused with the norm that follows them (one pass over x instead of two).
  for_rows([&](int64_t b, int64_t e) {
    rmsnorm(x + b * hidden, layers_[0].attn_norm, xn + b * hidden, e - b, hidden, c.rms_eps);
  });
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& w = layers_[static_cast<size_t>(l)];
    // Attention block; xn holds attn_norm(x).
    // One call for the three projections of xn: its int8 form is made once, and the pool
    // splits their rows together.
    const MatmulTarget qkv[] = {{w.wq, q}, {w.wk, k}, {w.wv, v}};
    matmul_multi(qkv, 3, xn, n, pool);
    const KvLayerView& kv = kv_layers[static_cast<size_t>(l)];
    for_rows([&](int64_t b, int64_t e) {
      float *qb = q + b * q_size, *kb = k + b * kv_size, *vb = v + b * kv_size;
      add_bias(qb, w.bq, e - b, q_size);
      add_bias(kb, w.bk, e - b, kv_size);
      add_bias(vb, w.bv, e - b, kv_size);
      apply_rope_qk(qb, c.num_heads, kb, c.num_kv_heads, positions + b, e - b, c.head_dim, c.rope);
      kv_store_slots(kv, batch.slot_mapping.data() + b, e - b, kb, vb);
    });
    paged_attention(q, s.attn_slices, c.num_heads, kv, scale, attn, pool);
    matmul(w.wo, attn, n, xn, pool);
    for_rows([&](int64_t b, int64_t e) {
      add_rmsnorm(x + b * hidden, xn + b * hidden, w.ffn_norm, xn + b * hidden, e - b, hidden,
                  c.rms_eps);
    });
    // Feed-forward block (SwiGLU).
    const MatmulTarget gate_up[] = {{w.w_gate, gate}, {w.w_up, up}};
    matmul_multi(gate_up, 2, xn, n, pool);
    for_rows([&](int64_t b, int64_t e) {
      silu_mul(gate + b * c.ffn_size, up + b * c.ffn_size, gate + b * c.ffn_size,
               (e - b) * c.ffn_size);
    });
    matmul(w.w_down, gate, n, xn, pool);
    for_rows([&](int64_t b, int64_t e) {
      if (l + 1 < c.num_layers)
        add_rmsnorm(x + b * hidden, xn + b * hidden, layers_[static_cast<size_t>(l + 1)].attn_norm,
                    xn + b * hidden, e - b, hidden, c.rms_eps);
      else
        add_inplace(x + b * hidden, xn + b * hidden, (e - b) * hidden);
    });
  }

  // Only rows that are sampled (or scored) pay for the output projection.
  const int64_t rows = static_cast<int64_t>(s.logit_rows.size());
  logits.resize(static_cast<size_t>(rows * c.vocab_size));
  if (rows == 0) return;
  for (int64_t r = 0; r < rows; ++r)
    rmsnorm(x + s.logit_rows[static_cast<size_t>(r)] * c.hidden_size, output_norm_,
            xn + r * c.hidden_size, 1, c.hidden_size, c.rms_eps);
  matmul(output_, xn, rows, logits.data(), pool);
}

}  // namespace pareto
