#include "cli/engine_options.h"

#include "base/error.h"

namespace pareto::cli {

EngineConfig EngineOptions::to_config() const {
  EngineConfig c;
  if (!kv_cache_memory.empty()) {
    c.kv_cache_memory = parse_byte_size(kv_cache_memory);
    if (c.kv_cache_memory <= 0) fail("--kv-cache-memory must be positive");
  }
  c.block_size = block_size;
  if (kv_cache_dtype == "f16")
    c.kv_cache_dtype = DType::F16;
  else if (kv_cache_dtype == "f32")
    c.kv_cache_dtype = DType::F32;
  else
    fail("--kv-cache-dtype must be f16 or f32, got '{}'", kv_cache_dtype);
  c.enable_prefix_caching = !no_prefix_caching;
  if (max_num_batched_tokens < 1)
    fail("--max-num-batched-tokens must be >= 1, got {}", max_num_batched_tokens);
  if (max_num_seqs < 1) fail("--max-num-seqs must be >= 1, got {}", max_num_seqs);
  c.max_num_batched_tokens = max_num_batched_tokens;
  c.max_num_seqs = max_num_seqs;
  c.max_model_len = max_model_len;
  if (preemption_mode == "recompute")
    c.preemption_mode = PreemptionMode::kRecompute;
  else if (preemption_mode == "swap")
    c.preemption_mode = PreemptionMode::kSwap;
  else
    fail("--preemption-mode must be recompute or swap, got '{}'", preemption_mode);
  c.swap_space = parse_byte_size(swap_space);
  c.num_threads = threads;
  return c;
}

void add_engine_options(CLI::App& app, EngineOptions& o) {
  app.add_option("--kv-cache-memory", o.kv_cache_memory,
                 "KV cache size, e.g. 2GiB (default: 40% of available RAM after weights, capped "
                 "at what --max-num-seqs full-length sequences need)");
  app.add_option("--block-size", o.block_size, "Tokens per KV block")->capture_default_str();
  app.add_option("--kv-cache-dtype", o.kv_cache_dtype, "KV cache element type: f16 or f32")
      ->capture_default_str();
  app.add_flag("--no-prefix-caching", o.no_prefix_caching, "Turn automatic prefix caching off");
  app.add_option("--max-num-batched-tokens", o.max_num_batched_tokens,
                 "Token budget of one engine step (prefill chunks + decodes)")
      ->capture_default_str();
  app.add_option("--max-num-seqs", o.max_num_seqs, "Most sequences in one step")
      ->capture_default_str();
  app.add_option("--max-model-len", o.max_model_len,
                 "Longest sequence, prompt + output (default: the model's context)");
  app.add_option("--preemption-mode", o.preemption_mode,
                 "When KV blocks run out: recompute or swap (needs --swap-space)")
      ->capture_default_str();
  app.add_option("--swap-space", o.swap_space, "Host memory for swapped-out KV blocks, e.g. 1GiB")
      ->capture_default_str();
  app.add_option("-t,--threads", o.threads, "Threads (default: physical cores)");
}

}  // namespace pareto::cli
