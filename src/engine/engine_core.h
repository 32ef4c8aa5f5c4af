// The synchronous heart of the engine: one step() = schedule -> execute -> update.
//
// Owns the KV arena, the block manager, the scheduler and the runner for one model; keeps each
// request's sampling and output state; turns sampled tokens into streamed deltas. Not
// thread-safe: the threaded Engine (engine.h) drives it from its own loop, tests and offline
// tools call it directly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/thread_pool.h"
#include "engine/engine_config.h"
#include "engine/request.h"
#include "kv/kv_cache_manager.h"
#include "model/model.h"
#include "runner/kv_arena.h"
#include "runner/model_runner.h"
#include "sched/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace pareto {

struct EngineStats {
  int64_t num_steps = 0;
  int64_t num_requests_added = 0;
  int64_t num_requests_finished = 0;  // including rejected and aborted
  int64_t num_requests_rejected = 0;
  int64_t num_waiting = 0, num_running = 0, num_swapped = 0;
  int64_t num_preemptions = 0;
  int64_t num_computed_tokens = 0;   // tokens run through the model (prefill + decode)
  int64_t num_generated_tokens = 0;  // tokens sampled
  int64_t num_prompt_tokens = 0;     // prompt tokens of admitted requests (cached or not)
  int64_t prefix_query_tokens = 0, prefix_hit_tokens = 0;
  int64_t num_kv_blocks = 0, num_used_kv_blocks = 0, peak_used_kv_blocks = 0;
  int64_t num_kv_tokens = 0, num_kv_slots = 0;  // stored tokens vs. allocated slots (running)
  // Sums over steps of num_kv_tokens and num_kv_slots after each step: their ratio is the
  // average fraction of allocated KV slots that hold a token.
  int64_t sum_kv_tokens = 0, sum_kv_slots = 0;
  int64_t kv_capacity_tokens = 0;
  int64_t max_model_len = 0;
};

// The KV cache bytes an engine with this config allocates: config.kv_cache_memory, or the
// default share of memory (engine_config.h) when that is 0.
int64_t resolve_kv_cache_bytes(const Model& model, const EngineConfig& config);

class EngineCore {
 public:
  // model and tokenizer must outlive the core. Throws pareto::Error on a bad config or when the
  // KV cache cannot hold even one block.
  EngineCore(Model& model, const Tokenizer& tokenizer, const EngineConfig& config);
  ~EngineCore();

  // Queues a request under a caller-chosen id (unique among unfinished requests). A request
  // that can never run (prompt too long, bad parameters) is not an exception: its error output
  // comes from the next step().
  void add_request(int64_t request_id, GenerationRequest request);
  // Ends a request at once, freeing its blocks; its final output (finish reason abort) comes
  // from the next step(). Unknown or finished ids are ignored.
  void abort_request(int64_t request_id);

  // Runs one step and returns the outputs it produced (errors and aborts first).
  std::vector<RequestOutput> step() { return step({}); }
  // As step(), but hands each request's output to `sink` as soon as it is complete, while the
  // rest of the batch is still being sampled, and returns only the others (errors and aborts).
  // A server starts writing the first streams' tokens while the engine samples the last ones.
  using OutputSink = std::function<void(RequestOutput&&)>;
  std::vector<RequestOutput> step(const OutputSink& sink);
  bool has_unfinished() const;
  bool has_pending_outputs() const { return !pending_outputs_.empty(); }

  EngineStats stats() const;
  // Waits until the KV arena's pages are all committed (KvArena::wait_committed).
  void wait_kv_committed() { arena_->wait_committed(); }
  const EngineConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  KvCacheManager& kv_cache() { return *kv_; }
  Scheduler& scheduler() { return *scheduler_; }

 private:
  struct RequestState;
  struct SequenceState;

  void reject(int64_t request_id, int64_t num_prompt_tokens, const std::string& message);
  // Samples the next token of one sequence from its logits row and applies it.
  void sample_and_apply(SequenceState& seq, std::span<const float> logits, RequestOutput& out);
  void finish_sequence(SequenceState& seq, RequestOutput& out);
  void add_sequence_state(RequestState& req, int32_t index, int64_t seq_id);

  Model& model_;
  const Tokenizer& tokenizer_;
  EngineConfig config_;
  ThreadPool pool_;
  std::unique_ptr<KvArena> arena_;
  std::unique_ptr<HostKvPool> host_;
  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<ModelRunner> runner_;
  std::unordered_map<int64_t, std::unique_ptr<RequestState>> requests_;
  std::unordered_map<int64_t, std::unique_ptr<SequenceState>> sequences_;
  std::vector<RequestOutput> pending_outputs_;
  int64_t next_seq_id_ = 0;
  SamplerWorkspace workspace_;
  std::vector<float> masked_logits_;  // a logits row with stop tokens masked (min_tokens)
  EngineStats counters_;
};

}  // namespace pareto
