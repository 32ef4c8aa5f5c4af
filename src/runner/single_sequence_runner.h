// Runs one sequence through a model with its own small paged KV arena (identity block table):
// for perplexity scoring and model-level tests, which need neither scheduling nor sharing.
// Serving paths go through the engine instead.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/model.h"
#include "runner/kv_arena.h"

namespace pareto {

class SingleSequenceRunner {
 public:
  static constexpr int64_t kBlockSize = 16;

  // Room for max_tokens positions; kv_dtype F32 (exact) or F16.
  SingleSequenceRunner(Model& model, int64_t max_tokens, DType kv_dtype = DType::F32);

  int64_t capacity() const { return capacity_; }
  int64_t num_tokens() const { return num_tokens_; }
  // Forgets the sequence (the arena is reused from position 0).
  void reset() { num_tokens_ = 0; }

  // Appends tokens at the next positions and writes logits: the last token's row [vocab], or
  // every token's rows [tokens.size(), vocab] when all_logits. Throws pareto::Error past capacity.
  void forward(std::span<const int32_t> tokens, bool all_logits, std::vector<float>& logits,
               ThreadPool& pool);

 private:
  Model& model_;
  int64_t capacity_;
  KvArena arena_;
  std::vector<int32_t> block_table_;
  int64_t num_tokens_ = 0;
  std::vector<int32_t> positions_;
  std::vector<int64_t> slots_;
};

}  // namespace pareto
