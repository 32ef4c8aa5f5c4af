// `pareto generate`: run one prompt (streamed to stdout) or a file of prompts (all submitted at
// once, printed in order) through the engine.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "cli/command.h"
#include "cli/engine_options.h"
#include "cli/loaded_model.h"
#include "engine/engine.h"

namespace pareto::cli {
namespace {

struct GenerateOptions {
  std::string model_path;
  bool mmap = false;
  std::string prompt;
  std::string prompts_file;
  int64_t max_tokens = 128;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool seed_set = false;
  bool no_bos = false;
  bool ignore_eos = false;
  bool no_parse_special = false;
  std::vector<std::string> stop;
  bool jsonl = false;
  EngineOptions engine;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

GenerationRequest make_request(const GenerateOptions& opts, const std::string& prompt) {
  GenerationRequest req;
  req.prompt_text = prompt;
  req.add_bos = !opts.no_bos;
  req.parse_special = !opts.no_parse_special;
  req.sampling = opts.sampling;
  req.stop.max_tokens = opts.max_tokens;
  req.stop.ignore_eos = opts.ignore_eos;
  req.stop.stop = opts.stop;
  return req;
}

void write_out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// One prompt: stream the text as it is produced.
int run_single(Engine& engine, const GenerateOptions& opts) {
  write_out(opts.prompt);
  const auto start = std::chrono::steady_clock::now();
  auto stream = engine.add_request(make_request(opts, opts.prompt));
  double ttft = 0;
  int64_t num_tokens = 0, num_prompt = 0;
  while (auto out = stream->next()) {
    if (out->error) fail("{}", *out->error);
    num_prompt = out->num_prompt_tokens;
    for (const CompletionDelta& d : out->completions) {
      if (num_tokens == 0 && !d.token_ids.empty()) ttft = seconds_since(start);
      num_tokens += static_cast<int64_t>(d.token_ids.size());
      write_out(d.text);
    }
  }
  write_out("\n");
  const double total = seconds_since(start);
  const double decode_s = total - ttft;
  fmt::print(stderr,
             "\nprompt: {} tokens in {:.3f} s ({:.1f} tok/s) | generated: {} tokens in {:.3f} s "
             "({:.1f} tok/s)\n",
             num_prompt, ttft, ttft > 0 ? static_cast<double>(num_prompt) / ttft : 0.0, num_tokens,
             decode_s,
             num_tokens > 1 && decode_s > 0 ? static_cast<double>(num_tokens - 1) / decode_s : 0.0);
  return 0;
}

// Many prompts: submit all at once, print each prompt and its completion in file order.
int run_batch(Engine& engine, const GenerateOptions& opts) {
  std::ifstream in(opts.prompts_file);
  if (!in) fail("cannot read --prompts-file {}", opts.prompts_file);
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) prompts.push_back(line);
  if (prompts.empty()) fail("{} has no prompts (one per line)", opts.prompts_file);

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const std::string& p : prompts) streams.push_back(engine.add_request(make_request(opts, p)));
  int64_t num_tokens = 0, num_failed = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::string text;
    std::optional<std::string> error;
    std::optional<FinishReason> reason;
    int64_t request_tokens = 0;
    while (auto out = streams[i]->next()) {
      if (out->error) error = out->error;
      for (const CompletionDelta& d : out->completions) {
        request_tokens += static_cast<int64_t>(d.token_ids.size());
        text += d.text;
        if (d.finish_reason) reason = d.finish_reason;
      }
    }
    num_tokens += request_tokens;
    if (error) {
      ++num_failed;
      fmt::print(stderr, "error: prompt {}: {}\n", i + 1, *error);
    }
    if (opts.jsonl) {
      nlohmann::json j;
      j["index"] = i;
      j["prompt"] = prompts[i];
      j["text"] = text;
      j["num_tokens"] = request_tokens;
      j["finish_reason"] = reason ? std::string(finish_reason_name(*reason)) : "error";
      if (error) j["error"] = *error;
      write_out(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } else {
      write_out(error ? "\n" : prompts[i] + text + "\n");
    }
  }
  const double elapsed = seconds_since(start);
  const EngineStats st = engine.stats();
  fmt::print(stderr,
             "\n{} prompts ({} failed), {} tokens generated in {:.3f} s ({:.1f} tok/s); "
             "prefix cache hit rate {:.1f}%, {} preemptions\n",
             prompts.size(), num_failed, num_tokens, elapsed,
             elapsed > 0 ? static_cast<double>(num_tokens) / elapsed : 0.0,
             st.prefix_query_tokens > 0 ? 100.0 * static_cast<double>(st.prefix_hit_tokens) /
                                              static_cast<double>(st.prefix_query_tokens)
                                        : 0.0,
             st.num_preemptions);
  return num_failed > 0 ? 1 : 0;
}

int run_generate(GenerateOptions& opts) {
  if (opts.seed_set) opts.sampling.seed = opts.seed;
  opts.sampling.validate();
  if (opts.max_tokens < 0) fail("-n must be >= 0, got {}", opts.max_tokens);
  if (opts.prompt.empty() == opts.prompts_file.empty())
    fail("give exactly one of -p/--prompt and --prompts-file");
  const EngineConfig config = opts.engine.to_config();

  LoadedModel lm = load_model(opts.model_path, opts.mmap);
  Engine engine(*lm.model, *lm.tokenizer, config);
  return opts.prompts_file.empty() ? run_single(engine, opts) : run_batch(engine, opts);
}

const RegisterCommand kRegister{
    "generate", "Generate text from a prompt (or a file of prompts) with a GGUF model",
    [](CLI::App& sub) {
      auto opts = std::make_shared<GenerateOptions>();
      opts->sampling.temperature = 0.8f;
      opts->sampling.top_k = 40;
      opts->sampling.top_p = 0.95f;
      opts->sampling.min_p = 0.05f;
      sub.add_option("-m,--model", opts->model_path, "GGUF model file")->required();
      add_mmap_option(sub, opts->mmap);
      sub.add_option("-p,--prompt", opts->prompt, "Prompt text");
      sub.add_option("--prompts-file", opts->prompts_file,
                     "File with one prompt per line, all submitted at once");
      sub.add_option("-n,--max-tokens", opts->max_tokens, "Tokens to generate per prompt")
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
      sub.add_option("--stop", opts->stop, "Stop string (repeatable)");
      sub.add_flag("--jsonl", opts->jsonl,
                   "With --prompts-file: one JSON object per prompt (index, prompt, text, "
                   "num_tokens, finish_reason, error)");
      sub.add_flag("--no-bos", opts->no_bos, "Do not add a BOS token");
      sub.add_flag("--ignore-eos", opts->ignore_eos, "Keep generating after end-of-generation");
      sub.add_flag("--no-parse-special", opts->no_parse_special,
                   "Treat special-token text in the prompt as plain text");
      add_engine_options(sub, opts->engine);
      return [opts] { return run_generate(*opts); };
    }};

}  // namespace
}  // namespace pareto::cli
