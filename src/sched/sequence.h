// One sequence the scheduler runs: its tokens, how many of them have K/V in the cache, and
// where it is in its life. A request with n > 1 completions is n sequences (the later ones
// forked from the first after its prompt is computed, sharing its blocks).
#pragma once

#include <cstdint>
#include <vector>

namespace pareto {

enum class SequenceStatus {
  kWaiting,   // not yet started, or preempted by recompute (num_computed_tokens back to 0)
  kRunning,   // holds device blocks
  kSwapped,   // preempted by swapping: its blocks are in host memory
  kFinished,  // finished or aborted; its blocks are freed
};

struct Sequence {
  int64_t seq_id = 0;
  // Lower value = more important; ties go to the earlier arrival (FCFS). Preemption picks the
  // least important, latest-arrived running sequence.
  int32_t priority = 0;
  int64_t arrival_idx = 0;  // set by the scheduler: order of add_sequence calls
  // Extra key mixed into the prefix-cache hash of every block (adapter id, cache salt):
  // sequences with different keys never share cached blocks.
  uint64_t cache_key = 0;

  std::vector<int32_t> token_ids;  // prompt followed by generated tokens
  int64_t num_prompt_tokens = 0;
  // Tokens whose K/V are in the cache; the rest run in later steps.
  int64_t num_computed_tokens = 0;
  // Of the prompt, how many tokens came from the prefix cache at the last admission.
  int64_t num_cached_tokens = 0;
  SequenceStatus status = SequenceStatus::kWaiting;
  int64_t num_preemptions = 0;

  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
  int64_t num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
};

}  // namespace pareto
