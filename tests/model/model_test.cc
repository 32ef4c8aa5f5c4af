#include "model/model.h"
#include "runner/single_sequence_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "base/error.h"
#include "support/test_paths.h"

namespace pareto {
namespace {

std::vector<int32_t> greedy(Model& model, std::vector<int32_t> prompt, int n, int threads,
                            int64_t chunk = 0) {
  ThreadPool pool(threads);
  SingleSequenceRunner runner(model, static_cast<int64_t>(prompt.size()) + n);
  std::vector<float> logits;
  const int64_t len = static_cast<int64_t>(prompt.size());
  if (chunk <= 0) chunk = len;
  for (int64_t start = 0; start < len; start += chunk) {
    const int64_t count = std::min(chunk, len - start);
    runner.forward({prompt.data() + start, static_cast<size_t>(count)}, false, logits, pool);
  }
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const int32_t next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    runner.forward({&next, 1}, false, logits, pool);
  }
  return out;
}

TEST(Model, LoadsStoriesConfig) {
  auto model = Model::load(test::stories_model());
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_layers, 5);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_FALSE(c.tied_embeddings);
}

TEST(Model, QwenUsesNeoxRopeAndTiedEmbeddings) {
  auto model = Model::load(test::reference_dir() + "/synthetic/tiny-qwen2-F32.gguf");
  EXPECT_EQ(model->config().rope.style, RopeStyle::kNeox);
  EXPECT_TRUE(model->config().tied_embeddings);
  EXPECT_DOUBLE_EQ(model->config().rope.freq_base, 1e6);
}

TEST(Model, SameTokensWithOneAndTwoThreads) {
  for (const char* file : {"tiny-llama-Q8_0.gguf", "tiny-llama-Q4_K.gguf", "tiny-qwen2-F32.gguf"}) {
    SCOPED_TRACE(file);
    auto model = Model::load(test::reference_dir() + "/synthetic/" + file);
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 383, 286, 261};
    EXPECT_EQ(greedy(*model, prompt, 24, 1), greedy(*model, prompt, 24, 2));
  }
}

// Logits of a prompt and each of 8 greedy steps after it, concatenated.
std::vector<float> logit_trace(Model& model, int threads) {
  ThreadPool pool(threads);
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 383, 286, 261};
  SingleSequenceRunner runner(model, 64);
  std::vector<float> logits, trace;
  runner.forward(prompt, false, logits, pool);
  for (int i = 0; i < 8; ++i) {
    trace.insert(trace.end(), logits.begin(), logits.end());
    const auto next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    runner.forward({&next, 1}, false, logits, pool);
  }
  return trace;
}

// Loading into memory packs the matrices the AVX-512 VNNI kernels can take (tied embeddings: a
// packed copy for the output projection). With only Q8_0/Q4_0 matrices the logits stay
// bit-identical to the file's own layout (--mmap); packed Q6_K (the Q4_0 file's output.weight)
// sums in another order, so there they only agree closely. Either way the thread count does
// not change them, and a replica computes the same as its original.
TEST(Model, PackedWeightsGiveTheFileLayoutsLogits) {
  const std::pair<const char*, bool> files[] = {{"tiny-llama-Q8_0.gguf", true},
                                                {"tiny-llama-Q4_0.gguf", false},
                                                {"tiny-qwen2-Q8_0.gguf", true}};
  for (const auto& [file, same_bits] : files) {
    SCOPED_TRACE(file);
    const std::string path = test::reference_dir() + "/synthetic/" + file;
    auto mapped = Model::load(path, GgufFile::Load::kMap);
    auto read = Model::load(path, GgufFile::Load::kRead);
    const auto want = logit_trace(*read, 2);
    const auto file_layout = logit_trace(*mapped, 2);
    if (same_bits) {
      EXPECT_EQ(file_layout, want);
    } else {
      ASSERT_EQ(file_layout.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(file_layout[i], want[i], 1e-3f * (1.0f + std::fabs(want[i]))) << "logit " << i;
    }
    EXPECT_EQ(logit_trace(*read, 1), want);
    auto replica = read->replica();
    EXPECT_EQ(logit_trace(*replica, 2), want);
    // On a CPU with the packed kernels, the bytes really changed layout.
    const GgufTensorInfo* up = read->gguf().find_tensor("blk.0.ffn_up.weight");
    ASSERT_NE(up, nullptr);
    const WeightMatrix w{up->type, up->shape[0], up->shape[1], up->data};
    if (can_pack_weights(w)) {
      EXPECT_NE(std::memcmp(up->data, mapped->gguf().find_tensor("blk.0.ffn_up.weight")->data,
                            w.row_stride() * static_cast<size_t>(w.out_features)),
                0);
    }
  }
  // Packing rewrites bytes, so it needs the file's own copy.
  EXPECT_THROW(
      Model::from_gguf(GgufFile::open(test::reference_dir() + "/synthetic/tiny-llama-Q8_0.gguf",
                                      GgufFile::Load::kMap),
                       true),
      Error);
}

TEST(Model, ChunkedPrefillMatchesWholePrompt) {
  auto model = Model::load(test::stories_model());
  const std::vector<int32_t> prompt = {1, 317, 269, 368, 302, 382, 276, 337, 299, 322, 265, 298};
  const auto whole = greedy(*model, prompt, 32, 2);
  EXPECT_EQ(greedy(*model, prompt, 32, 2, 1), whole);
  EXPECT_EQ(greedy(*model, prompt, 32, 2, 5), whole);
}

TEST(Model, RejectsBadInput) {
  auto model = Model::load(test::stories_model());
  ThreadPool pool(1);
  SingleSequenceRunner runner(*model, 16);
  std::vector<float> logits;
  const std::vector<int32_t> bad_token = {1, 9999};
  EXPECT_THROW(runner.forward(bad_token, false, logits, pool), Error);
  const std::vector<int32_t> too_long(17, 1);
  EXPECT_THROW(runner.forward(too_long, false, logits, pool), Error);
}

TEST(Model, VocabularyOnlyFileIsNotAModel) {
  // A vocabulary-only GGUF says "llama" but has no weights: the error names the file and the
  // first missing tensor.
  try {
    Model::load(test::reference_dir() + "/tokenizer/ggml-vocab-llama-spm.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("ggml-vocab-llama-spm.gguf") != std::string::npos) << msg;
    EXPECT_TRUE(msg.find("missing tensor 'token_embd.weight'") != std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace pareto
