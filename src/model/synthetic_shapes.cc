#include "model/synthetic_shapes.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/error.h"

namespace pareto {

void SyntheticShape::validate(const std::string& where) const {
  auto check = [&](bool ok, const char* what, auto value) {
    if (!ok) fail("{}: invalid {} = {}", where, what, value);
  };
  check(architecture == "llama" || architecture == "qwen2", "architecture (llama or qwen2)",
        architecture);
  check(hidden_size > 0 && hidden_size <= (1 << 16), "hidden_size", hidden_size);
  check(num_layers > 0 && num_layers <= 1024, "num_layers", num_layers);
  check(num_heads > 0 && hidden_size % num_heads == 0, "num_heads (must divide hidden_size)",
        num_heads);
  check(num_kv_heads > 0 && num_heads % num_kv_heads == 0, "num_kv_heads (must divide num_heads)",
        num_kv_heads);
  check(head_dim >= 0 && head_dim <= 1024 && resolved_head_dim() % 2 == 0,
        "head_dim (even, at most 1024)", head_dim);
  check(ffn_size > 0 && ffn_size <= (1 << 20), "ffn_size", ffn_size);
  check(context_length > 0 && context_length <= (1 << 24), "context_length", context_length);
  check(rms_eps > 0 && rms_eps < 1, "rms_eps", rms_eps);
  check(rope_freq_base > 1, "rope_freq_base", rope_freq_base);
}

const std::vector<SyntheticShape>& builtin_shapes() {
  static const std::vector<SyntheticShape> shapes = [] {
    std::vector<SyntheticShape> v;
    SyntheticShape smol;  // like SmolLM-135M
    smol.name = "llama-135m";
    smol.hidden_size = 576;
    smol.num_layers = 30;
    smol.num_heads = 9;
    smol.num_kv_heads = 3;
    smol.ffn_size = 1536;
    smol.tied_embeddings = true;
    v.push_back(smol);

    SyntheticShape tiny;  // like TinyLlama-1.1B
    tiny.name = "tinyllama-1.1b";
    tiny.hidden_size = 2048;
    tiny.num_layers = 22;
    tiny.num_heads = 32;
    tiny.num_kv_heads = 4;
    tiny.ffn_size = 5632;
    v.push_back(tiny);

    SyntheticShape qwen;  // like Qwen2.5-0.5B
    qwen.name = "qwen2.5-0.5b";
    qwen.architecture = "qwen2";
    qwen.hidden_size = 896;
    qwen.num_layers = 24;
    qwen.num_heads = 14;
    qwen.num_kv_heads = 2;
    qwen.ffn_size = 4864;
    qwen.context_length = 32768;
    qwen.rms_eps = 1e-6;
    qwen.rope_freq_base = 1e6;
    qwen.tied_embeddings = true;
    qwen.qkv_bias = true;
    v.push_back(qwen);
    return v;
  }();
  return shapes;
}

SyntheticShape find_shape(const std::string& name) {
  std::string known;
  for (const auto& s : builtin_shapes()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  fail("unknown shape '{}' (known: {})", name, known);
}

SyntheticShape shape_from_json(const std::string& json_text, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", where, e.what());
  }
  if (!j.is_object()) fail("{}: expected a JSON object", where);

  static const std::set<std::string> kFields = {
      "name",           "architecture",    "hidden_size", "num_layers",     "num_heads",
      "num_kv_heads",   "head_dim",        "ffn_size",    "context_length", "rms_eps",
      "rope_freq_base", "tied_embeddings", "qkv_bias"};
  for (const auto& [key, value] : j.items())
    if (!kFields.count(key)) fail("{}: unknown field '{}'", where, key);

  SyntheticShape s;
  s.name = "synthetic";
  auto get = [&](const char* key, auto& out, bool required) {
    if (!j.contains(key)) {
      if (required) fail("{}: missing field '{}'", where, key);
      return;
    }
    try {
      j.at(key).get_to(out);
    } catch (const nlohmann::json::exception&) {
      fail("{}: field '{}' has the wrong type ({})", where, key, j.at(key).dump());
    }
  };
  get("name", s.name, false);
  get("architecture", s.architecture, false);
  get("hidden_size", s.hidden_size, true);
  get("num_layers", s.num_layers, true);
  get("num_heads", s.num_heads, true);
  s.num_kv_heads = s.num_heads;
  get("num_kv_heads", s.num_kv_heads, false);
  get("head_dim", s.head_dim, false);
  get("ffn_size", s.ffn_size, true);
  get("context_length", s.context_length, false);
  get("rms_eps", s.rms_eps, false);
  get("rope_freq_base", s.rope_freq_base, false);
  get("tied_embeddings", s.tied_embeddings, false);
  get("qkv_bias", s.qkv_bias, false);
  s.validate(where);
  return s;
}

SyntheticShape load_shape(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open shape config", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return shape_from_json(ss.str(), path);
}

}  // namespace pareto
