#include "runner/model_runner.h"

#include "base/error.h"

namespace pareto {

ModelRunner::ModelRunner(Model& model, KvArena& arena, HostKvPool* host, ThreadPool& pool)
    : model_(model), arena_(arena), host_(host), pool_(pool) {}

const StepResult& ModelRunner::execute(const SchedulerOutput& output) {
  if ((!output.swap_out.empty() || !output.swap_in.empty()) && !host_)
    fail("the scheduler asked for a swap, but there is no swap space");
  for (const BlockSwap& s : output.swap_out)
    arena_.save_block(s.device_block_id, host_->block(s.host_block_id));
  for (const BlockSwap& s : output.swap_in)
    arena_.load_block(s.device_block_id, host_->block(s.host_block_id));
  for (const BlockCopy& c : output.copies) arena_.copy_block(c.src_block_id, c.dst_block_id);

  result_.seq_ids.clear();
  result_.logits.clear();
  if (output.sequences.empty()) return result_;
  build_inputs(output, arena_.block_size(), inputs_);
  model_.forward(inputs_.batch(), arena_.layer_views(), result_.logits, pool_);
  result_.seq_ids = inputs_.sampled_seq_ids;
  return result_;
}

}  // namespace pareto
