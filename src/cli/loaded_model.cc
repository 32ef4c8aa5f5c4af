#include "cli/loaded_model.h"

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

namespace pareto::cli {

void add_mmap_option(CLI::App& app, bool& mmap) {
  app.add_flag("--mmap", mmap,
               "Memory-map the weights instead of reading them into huge-page memory (lazy, "
               "shares the page cache; slower decode on larger models)");
}

std::function<void(size_t, size_t)> progress_bar(std::string label) {
  if (!isatty(STDERR_FILENO)) return {};
  return [label = std::move(label), last_pct = -1](size_t done, size_t total) mutable {
    const int pct = total ? static_cast<int>(100 * done / total) : 100;
    if (pct == last_pct) return;
    last_pct = pct;
    fmt::print(stderr, "\r{} [{:<25}] {:3d}% ({:.0f} MiB)", label,
               std::string(static_cast<size_t>(pct / 4), '#'), pct,
               static_cast<double>(done) / (1 << 20));
    if (done == total) fmt::print(stderr, "\n");
  };
}

std::unique_ptr<Model> load_weights(const std::string& path, bool mmap) {
  return mmap ? Model::load(path, GgufFile::Load::kMap)
              : Model::load(path, GgufFile::Load::kRead, progress_bar("reading weights"));
}

LoadedModel load_model(const std::string& path, bool mmap) {
  const auto start = std::chrono::steady_clock::now();
  LoadedModel lm;
  lm.model = load_weights(path, mmap);
  lm.tokenizer = Tokenizer::from_gguf(lm.model->gguf());
  const ModelConfig& c = lm.model->config();
  if (lm.tokenizer->vocab_size() != c.vocab_size)
    spdlog::warn("{}: tokenizer has {} tokens but the model's vocabulary is {}", path,
                 lm.tokenizer->vocab_size(), c.vocab_size);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info(
      "loaded {} ({}: {} layers, hidden {}, {} heads / {} KV heads, vocab {}, {:.1f} MiB "
      "of weights, {}) in {:.0f} ms",
      path, c.architecture, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.vocab_size,
      static_cast<double>(lm.model->weight_bytes()) / (1 << 20),
      mmap ? "memory-mapped" : "read into memory", ms);
  return lm;
}

}  // namespace pareto::cli
