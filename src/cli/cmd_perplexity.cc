// `pareto perplexity`: perplexity of a model on a text file, computed as llama.cpp's
// perplexity tool does so the numbers are comparable: the tokenized text (with BOS) is cut into
// chunks of --ctx tokens, each chunk is evaluated from an empty cache with its first token
// replaced by BOS, and only the second half of each chunk is scored (every scored token then
// has at least ctx/2 tokens of context).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "base/error.h"
#include "cli/command.h"
#include "cli/loaded_model.h"
#include "runner/single_sequence_runner.h"

namespace pareto::cli {
namespace {

struct PerplexityOptions {
  std::string model_path;
  bool mmap = false;
  std::string text_file;
  int64_t ctx = 512;
  int64_t max_chunks = 0;
  int threads = 0;
  int64_t batch = 512;
};

int run_perplexity(const PerplexityOptions& opts) {
  if (opts.ctx < 4) fail("--ctx must be at least 4, got {}", opts.ctx);
  if (opts.batch < 1) fail("--batch must be positive, got {}", opts.batch);
  std::ifstream in(opts.text_file, std::ios::binary);
  if (!in) fail("{}: cannot open", opts.text_file);
  std::stringstream ss;
  ss << in.rdbuf();

  LoadedModel lm = load_model(opts.model_path, opts.mmap);
  Model& model = *lm.model;
  const Tokenizer& tok = *lm.tokenizer;
  const int64_t vocab = model.config().vocab_size;
  if (opts.ctx > model.config().context_length)
    spdlog::warn("--ctx {} exceeds the model's training context of {}", opts.ctx,
                 model.config().context_length);

  const std::vector<int32_t> tokens = tok.encode(ss.str(), true, false);
  const int64_t n_ctx = opts.ctx;
  int64_t num_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  // Like llama.cpp, insist on two chunks' worth so the estimate means something.
  if (static_cast<int64_t>(tokens.size()) < 2 * n_ctx)
    fail("{}: {} tokens is too little text for --ctx {} (need at least {} tokens)", opts.text_file,
         tokens.size(), n_ctx, 2 * n_ctx);
  if (opts.max_chunks > 0) num_chunks = std::min(num_chunks, opts.max_chunks);
  const bool add_bos = tok.add_bos_default() && tok.bos_id() >= 0;
  spdlog::info("{} tokens, {} chunks of {} tokens", tokens.size(), num_chunks, n_ctx);

  ThreadPool pool(opts.threads);
  SingleSequenceRunner runner(model, n_ctx);
  std::vector<float> logits, all_logits;
  const int64_t first = n_ctx / 2;
  double nll = 0.0, nll2 = 0.0;
  int64_t count = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t chunk = 0; chunk < num_chunks; ++chunk) {
    std::vector<int32_t> chunk_tokens(tokens.begin() + chunk * n_ctx,
                                      tokens.begin() + (chunk + 1) * n_ctx);
    const int32_t next_after_first = chunk_tokens[0];
    if (add_bos) chunk_tokens[0] = tok.bos_id();
    runner.reset();
    all_logits.resize(static_cast<size_t>(n_ctx * vocab));
    for (int64_t b = 0; b < n_ctx; b += opts.batch) {
      const int64_t count_b = std::min(opts.batch, n_ctx - b);
      runner.forward({chunk_tokens.data() + b, static_cast<size_t>(count_b)}, true, logits, pool);
      std::copy(logits.begin(), logits.end(), all_logits.begin() + b * vocab);
    }
    chunk_tokens[0] = next_after_first;
    // Position j predicts token j + 1 of the original text.
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const float* row = all_logits.data() + j * vocab;
      float mx = row[0];
      for (int64_t i = 1; i < vocab; ++i) mx = std::max(mx, row[i]);
      double sum = 0.0;
      for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(row[i] - mx));
      const int32_t target = tokens[static_cast<size_t>(chunk * n_ctx + j + 1)];
      const double token_nll = std::log(sum) - static_cast<double>(row[target] - mx);
      nll += token_nll;
      nll2 += token_nll * token_nll;
      ++count;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "\rchunk {}/{}  ppl {:.4f}  ({:.1f} s, {:.0f} tok/s)", chunk + 1, num_chunks,
               std::exp(nll / static_cast<double>(count)), elapsed,
               static_cast<double>((chunk + 1) * n_ctx) / elapsed);
  }
  fmt::print(stderr, "\n");
  const double mean = nll / static_cast<double>(count);
  const double var = nll2 / static_cast<double>(count) - mean * mean;
  const double ppl = std::exp(mean);
  const double err =
      count > 1 ? ppl * std::sqrt(std::max(0.0, var) / static_cast<double>(count - 1)) : 0.0;
  fmt::print("Final estimate: PPL = {:.4f} +/- {:.5f} ({} chunks of {} tokens, {} scored)\n", ppl,
             err, num_chunks, n_ctx, count);
  return 0;
}

const RegisterCommand kRegister{
    "perplexity", "Perplexity of a model on a text file (llama.cpp-compatible method)",
    [](CLI::App& sub) {
      auto opts = std::make_shared<PerplexityOptions>();
      sub.add_option("-m,--model", opts->model_path, "GGUF model file")->required();
      add_mmap_option(sub, opts->mmap);
      sub.add_option("-f,--file", opts->text_file, "Text file")->required();
      sub.add_option("-c,--ctx", opts->ctx, "Tokens per chunk")->capture_default_str();
      sub.add_option("--chunks", opts->max_chunks, "Evaluate at most this many chunks (0 = all)");
      sub.add_option("-b,--batch", opts->batch, "Tokens per forward pass")->capture_default_str();
      sub.add_option("-t,--threads", opts->threads, "Threads (default: physical cores)");
      return [opts] { return run_perplexity(*opts); };
    }};

}  // namespace
}  // namespace pareto::cli
