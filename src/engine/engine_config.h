// Settings of one engine instance: KV cache size and layout, scheduling limits, threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "sched/scheduler.h"

namespace pareto {

struct EngineConfig {
  // Bytes for the KV cache arena; 0 = default_kv_cache_bytes().
  int64_t kv_cache_memory = 0;
  int64_t block_size = 16;  // tokens per KV block
  DType kv_cache_dtype = DType::F16;
  bool enable_prefix_caching = true;
  int64_t max_num_batched_tokens = 2048;
  int64_t max_num_seqs = 256;
  // Longest sequence (prompt + output); 0 = the model's context length. Also capped to the
  // KV cache's capacity, so that one sequence always fits.
  int64_t max_model_len = 0;
  PreemptionMode preemption_mode = PreemptionMode::kRecompute;
  // Bytes of host memory for swapped-out KV blocks (needed for PreemptionMode::kSwap).
  int64_t swap_space = 0;
  int num_threads = 0;  // 0 = physical cores
  // CPUs the engine's threads are pinned to (thread i -> cpu_affinity[i % size]); empty = not
  // pinned. Set for engine replicas (`pareto serve --replicas`), which split the cores.
  std::vector<int> cpu_affinity;
};

// The default KV cache size: 40% of the memory available at start-up (MemAvailable in
// /proc/meminfo) after setting aside `weight_bytes` for the weights, capped at what
// max_num_seqs sequences of max_model_len tokens could ever use (`max_useful_bytes`), and at
// least one block's worth (`min_bytes`).
int64_t default_kv_cache_bytes(int64_t weight_bytes, int64_t max_useful_bytes, int64_t min_bytes);

// Parses "2GiB", "512MiB", "1.5GB", "1000000" (bytes) into bytes; throws pareto::Error.
int64_t parse_byte_size(const std::string& text);

}  // namespace pareto
