// Writes the seed corpus for gguf_fuzzer: small valid GGUF files that between them use every
// metadata value type, nested arrays, several tensor types, both versions and custom alignment.
// Usage: gguf_fuzz_seeds OUT_DIR
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "weights/gguf_writer.h"

namespace {

using pareto::DType;
using pareto::GgufType;
using pareto::GgufValue;
using pareto::GgufWriter;

void add_tensor(GgufWriter& w, const std::string& name, std::vector<int64_t> shape, DType type) {
  const uint64_t n = GgufWriter::tensor_bytes(name, shape, type);
  std::vector<uint8_t> bytes(n);
  for (uint64_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  w.add_tensor(name, std::move(shape), type, bytes);
}

GgufValue scalar_array(GgufType t, int n) {
  std::vector<GgufValue> v;
  for (int i = 0; i < n; ++i) {
    if (t == GgufType::FLOAT32 || t == GgufType::FLOAT64)
      v.push_back(GgufValue::from_float(t, i));
    else if (t == GgufType::BOOL)
      v.push_back(GgufValue::from_bool(i % 2));
    else if (t == GgufType::STRING)
      v.push_back(GgufValue::from_string(std::to_string(i)));
    else if (t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 ||
             t == GgufType::INT64)
      v.push_back(GgufValue::from_int(t, -i));
    else
      v.push_back(GgufValue::from_uint(t, i));
  }
  return GgufValue::from_array(t, std::move(v));
}

void every_value_type(const std::string& dir) {
  GgufWriter w;
  for (uint32_t raw = 0; raw <= 12; ++raw) {
    const auto t = static_cast<GgufType>(raw);
    if (t == GgufType::ARRAY) continue;
    w.set(fmt::format("scalar.{}", pareto::gguf_type_name(t)), scalar_array(t, 1).as_array()[0]);
    w.set(fmt::format("array.{}", pareto::gguf_type_name(t)), scalar_array(t, 3));
  }
  w.set("array.nested",
        GgufValue::from_array(GgufType::ARRAY, {scalar_array(GgufType::INT32, 2),
                                                scalar_array(GgufType::STRING, 2)}));
  GgufValue deep = scalar_array(GgufType::UINT8, 1);
  for (int d = 1; d < 8; ++d) deep = GgufValue::from_array(GgufType::ARRAY, {deep});
  w.set("array.deep", deep);
  w.write(dir + "/values.gguf");
}

void tensor_types(const std::string& dir) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  add_tensor(w, "f32", {4, 2}, DType::F32);
  add_tensor(w, "f16", {3}, DType::F16);
  add_tensor(w, "bf16", {2, 1, 2}, DType::BF16);
  add_tensor(w, "q8_0", {32, 2}, DType::Q8_0);
  add_tensor(w, "q4_0", {32}, DType::Q4_0);
  add_tensor(w, "q4_k", {256}, DType::Q4_K);
  add_tensor(w, "q6_k", {256, 1, 1, 1}, DType::Q6_K);
  w.write(dir + "/tensors.gguf");
}

void tiny_model(const std::string& dir, uint32_t version, uint32_t alignment) {
  GgufWriter w(version);
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "seed");
  if (alignment != 32) w.set_alignment(alignment);
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.embedding_length", 8);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a", "b", "\xe2\x96\x81"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1});
  add_tensor(w, "token_embd.weight", {8, 6}, DType::F32);
  add_tensor(w, "blk.0.attn_norm.weight", {8}, DType::F32);
  add_tensor(w, "blk.0.attn_q.weight", {8, 8}, DType::F16);
  w.write(fmt::format("{}/model-v{}-a{}.gguf", dir, version, alignment));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    std::filesystem::create_directories(dir);
    every_value_type(dir);
    tensor_types(dir);
    tiny_model(dir, 3, 32);
    tiny_model(dir, 2, 64);
    tiny_model(dir, 3, 1);
    GgufWriter().write(dir + "/empty.gguf");
  } catch (const pareto::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
