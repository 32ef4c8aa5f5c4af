#include "cli/loaded_model.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace pareto::cli {

LoadedModel load_model(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  LoadedModel lm;
  lm.model = Model::load(path);
  lm.tokenizer = Tokenizer::from_gguf(lm.model->gguf());
  const ModelConfig& c = lm.model->config();
  if (lm.tokenizer->vocab_size() != c.vocab_size)
    spdlog::warn("{}: tokenizer has {} tokens but the model's vocabulary is {}", path,
                 lm.tokenizer->vocab_size(), c.vocab_size);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info(
      "loaded {} ({}: {} layers, hidden {}, {} heads / {} KV heads, vocab {}, {:.1f} MiB "
      "of weights) in {:.0f} ms",
      path, c.architecture, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.vocab_size,
      static_cast<double>(lm.model->weight_bytes()) / (1 << 20), ms);
  return lm;
}

}  // namespace pareto::cli
