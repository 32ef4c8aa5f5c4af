// `pareto generate`: run one prompt through a model and stream the continuation to stdout.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "base/error.h"
#include "cli/command.h"
#include "cli/loaded_model.h"
#include "runner/single_sequence_runner.h"
#include "sample/sampler.h"
#include "tokenizer/incremental_detokenizer.h"

namespace pareto::cli {
namespace {

struct GenerateOptions {
  std::string model_path;
  std::string prompt;
  int max_tokens = 128;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool seed_set = false;
  int threads = 0;
  int64_t ctx_size = 0;
  std::string kv_type = "f32";
  bool no_bos = false;
  bool ignore_eos = false;
  bool no_parse_special = false;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int run_generate(GenerateOptions& opts) {
  if (opts.seed_set) opts.sampling.seed = opts.seed;
  opts.sampling.validate();
  if (opts.max_tokens < 0) fail("-n must be >= 0, got {}", opts.max_tokens);
  const auto kv_dtype = parse_dtype(opts.kv_type);
  if (!kv_dtype || (*kv_dtype != DType::F32 && *kv_dtype != DType::F16))
    fail("--kv-type must be f32 or f16, got '{}'", opts.kv_type);

  LoadedModel lm = load_model(opts.model_path);
  Model& model = *lm.model;
  const Tokenizer& tok = *lm.tokenizer;
  const int64_t context = opts.ctx_size > 0 ? opts.ctx_size : model.config().context_length;

  const std::vector<int32_t> prompt = tok.encode(opts.prompt, !opts.no_bos, !opts.no_parse_special);
  if (prompt.empty()) fail("the prompt is empty (and no BOS token was added)");
  const auto num_prompt = static_cast<int64_t>(prompt.size());
  if (num_prompt >= context)
    fail("the prompt is {} tokens, but the context is {} tokens", num_prompt, context);
  int64_t max_new = opts.max_tokens;
  if (num_prompt + max_new > context) {
    max_new = context - num_prompt;
    spdlog::warn("limiting generation to {} tokens to stay within the context of {}", max_new,
                 context);
  }

  ThreadPool pool(opts.threads);
  SingleSequenceRunner runner(model, num_prompt + max_new, *kv_dtype);
  Sampler sampler(opts.sampling, static_cast<int32_t>(model.config().vocab_size));
  spdlog::info("{} threads, {} prompt tokens, seed {}", pool.num_threads(), num_prompt,
               sampler.seed());

  IncrementalDetokenizer detok(tok);
  detok.prime(prompt);
  std::fputs(opts.prompt.c_str(), stdout);
  std::fflush(stdout);

  std::vector<float> logits;
  const auto prefill_start = std::chrono::steady_clock::now();
  runner.forward(prompt, false, logits, pool);
  const double prefill_s = seconds_since(prefill_start);

  std::vector<int32_t> output;
  const auto decode_start = std::chrono::steady_clock::now();
  int64_t num_decoded = 0;  // forward passes after the prompt
  for (int64_t i = 0; i < max_new; ++i) {
    const SampledToken next = sampler.sample(logits, prompt, output);
    output.push_back(next.token_id);
    if (!opts.ignore_eos && tok.is_eog(next.token_id)) break;
    const std::string text = detok.feed(next.token_id);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    if (i + 1 == max_new) break;  // no need to compute logits nobody samples
    runner.forward({&next.token_id, 1}, false, logits, pool);
    ++num_decoded;
  }
  const double decode_s = seconds_since(decode_start);
  const std::string rest = detok.flush();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fputs("\n", stdout);
  std::fflush(stdout);

  fmt::print(stderr,
             "\nprompt: {} tokens in {:.3f} s ({:.1f} tok/s) | generated: {} tokens in {:.3f} s "
             "({:.1f} tok/s)\n",
             num_prompt, prefill_s, static_cast<double>(num_prompt) / prefill_s, output.size(),
             decode_s, num_decoded > 0 ? static_cast<double>(num_decoded) / decode_s : 0.0);
  return 0;
}

const RegisterCommand kRegister{
    "generate", "Generate text from a prompt with a GGUF model", [](CLI::App& sub) {
      auto opts = std::make_shared<GenerateOptions>();
      opts->sampling.temperature = 0.8f;
      opts->sampling.top_k = 40;
      opts->sampling.top_p = 0.95f;
      opts->sampling.min_p = 0.05f;
      sub.add_option("-m,--model", opts->model_path, "GGUF model file")->required();
      sub.add_option("-p,--prompt", opts->prompt, "Prompt text")->required();
      sub.add_option("-n,--max-tokens", opts->max_tokens, "Tokens to generate")
          ->capture_default_str();
      sub.add_option("--temp", opts->sampling.temperature, "Temperature (0 = greedy)")
          ->capture_default_str();
      sub.add_option("--top-k", opts->sampling.top_k, "Top-k (0 = off)")->capture_default_str();
      sub.add_option("--top-p", opts->sampling.top_p, "Top-p (1 = off)")->capture_default_str();
      sub.add_option("--min-p", opts->sampling.min_p, "Min-p (0 = off)")->capture_default_str();
      sub.add_option("--repeat-penalty", opts->sampling.repetition_penalty,
                     "Repetition penalty (1 = off)")
          ->capture_default_str();
      sub.add_option("--presence-penalty", opts->sampling.presence_penalty, "Presence penalty")
          ->capture_default_str();
      sub.add_option("--frequency-penalty", opts->sampling.frequency_penalty, "Frequency penalty")
          ->capture_default_str();
      sub.add_option_function<uint64_t>(
          "--seed",
          [opts](uint64_t s) {
            opts->seed = s;
            opts->seed_set = true;
          },
          "RNG seed (default: random)");
      sub.add_option("-t,--threads", opts->threads, "Threads (default: physical cores)");
      sub.add_option("-c,--ctx-size", opts->ctx_size, "Context size (default: the model's)");
      sub.add_option("--kv-type", opts->kv_type, "KV cache type: f32 or f16")
          ->capture_default_str();
      sub.add_flag("--no-bos", opts->no_bos, "Do not add the BOS token");
      sub.add_flag("--ignore-eos", opts->ignore_eos, "Keep generating after end-of-sequence");
      sub.add_flag("--no-parse-special", opts->no_parse_special,
                   "Treat special-token text in the prompt as plain text");
      return [opts] { return run_generate(*opts); };
    }};

}  // namespace
}  // namespace pareto::cli
