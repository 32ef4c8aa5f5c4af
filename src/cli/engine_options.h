// The engine flags shared by every command that runs the engine (generate, bench offline,
// serve): KV cache size and layout, scheduling limits, preemption, threads.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "engine/engine_config.h"

namespace pareto::cli {

struct EngineOptions {
  std::string kv_cache_memory;  // "" = default share of RAM
  int64_t block_size = 16;
  std::string kv_cache_dtype = "f16";
  bool no_prefix_caching = false;
  int64_t max_num_batched_tokens = 2048;
  int64_t max_num_seqs = 256;
  int64_t max_model_len = 0;
  std::string preemption_mode = "recompute";
  std::string swap_space = "0";
  int threads = 0;

  // Throws pareto::Error naming the bad flag.
  EngineConfig to_config() const;
};

void add_engine_options(CLI::App& app, EngineOptions& opts);

}  // namespace pareto::cli
