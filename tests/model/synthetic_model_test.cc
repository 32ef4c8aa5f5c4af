#include "model/synthetic_model.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "model/model.h"
#include "runner/single_sequence_runner.h"
#include "support/test_paths.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

SyntheticShape small_shape(const std::string& arch) {
  SyntheticShape s;
  s.name = "tiny-" + arch;
  s.architecture = arch;
  s.hidden_size = 128;
  s.num_layers = 2;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.ffn_size = 256;
  s.qkv_bias = arch == "qwen2";
  s.tied_embeddings = arch == "qwen2";
  return s;
}

std::vector<int32_t> greedy(Model& model, int threads) {
  ThreadPool pool(threads);
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  SingleSequenceRunner runner(model, 64);
  std::vector<float> logits;
  runner.forward(prompt, false, logits, pool);
  std::vector<int32_t> out;
  for (int i = 0; i < 24; ++i) {
    const auto next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    runner.forward({&next, 1}, false, logits, pool);
  }
  return out;
}

TEST(SyntheticModel, LoadsRunsAndIsDeterministic) {
  const GgufFile vocab = GgufFile::open(test::stories_model());
  for (const char* arch : {"llama", "qwen2"}) {
    for (DType type : {DType::F16, DType::Q8_0, DType::Q4_0}) {
      SCOPED_TRACE(std::string(arch) + " " + std::string(dtype_name(type)));
      const std::string a = test::scratch_dir() + "/synth-a.gguf";
      const std::string b = test::scratch_dir() + "/synth-b.gguf";
      ThreadPool one(1), two(2);
      const auto info = write_synthetic_model(small_shape(arch), vocab, type, 7, a, one);
      write_synthetic_model(small_shape(arch), vocab, type, 7, b, two);
      EXPECT_EQ(test::read_file(a), test::read_file(b));  // thread count does not matter

      auto model = Model::load(a);
      EXPECT_EQ(model->config().architecture, arch);
      EXPECT_EQ(model->config().vocab_size, 512);
      EXPECT_EQ(model->config().tied_embeddings, std::string(arch) == "qwen2");
      EXPECT_EQ(model->gguf().tensors().size(), info.num_tensors);
      EXPECT_EQ(model->gguf().find_tensor("blk.0.attn_q.weight")->type, type);
      EXPECT_EQ(greedy(*model, 1), greedy(*model, 2));
    }
  }
}

TEST(SyntheticModel, SeedChangesWeights) {
  const GgufFile vocab = GgufFile::open(test::stories_model());
  ThreadPool pool(2);
  const std::string a = test::scratch_dir() + "/seed-a.gguf";
  const std::string b = test::scratch_dir() + "/seed-b.gguf";
  write_synthetic_model(small_shape("llama"), vocab, DType::F16, 1, a, pool);
  write_synthetic_model(small_shape("llama"), vocab, DType::F16, 2, b, pool);
  EXPECT_NE(test::read_file(a), test::read_file(b));
}

}  // namespace
}  // namespace pareto
