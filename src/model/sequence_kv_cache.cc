#include "model/sequence_kv_cache.h"

#include <numeric>

#include "base/error.h"

namespace pareto {

SequenceKvCache::SequenceKvCache(const ModelConfig& config, int64_t max_tokens, DType dtype)
    : dtype_(dtype), num_kv_heads_(config.num_kv_heads), head_dim_(config.head_dim) {
  if (dtype != DType::F32 && dtype != DType::F16)
    fail("KV cache type must be f32 or f16, not {}", dtype_name(dtype));
  if (max_tokens <= 0) fail("KV cache size must be positive, got {}", max_tokens);
  const int64_t num_blocks = (max_tokens + kBlockSize - 1) / kBlockSize;
  capacity_ = num_blocks * kBlockSize;
  const size_t elem = dtype == DType::F16 ? 2 : 4;
  layer_bytes_ = static_cast<size_t>(capacity_ * num_kv_heads_ * head_dim_) * elem;
  k_.resize(layer_bytes_ * static_cast<size_t>(config.num_layers));
  v_.resize(k_.size());
  block_table_.resize(static_cast<size_t>(num_blocks));
  std::iota(block_table_.begin(), block_table_.end(), 0);
}

KvLayerView SequenceKvCache::layer(int64_t layer_idx) {
  KvLayerView view;
  view.dtype = dtype_;
  view.k = k_.data() + static_cast<size_t>(layer_idx) * layer_bytes_;
  view.v = v_.data() + static_cast<size_t>(layer_idx) * layer_bytes_;
  view.block_size = kBlockSize;
  view.num_kv_heads = num_kv_heads_;
  view.head_dim = head_dim_;
  return view;
}

}  // namespace pareto
