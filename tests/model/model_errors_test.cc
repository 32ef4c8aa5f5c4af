// A model file that parses as GGUF but is not a model we can run must say exactly why.
#include <gtest/gtest.h>

#include "base/error.h"
#include "model/model.h"
#include "support/model_variants.h"
#include "support/test_paths.h"

namespace pareto {
namespace {

std::string variant(const std::string& name, const test::ModelEdit& edit) {
  return test::write_model_variant(test::stories_model(), name, edit);
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
  test::ModelEdit edit;
  edit.metadata = [](GgufWriter& w) { w.set_string("general.architecture", "mamba"); };
  const auto path = variant("arch-mamba.gguf", edit);
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("unsupported architecture 'mamba'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("arch-mamba.gguf"), std::string::npos) << msg;
}

TEST(ModelErrors, MissingTensorIsNamed) {
  test::ModelEdit edit;
  edit.skip_tensor = "blk.3.ffn_down.weight";
  const auto path = variant("no-ffn-down.gguf", edit);
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("missing tensor 'blk.3.ffn_down.weight'"), std::string::npos) << msg;
}

TEST(ModelErrors, WrongShapeIsNamed) {
  test::ModelEdit edit;
  edit.transpose_tensor = "blk.1.attn_k.weight";
  const auto path = variant("bad-shape.gguf", edit);
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("blk.1.attn_k.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected [64, 32]"), std::string::npos) << msg;
}

TEST(ModelErrors, MissingHyperParameterIsNamed) {
  test::ModelEdit edit;
  edit.metadata = [](GgufWriter& w) { w.set_u32("llama.attention.head_count", 0); };
  const auto path = variant("no-heads.gguf", edit);
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find("attention.head_count"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pareto
