#include "runner/input_builder.h"

#include "base/error.h"

namespace pareto {

ForwardBatch BatchInputs::batch() const {
  ForwardBatch b;
  b.token_ids = token_ids;
  b.positions = positions;
  b.slot_mapping = slot_mapping;
  b.slices = slices;
  return b;
}

void build_inputs(const SchedulerOutput& output, int64_t block_size, BatchInputs& inputs) {
  inputs.token_ids.clear();
  inputs.positions.clear();
  inputs.slot_mapping.clear();
  inputs.slices.clear();
  inputs.sampled_seq_ids.clear();
  for (const ScheduledSequence& s : output.sequences) {
    const auto n = static_cast<int64_t>(s.token_ids.size());
    const int64_t end = s.start_pos + n;
    if (n == 0) fail("sequence {} is scheduled with no tokens", s.seq_id);
    if (static_cast<int64_t>(s.block_table.size()) * block_size < end)
      fail("sequence {}: {} blocks cannot hold {} positions", s.seq_id, s.block_table.size(), end);
    for (int64_t t = 0; t < n; ++t) {
      const int64_t pos = s.start_pos + t;
      inputs.token_ids.push_back(s.token_ids[static_cast<size_t>(t)]);
      inputs.positions.push_back(static_cast<int32_t>(pos));
      inputs.slot_mapping.push_back(
          static_cast<int64_t>(s.block_table[static_cast<size_t>(pos / block_size)]) * block_size +
          pos % block_size);
    }
    inputs.slices.push_back({n, s.start_pos, s.block_table.data(), s.sample});
    if (s.sample) inputs.sampled_seq_ids.push_back(s.seq_id);
  }
}

}  // namespace pareto
