// `pareto bench offline`: a batch of synthetic requests through the engine, all submitted at
// once (like vLLM's offline throughput benchmark); reports throughput, prefix-cache hit rate,
// KV use and preemptions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "base/error.h"
#include "cli/bench_command.h"
#include "cli/engine_options.h"
#include "cli/loaded_model.h"
#include "engine/engine_core.h"

namespace pareto::cli {
namespace {

struct OfflineOptions {
  std::string model_path;
  bool mmap = false;
  int64_t num_prompts = 64;
  int64_t input_len = 128;
  int64_t output_len = 128;
  int64_t prefix_len = 0;
  uint64_t seed = 0;
  bool warm_prefix = false;
  bool json = false;
  EngineOptions engine;
};

// Random prompts of input_len tokens whose first prefix_len tokens are the same for all.
// Token ids avoid the first 3 ids (BOS/EOS/UNK in most vocabularies) and end-of-generation
// tokens play no role since the requests ignore EOS.
std::vector<std::vector<int32_t>> make_prompts(const OfflineOptions& o, int64_t vocab) {
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int32_t> dist(3, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> prefix(static_cast<size_t>(o.prefix_len));
  for (auto& t : prefix) t = dist(rng);
  std::vector<std::vector<int32_t>> prompts;
  for (int64_t i = 0; i < o.num_prompts; ++i) {
    std::vector<int32_t> p = prefix;
    while (static_cast<int64_t>(p.size()) < o.input_len) p.push_back(dist(rng));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

int run_offline(const OfflineOptions& o) {
  if (o.num_prompts < 1) fail("--num-prompts must be >= 1");
  if (o.input_len < 1) fail("--input-len must be >= 1");
  if (o.output_len < 1) fail("--output-len must be >= 1");
  if (o.prefix_len < 0 || o.prefix_len > o.input_len)
    fail("--prefix-len must be in 0..--input-len ({}), got {}", o.input_len, o.prefix_len);
  const EngineConfig config = o.engine.to_config();
  LoadedModel lm = load_model(o.model_path, o.mmap);
  EngineCore core(*lm.model, *lm.tokenizer, config);
  // Time the steady state: a server has long finished committing its KV cache's pages, which
  // happens in the background after the first 256 MiB.
  core.wait_kv_committed();
  const auto prompts = make_prompts(o, lm.model->config().vocab_size);

  if (o.warm_prefix && o.prefix_len > 0) {
    // One untimed request made of the shared prefix, so that the measured requests find it in
    // the prefix cache (a warm server), or recompute it with --no-prefix-caching.
    GenerationRequest warm;
    warm.prompt_token_ids.assign(prompts[0].begin(), prompts[0].begin() + o.prefix_len);
    warm.sampling.temperature = 0.0f;
    warm.stop.max_tokens = 1;
    core.add_request(-1, std::move(warm));
    while (core.has_unfinished()) core.step();
  }
  const EngineStats warm_stats = core.stats();

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (size_t i = 0; i < prompts.size(); ++i) {
    GenerationRequest req;
    req.prompt_token_ids = prompts[i];
    req.sampling.temperature = 0.0f;
    req.stop.max_tokens = o.output_len;
    req.stop.ignore_eos = true;
    core.add_request(static_cast<int64_t>(i), std::move(req));
  }
  std::vector<double> ttft(prompts.size(), -1.0);
  int64_t num_done = 0, num_failed = 0, num_output = 0;
  const int64_t total_output = o.num_prompts * o.output_len;
  auto last_progress = start;
  while (core.has_unfinished()) {
    for (const RequestOutput& out : core.step()) {
      const double t = std::chrono::duration<double>(Clock::now() - start).count();
      auto& first = ttft[static_cast<size_t>(out.request_id)];
      for (const CompletionDelta& d : out.completions) {
        num_output += static_cast<int64_t>(d.token_ids.size());
        if (first < 0 && !d.token_ids.empty()) first = t;
      }
      if (out.error) {
        ++num_failed;
        spdlog::error("request {}: {}", out.request_id, *out.error);
      }
      if (out.finished) ++num_done;
    }
    const auto now = Clock::now();
    if (!o.json && now - last_progress > std::chrono::milliseconds(200)) {
      last_progress = now;
      const int width = 30;
      const int filled = static_cast<int>(width * num_output / std::max<int64_t>(1, total_output));
      fmt::print(stderr, "\r[{}{}] {}/{} requests, {}/{} tokens", std::string(filled, '#'),
                 std::string(width - filled, '.'), num_done, o.num_prompts, num_output,
                 total_output);
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (!o.json) fmt::print(stderr, "\r{}\r", std::string(80, ' '));

  EngineStats st = core.stats();
  st.num_computed_tokens -= warm_stats.num_computed_tokens;
  st.prefix_query_tokens -= warm_stats.prefix_query_tokens;
  st.prefix_hit_tokens -= warm_stats.prefix_hit_tokens;
  std::vector<double> ttfts;
  for (double t : ttft)
    if (t >= 0) ttfts.push_back(t);
  std::sort(ttfts.begin(), ttfts.end());
  const double median_ttft = ttfts.empty() ? 0.0 : ttfts[ttfts.size() / 2];
  const double hit_rate =
      st.prefix_query_tokens > 0
          ? static_cast<double>(st.prefix_hit_tokens) / static_cast<double>(st.prefix_query_tokens)
          : 0.0;
  const double slot_use = st.sum_kv_slots > 0 ? static_cast<double>(st.sum_kv_tokens) /
                                                    static_cast<double>(st.sum_kv_slots)
                                              : 1.0;
  nlohmann::json j;
  j["model"] = o.model_path;
  j["num_prompts"] = o.num_prompts;
  j["input_len"] = o.input_len;
  j["output_len"] = o.output_len;
  j["prefix_len"] = o.prefix_len;
  j["max_num_seqs"] = config.max_num_seqs;
  j["elapsed_s"] = elapsed;
  j["requests_per_s"] = static_cast<double>(num_done) / elapsed;
  j["output_tok_s"] = static_cast<double>(num_output) / elapsed;
  j["total_tok_s"] = static_cast<double>(num_output + st.num_computed_tokens) / elapsed;
  j["computed_tokens"] = st.num_computed_tokens;
  j["prefix_cache_hit_rate"] = hit_rate;
  j["peak_kv_blocks"] = st.peak_used_kv_blocks;
  j["kv_blocks"] = st.num_kv_blocks;
  j["peak_kv_use"] = static_cast<double>(st.peak_used_kv_blocks) /
                     static_cast<double>(std::max<int64_t>(1, st.num_kv_blocks));
  j["kv_slot_utilization"] = slot_use;
  j["preemptions"] = st.num_preemptions;
  j["median_ttft_s"] = median_ttft;
  j["failed"] = num_failed;
  j["steps"] = st.num_steps;
  if (o.json) {
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "requests: {} in {:.2f} s ({:.2f} req/s), {} failed\n"
        "output tokens: {} ({:.1f} tok/s); computed tokens: {}\n"
        "prefix cache hit rate: {:.1f}%\n"
        "peak KV use: {} of {} blocks ({:.1f}%); allocated slots holding a token: {:.1f}%\n"
        "preemptions: {}; median time to first token: {:.3f} s; steps: {}\n",
        num_done, elapsed, j["requests_per_s"].get<double>(), num_failed, num_output,
        j["output_tok_s"].get<double>(), st.num_computed_tokens, 100 * hit_rate,
        st.peak_used_kv_blocks, st.num_kv_blocks, 100 * j["peak_kv_use"].get<double>(),
        100 * slot_use, st.num_preemptions, median_ttft, st.num_steps);
  }
  return num_failed > 0 ? 1 : 0;
}

const RegisterBenchCommand kRegister{
    "offline", "Throughput of a batch of synthetic requests through the engine", [](CLI::App& sub) {
      auto o = std::make_shared<OfflineOptions>();
      sub.add_option("-m,--model", o->model_path, "GGUF model file")->required();
      add_mmap_option(sub, o->mmap);
      sub.add_option("--num-prompts", o->num_prompts, "Requests")->capture_default_str();
      sub.add_option("--input-len", o->input_len, "Prompt tokens per request")
          ->capture_default_str();
      sub.add_option("--output-len", o->output_len, "Generated tokens per request")
          ->capture_default_str();
      sub.add_option("--prefix-len", o->prefix_len, "Leading prompt tokens shared by all requests")
          ->capture_default_str();
      sub.add_option("--seed", o->seed, "Seed of the random prompts")->capture_default_str();
      sub.add_flag("--warm-prefix", o->warm_prefix,
                   "Run the shared prefix once, untimed, before the measured requests");
      sub.add_flag("--json", o->json, "Print one JSON object instead of text");
      add_engine_options(sub, o->engine);
      return [o] { return run_offline(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
