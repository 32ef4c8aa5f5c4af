#include "runner/single_sequence_runner.h"

#include <numeric>

#include "base/error.h"

namespace pareto {
namespace {

int64_t blocks_for(int64_t max_tokens) {
  if (max_tokens <= 0) fail("KV cache size must be positive, got {}", max_tokens);
  return (max_tokens + SingleSequenceRunner::kBlockSize - 1) / SingleSequenceRunner::kBlockSize;
}

}  // namespace

SingleSequenceRunner::SingleSequenceRunner(Model& model, int64_t max_tokens, DType kv_dtype)
    : model_(model),
      capacity_(blocks_for(max_tokens) * kBlockSize),
      arena_(model.config(), blocks_for(max_tokens), kBlockSize, kv_dtype),
      block_table_(static_cast<size_t>(blocks_for(max_tokens))) {
  std::iota(block_table_.begin(), block_table_.end(), 0);
}

void SingleSequenceRunner::forward(std::span<const int32_t> tokens, bool all_logits,
                                   std::vector<float>& logits, ThreadPool& pool) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("forward: no tokens");
  if (num_tokens_ + n > capacity_)
    fail("forward: positions {}..{} exceed the KV cache capacity of {} tokens", num_tokens_,
         num_tokens_ + n - 1, capacity_);
  positions_.resize(static_cast<size_t>(n));
  slots_.resize(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    positions_[static_cast<size_t>(t)] = static_cast<int32_t>(num_tokens_ + t);
    slots_[static_cast<size_t>(t)] = num_tokens_ + t;  // identity block table
  }
  const SequenceSlice slice{n, num_tokens_, block_table_.data(), true};
  ForwardBatch batch;
  batch.token_ids = tokens;
  batch.positions = positions_;
  batch.slot_mapping = slots_;
  batch.slices = {&slice, 1};
  batch.all_logits = all_logits;
  model_.forward(batch, arena_.layer_views(), logits, pool);
  num_tokens_ += n;
}

}  // namespace pareto
