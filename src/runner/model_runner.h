// Executes one engine step on the CPU: moves and copies KV blocks as the scheduler asked, then
// runs every scheduled token in one forward pass and returns the logits rows to sample from.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "model/model.h"
#include "runner/input_builder.h"
#include "runner/kv_arena.h"
#include "sched/scheduler_output.h"

namespace pareto {

struct StepResult {
  std::vector<int64_t> seq_ids;  // the sequences sampled this step, in SchedulerOutput order
  std::vector<float> logits;     // [seq_ids.size(), vocab_size]

  std::span<const float> row(size_t i, int64_t vocab_size) const {
    return {logits.data() + i * static_cast<size_t>(vocab_size), static_cast<size_t>(vocab_size)};
  }
};

class ModelRunner {
 public:
  // All references must outlive the runner. host may be null when there is no swap space.
  ModelRunner(Model& model, KvArena& arena, HostKvPool* host, ThreadPool& pool);

  // Swap out, swap in, copy-on-write copies, then the forward pass (skipped when no tokens).
  const StepResult& execute(const SchedulerOutput& output);

  Model& model() { return model_; }
  KvArena& arena() { return arena_; }

 private:
  Model& model_;
  KvArena& arena_;
  HostKvPool* host_;
  ThreadPool& pool_;
  BatchInputs inputs_;
  StepResult result_;
};

}  // namespace pareto
