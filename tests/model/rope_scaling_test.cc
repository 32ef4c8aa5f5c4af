// RoPE scaling read from GGUF: linear scaling by metadata and per-frequency factors from a
// rope_freqs.weight tensor (Llama 3.1/3.2 conversions) must reach the forward pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "model/model.h"
#include "runner/single_sequence_runner.h"
#include "support/model_variants.h"
#include "support/test_paths.h"

namespace pareto {
namespace {

std::vector<float> logits_of(const std::string& path) {
  auto model = Model::load(path);
  ThreadPool pool(1);
  SingleSequenceRunner runner(*model, 32);
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 383, 286, 261, 376, 298};
  std::vector<float> logits;
  runner.forward(prompt, true, logits, pool);
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

TEST(RopeScaling, FrequencyFactorsOfTwoEqualLinearScalingByTwo) {
  const auto plain = logits_of(test::stories_model());

  test::ModelEdit linear;
  linear.metadata = [](GgufWriter& w) {
    w.set_string("llama.rope.scaling.type", "linear");
    w.set_f32("llama.rope.scaling.factor", 2.0f);
  };
  const auto linear_path =
      test::write_model_variant(test::stories_model(), "rope-linear.gguf", linear);
  EXPECT_DOUBLE_EQ(Model::load(linear_path)->config().rope.freq_scale, 0.5);

  test::ModelEdit factors;  // head_dim 8: 4 frequencies
  factors.extra_f32 = {{"rope_freqs.weight", {2.0f, 2.0f, 2.0f, 2.0f}}};
  const auto factors_path =
      test::write_model_variant(test::stories_model(), "rope-factors.gguf", factors);
  EXPECT_EQ(Model::load(factors_path)->config().rope.freq_factors.size(), 4u);

  const auto by_linear = logits_of(linear_path);
  const auto by_factors = logits_of(factors_path);
  EXPECT_GT(max_abs_diff(plain, by_linear), 1e-2f);  // scaling changes the model's output
  EXPECT_LT(max_abs_diff(by_linear, by_factors), 1e-4f);
}

TEST(RopeScaling, UnsupportedScalingTypeIsAnError) {
  test::ModelEdit edit;
  edit.metadata = [](GgufWriter& w) { w.set_string("llama.rope.scaling.type", "yarn"); };
  const auto path = test::write_model_variant(test::stories_model(), "rope-yarn.gguf", edit);
  try {
    Model::load(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported rope scaling type 'yarn'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pareto
