// What the scheduler decided for one engine step: which sequences run how many tokens, which
// blocks to copy or move first. Only token counts and block ids: the runner makes the tensors.
#pragma once

#include <cstdint>
#include <vector>

namespace pareto {

struct ScheduledSequence {
  int64_t seq_id = 0;
  // Positions start_pos .. start_pos + token_ids.size() - 1 run this step; K/V of positions
  // before start_pos are in the cache (computed earlier or found in the prefix cache).
  int64_t start_pos = 0;
  std::vector<int32_t> token_ids;  // the tokens at those positions (>= 1)
  // The sequence's block table, long enough for start_pos + token_ids.size() positions.
  std::vector<int32_t> block_table;
  // This step reaches the last known token: the engine samples the next one from its logits.
  // False for a prefill chunk that leaves part of the prompt for later steps.
  bool sample = false;
};

struct BlockCopy {
  int32_t src_block_id = 0;
  int32_t dst_block_id = 0;
};

struct BlockSwap {
  int32_t device_block_id = 0;
  int32_t host_block_id = 0;
};

struct SchedulerOutput {
  // Running decodes first, then prefill chunks (new, resumed or recomputed sequences).
  std::vector<ScheduledSequence> sequences;
  // To carry out before the forward pass, in this order: swap_out (device -> host), then
  // swap_in (host -> device), then copies (copy-on-write of shared, partly filled blocks).
  std::vector<BlockSwap> swap_out;
  std::vector<BlockSwap> swap_in;
  std::vector<BlockCopy> copies;
  // Sequences preempted during this step (by recompute or swap), for metrics.
  std::vector<int64_t> preempted_seq_ids;
  int64_t num_batched_tokens = 0;  // sum of token_ids.size() over sequences
  // Prompt tokens of sequences admitted this step that the prefix cache already held (not run,
  // not in num_batched_tokens).
  int64_t num_cached_tokens = 0;

  bool empty() const {
    return sequences.empty() && swap_out.empty() && swap_in.empty() && copies.empty();
  }
};

}  // namespace pareto
