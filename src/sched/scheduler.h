// Decides, step by step, which sequences run how many tokens, inside a token budget and a
// sequence cap; allocates their KV blocks through the KvCacheManager and preempts when blocks
// run out. Speaks only token counts and block ids.
//
// Each step: (1) running sequences, in priority order, each get the tokens they still need
// (1 for a decode; several for a sequence whose prompt is still being prefilled) within the
// budget; if blocks run out, the least important, latest sequence is preempted (by recompute:
// its blocks are freed and it goes back to the front of the waiting queue; or by swap: its
// blocks are moved to host memory) until the more important one fits; (2) swapped sequences are
// swapped back in while blocks allow; (3) waiting sequences are admitted in priority/FCFS
// order, each first taking the longest cached prefix, and their prompts chunked to fill what
// is left of the budget. A sequence that cannot be admitted blocks the later ones (no
// starvation of long prompts). Every admitted sequence eventually finishes: preemption never
// evicts the sequence it is making room for, and a lone sequence always fits (admission checks).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "kv/kv_cache_manager.h"
#include "sched/scheduler_output.h"
#include "sched/sequence.h"

namespace pareto {

enum class PreemptionMode { kRecompute, kSwap };

struct SchedulerConfig {
  int64_t max_num_batched_tokens = 2048;  // tokens per step (prefill chunks + decodes)
  int64_t max_num_seqs = 256;             // sequences per step
  int64_t max_model_len = 0;              // longest sequence (prompt + output) allowed
  PreemptionMode preemption_mode = PreemptionMode::kRecompute;
};

struct SchedulerStats {
  int64_t num_waiting = 0;
  int64_t num_running = 0;
  int64_t num_swapped = 0;
  int64_t num_preemptions = 0;  // total so far
  // Over running sequences: tokens whose K/V is stored, and allocated slots (table length *
  // block_size, a shared block counted once per sequence holding it).
  int64_t num_kv_tokens = 0;
  int64_t num_kv_slots = 0;
};

class Scheduler {
 public:
  // Throws pareto::Error for a non-positive budget or cap. kv must outlive the scheduler.
  Scheduler(const SchedulerConfig& config, KvCacheManager& kv);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Why a sequence of this many prompt tokens (that may grow to max_total_tokens) can never
  // run: longer than max_model_len, or needing more blocks than the whole KV cache has.
  // nullopt when it can.
  std::optional<std::string> admission_error(int64_t num_prompt_tokens,
                                             int64_t max_total_tokens) const;

  // Queues a sequence (status kWaiting, num_computed_tokens 0). The caller has checked
  // admission_error. Throws pareto::Error on a duplicate seq_id or an empty prompt.
  void add_sequence(Sequence seq);

  // Creates child_seq_id as a copy of a running parent whose prompt is fully computed: same
  // tokens and computed count, sharing every block (ref counts up; a shared, partly filled last
  // block is copied on write when either appends into it).
  void fork_sequence(int64_t parent_seq_id, int64_t child_seq_id);

  // Plans the next step and commits it: num_computed_tokens of every scheduled sequence
  // advances by its scheduled token count, blocks are allocated (and full blocks registered in
  // the prefix cache). The caller must execute the plan before calling schedule() again.
  SchedulerOutput schedule();

  // Appends a sampled token to a running sequence (after a step with sample = true).
  void append_token(int64_t seq_id, int32_t token_id);

  // Finishes or aborts a sequence in any state: frees its blocks (device and host) at once and
  // forgets it. Unknown ids are ignored (it may have finished already).
  void finish_sequence(int64_t seq_id);

  const Sequence* find(int64_t seq_id) const;
  bool has_unfinished() const;
  SchedulerStats stats() const;
  const SchedulerConfig& config() const { return config_; }
  KvCacheManager& kv() { return kv_; }

 private:
  SchedulerConfig config_;
  KvCacheManager& kv_;
  struct State;  // sequences and the waiting / running / swapped queues (scheduler.cc)
  struct Step;   // what the step being planned has used so far

  Sequence& get(int64_t seq_id);
  // Tokens seq would run now: all it still needs, capped by the budget left and max_model_len.
  int64_t tokens_to_run(const Sequence& seq, int64_t budget) const;
  void schedule_running(Step& step, bool decodes, SchedulerOutput& out);
  void schedule_swapped(Step& step, SchedulerOutput& out);
  void schedule_waiting(Step& step, SchedulerOutput& out);
  // The least important, latest running sequence after seq in priority order that has not been
  // scheduled this step, or null.
  Sequence* find_victim(const Sequence& seq, const Step& step);
  void preempt(Sequence& seq, Step& step, SchedulerOutput& out);
  // Allocates seq's blocks for num_tokens more tokens, emits them and commits the step.
  void run(Sequence& seq, int64_t num_tokens, Step& step, SchedulerOutput& out);

  std::unique_ptr<State> state_;
};

}  // namespace pareto
