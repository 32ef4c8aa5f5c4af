// A model file that parses as GGUF but is not a model we can run must say exactly why.
#include <gtest/gtest.h>

#include <functional>

#include "base/error.h"
#include "model/model.h"
#include "support/test_paths.h"
#include "weights/gguf_writer.h"

namespace pareto {
namespace {

// Copies stories260K.gguf into a new file, letting the caller change metadata and skip or
// reshape tensors on the way.
std::string write_variant(const std::string& name,
                          const std::function<void(GgufWriter&)>& edit_metadata,
                          const std::string& skip_tensor = "",
                          const std::string& bad_shape_tensor = "") {
  const GgufFile src = GgufFile::open(test::stories_model());
  GgufWriter w;
  for (const auto& [key, value] : src.metadata()) w.set(key, value);
  edit_metadata(w);
  for (const auto& t : src.tensors()) {
    if (t.name == skip_tensor) continue;
    std::vector<int64_t> shape = t.shape;
    if (t.name == bad_shape_tensor) std::swap(shape[0], shape[1]);
    w.add_tensor(t.name, shape, t.type, std::span<const uint8_t>(t.data, t.num_bytes));
  }
  const std::string path = test::scratch_dir() + "/" + name;
  w.write(path);
  return path;
}

std::string load_error(const std::string& path) {
  try {
    Model::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelErrors, UnsupportedArchitectureIsNamed) {
  const auto path = write_variant(
      "arch-mamba.gguf", [](GgufWriter& w) { w.set_string("general.architecture", "mamba"); });
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("unsupported architecture 'mamba'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("arch-mamba.gguf"), std::string::npos) << msg;
}

TEST(ModelErrors, MissingTensorIsNamed) {
  const auto path = write_variant(
      "no-ffn-down.gguf", [](GgufWriter&) {}, "blk.3.ffn_down.weight");
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("missing tensor 'blk.3.ffn_down.weight'"), std::string::npos) << msg;
}

TEST(ModelErrors, WrongShapeIsNamed) {
  const auto path = write_variant(
      "bad-shape.gguf", [](GgufWriter&) {}, "", "blk.1.attn_k.weight");
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("blk.1.attn_k.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected [64, 32]"), std::string::npos) << msg;
}

TEST(ModelErrors, MissingHyperParameterIsNamed) {
  const auto path = write_variant(
      "no-heads.gguf", [](GgufWriter& w) { w.set_u32("llama.attention.head_count", 0); });
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("attention.head_count"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pareto
