// Turns a SchedulerOutput (token ids and block ids) into the flattened tensors of one forward
// pass: token ids, positions, slot mapping and per-sequence slices.
#pragma once

#include <cstdint>
#include <vector>

#include "model/forward_batch.h"
#include "sched/scheduler_output.h"

namespace pareto {

struct BatchInputs {
  std::vector<int32_t> token_ids;     // [num_tokens]
  std::vector<int32_t> positions;     // [num_tokens]
  std::vector<int64_t> slot_mapping;  // [num_tokens] block_id * block_size + offset
  std::vector<SequenceSlice> slices;  // one per scheduled sequence, in SchedulerOutput order
  // seq_id of each logits row: the scheduled sequences with sample = true, in order.
  std::vector<int64_t> sampled_seq_ids;

  ForwardBatch batch() const;
};

// Fills `inputs` (reusing its capacity). Block tables are referenced, not copied: `output` must
// outlive the forward pass. Throws pareto::Error when a block table is too short.
void build_inputs(const SchedulerOutput& output, int64_t block_size, BatchInputs& inputs);

}  // namespace pareto
