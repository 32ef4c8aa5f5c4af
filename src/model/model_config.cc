#include "model/model_config.h"

#include <algorithm>
#include <vector>

#include "base/error.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

// Llama-family architectures differ here only in RoPE pair layout; every other difference
// (biases, tied embeddings, GQA ratio, rope base) is read from the file itself.
struct ArchTraits {
  const char* name;
  RopeStyle rope_style;
};

constexpr ArchTraits kArchitectures[] = {
    {"llama", RopeStyle::kNormal},    // Llama 2/3, TinyLlama, SmolLM, Mistral 7B
    {"mistral", RopeStyle::kNormal},  // newer converters name Mistral models this way
    {"qwen2", RopeStyle::kNeox},      // Qwen2 / Qwen2.5 (Q/K/V biases)
};

}  // namespace

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& a : kArchitectures) v.emplace_back(a.name);
    return v;
  }();
  return names;
}

ModelConfig ModelConfig::from_gguf(const GgufFile& file) {
  ModelConfig c;
  c.architecture = file.get_string("general.architecture");
  const ArchTraits* traits = nullptr;
  for (const auto& a : kArchitectures)
    if (c.architecture == a.name) traits = &a;
  if (!traits) {
    std::string list;
    for (const auto& a : kArchitectures) list += std::string(list.empty() ? "" : ", ") + a.name;
    fail("{}: unsupported architecture '{}' (supported: {})", file.path(), c.architecture, list);
  }
  const std::string p = c.architecture + ".";
  c.name = file.get_string_or("general.name", c.architecture);
  c.hidden_size = file.get_int(p + "embedding_length");
  c.num_layers = file.get_int(p + "block_count");
  c.num_heads = file.get_int(p + "attention.head_count");
  c.num_kv_heads = file.get_int_or(p + "attention.head_count_kv", c.num_heads);
  c.ffn_size = file.get_int(p + "feed_forward_length");
  c.context_length = file.get_int_or(p + "context_length", 2048);
  c.rms_eps = static_cast<float>(file.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  c.vocab_size = file.get_int_or(p + "vocab_size", 0);

  auto check = [&](bool ok, const char* what, int64_t value) {
    if (!ok) fail("{}: invalid {} = {}", file.path(), what, value);
  };
  check(c.hidden_size > 0 && c.hidden_size <= (1 << 16), "embedding_length", c.hidden_size);
  check(c.num_layers > 0 && c.num_layers <= 1024, "block_count", c.num_layers);
  check(c.num_heads > 0 && c.hidden_size % c.num_heads == 0, "attention.head_count", c.num_heads);
  check(c.num_kv_heads > 0 && c.num_heads % c.num_kv_heads == 0, "attention.head_count_kv",
        c.num_kv_heads);
  check(c.ffn_size > 0 && c.ffn_size <= (1 << 20), "feed_forward_length", c.ffn_size);
  check(c.context_length > 0 && c.context_length <= (1 << 24), "context_length", c.context_length);
  c.head_dim = file.get_int_or(p + "attention.key_length", c.hidden_size / c.num_heads);
  check(c.head_dim > 0 && c.head_dim % 2 == 0 && c.head_dim <= 1024, "attention.key_length",
        c.head_dim);

  c.rope.style = traits->rope_style;
  c.rope.dims = file.get_int_or(p + "rope.dimension_count", c.head_dim);
  check(c.rope.dims > 0 && c.rope.dims <= c.head_dim && c.rope.dims % 2 == 0,
        "rope.dimension_count", c.rope.dims);
  c.rope.freq_base = file.get_float_or(p + "rope.freq_base", 10000.0);
  if (!(c.rope.freq_base > 1.0))
    fail("{}: invalid rope.freq_base {}", file.path(), c.rope.freq_base);

  const std::string scaling = file.get_string_or(p + "rope.scaling.type", "none");
  const double factor = file.get_float_or(p + "rope.scaling.factor", 1.0);
  // Older converters store only the linear scale, under the key rope.scale_linear.
  const double scale_linear = file.get_float_or(p + "rope.scale_linear", 1.0);
  if (scaling == "linear" && factor > 0.0) {
    c.rope.freq_scale = 1.0 / factor;
  } else if (scaling == "none" && scale_linear > 0.0 && scale_linear != 1.0) {
    c.rope.freq_scale = 1.0 / scale_linear;
  } else if (scaling == "llama3") {
    c.rope.freq_factors = llama3_rope_freq_factors(
        c.rope.dims, c.rope.freq_base, factor,
        file.get_float_or(p + "rope.scaling.low_freq_factor", 1.0),
        file.get_float_or(p + "rope.scaling.high_freq_factor", 4.0),
        file.get_float_or(p + "rope.scaling.original_context_length", 8192.0));
  } else if (scaling != "none" && scaling != "linear") {
    fail("{}: unsupported rope scaling type '{}' (supported: none, linear, llama3)", file.path(),
         scaling);
  }
  return c;
}

}  // namespace pareto
