// K/V storage for one sequence, contiguous in memory but addressed through a block table like
// the paged cache the engine uses, so the attention op is the same for both.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "ops/attention.h"

namespace pareto {

class SequenceKvCache {
 public:
  static constexpr int64_t kBlockSize = 16;

  // Room for max_tokens positions; dtype F32 (exact) or F16 (half the memory).
  SequenceKvCache(const ModelConfig& config, int64_t max_tokens, DType dtype = DType::F32);

  int64_t capacity() const { return capacity_; }
  DType dtype() const { return dtype_; }
  size_t num_bytes() const { return k_.size() * 2; }
  KvLayerView layer(int64_t layer_idx);
  const int32_t* block_table() const { return block_table_.data(); }

 private:
  DType dtype_;
  int64_t capacity_;
  int64_t num_kv_heads_;
  int64_t head_dim_;
  size_t layer_bytes_;
  std::vector<uint8_t> k_, v_;  // [num_layers][num_blocks, block_size, num_kv_heads, head_dim]
  std::vector<int32_t> block_table_;
};

}  // namespace pareto
