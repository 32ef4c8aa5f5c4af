// The input of one forward pass: tokens of several sequences flattened into one batch.
//
// A batch mixes prefill chunks (many tokens of one sequence) and decodes (one token each). Each
// sequence's tokens are contiguous in token_ids, in slice order. K/V of every token are written
// to the paged cache at slot_mapping[t] (block_id * block_size + offset); attention of a slice
// reads positions 0..(own position) of that sequence through its block table.
#pragma once

#include <cstdint>
#include <span>

namespace pareto {

struct SequenceSlice {
  int64_t num_tokens = 0;  // tokens of this sequence in the batch (>= 1)
  int64_t start_pos = 0;   // position of its first token; K/V of 0..start_pos-1 are cached
  // Block ids holding positions 0..start_pos+num_tokens-1 (position p is in block_table[p / bs]).
  const int32_t* block_table = nullptr;
  bool compute_logits = false;  // produce the logits row of its last token
};

struct ForwardBatch {
  std::span<const int32_t> token_ids;     // [num_tokens]
  std::span<const int32_t> positions;     // [num_tokens]
  std::span<const int64_t> slot_mapping;  // [num_tokens] where each token's K/V is stored
  std::span<const SequenceSlice> slices;  // sum of num_tokens == token_ids.size()
  // Logits of every token (perplexity) instead of one row per slice with compute_logits.
  bool all_logits = false;

  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
};

}  // namespace pareto
