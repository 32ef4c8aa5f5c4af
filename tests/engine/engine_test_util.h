// Shared helpers of the engine tests: models, prompts and running requests to completion.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/engine_core.h"
#include "model/model.h"
#include "model/synthetic_model.h"
#include "runner/kv_arena.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto::test {

struct LoadedTestModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

inline LoadedTestModel load_test_model(const std::string& path) {
  LoadedTestModel m;
  m.model = Model::load(path);
  m.tokenizer = Tokenizer::from_gguf(m.model->gguf());
  return m;
}

// A 2-layer llama-135m-shaped Q8_0 model with the stories260K vocabulary, made once per run.
inline const std::string& synthetic_model_path() {
  static const std::string path = [] {
    const std::string p = scratch_dir() + "/engine-synth-q8_0.gguf";
    SyntheticShape shape = find_shape("llama-135m");
    shape.num_layers = 2;
    ThreadPool pool(2);
    write_synthetic_model(shape, GgufFile::open(stories_model()), DType::Q8_0, 7, p, pool);
    return p;
  }();
  return path;
}

// Engine config with a KV cache of exactly num_blocks blocks.
inline EngineConfig config_with_blocks(const Model& model, int64_t num_blocks, int64_t block_size,
                                       DType dtype = DType::F16) {
  EngineConfig c;
  c.block_size = block_size;
  c.kv_cache_dtype = dtype;
  c.kv_cache_memory = num_blocks * static_cast<int64_t>(
                                       KvArena::bytes_per_block(model.config(), block_size, dtype));
  c.num_threads = 2;
  return c;
}

struct Completion {
  std::vector<int32_t> token_ids;
  std::string text;
  std::optional<FinishReason> finish_reason;
};

struct RequestResult {
  std::vector<Completion> completions;
  std::optional<std::string> error;
  int64_t num_cached_tokens = 0;
  bool finished = false;
};

// Accumulates outputs per request id.
inline void collect(const std::vector<RequestOutput>& outputs,
                    std::map<int64_t, RequestResult>& results) {
  for (const RequestOutput& out : outputs) {
    RequestResult& r = results[out.request_id];
    if (out.error) r.error = out.error;
    r.num_cached_tokens = out.num_cached_tokens;
    for (const CompletionDelta& d : out.completions) {
      if (r.completions.size() <= static_cast<size_t>(d.index))
        r.completions.resize(static_cast<size_t>(d.index) + 1);
      Completion& c = r.completions[static_cast<size_t>(d.index)];
      c.token_ids.insert(c.token_ids.end(), d.token_ids.begin(), d.token_ids.end());
      c.text += d.text;
      if (d.finish_reason) c.finish_reason = d.finish_reason;
    }
    if (out.finished) {
      if (r.finished) throw std::runtime_error("a request finished twice");
      r.finished = true;
    }
  }
}

// Steps until nothing is left (bounded so that a scheduling bug fails instead of hanging).
inline void run_to_completion(EngineCore& core, std::map<int64_t, RequestResult>& results,
                              int64_t max_steps = 200000) {
  for (int64_t i = 0; core.has_unfinished(); ++i) {
    if (i == max_steps) throw std::runtime_error("the engine did not finish: deadlock?");
    collect(core.step(), results);
  }
}

// One request alone in a fresh engine with a roomy cache and no prefix caching.
inline RequestResult run_alone(Model& model, const Tokenizer& tok, const GenerationRequest& req,
                               int64_t block_size = 16) {
  EngineConfig c = config_with_blocks(model, 256, block_size);
  c.enable_prefix_caching = false;
  EngineCore core(model, tok, c);
  core.add_request(0, req);
  std::map<int64_t, RequestResult> results;
  run_to_completion(core, results);
  return results.at(0);
}

// Prompts of mixed lengths (1..max_len tokens), a third of them sharing one of a few prefixes.
inline std::vector<std::vector<int32_t>> mixed_prompts(int64_t vocab, int count, int max_len,
                                                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> tok(3, static_cast<int32_t>(vocab - 1));
  std::uniform_int_distribution<int> len(1, max_len);
  std::vector<std::vector<int32_t>> prefixes(3);
  for (auto& p : prefixes)
    for (int i = 0; i < 40; ++i) p.push_back(tok(rng));
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < count; ++i) {
    std::vector<int32_t> p = {1};  // BOS
    if (i % 3 == 0) {
      const auto& pre = prefixes[static_cast<size_t>(i / 3) % prefixes.size()];
      p.insert(p.end(), pre.begin(), pre.end());
    }
    const int n = len(rng);
    for (int j = 0; j < n; ++j) p.push_back(tok(rng));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

}  // namespace pareto::test
