#include "weights/gguf_file.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "support/test_paths.h"

namespace pareto {
namespace {

TEST(GgufFile, ReadsStories260K) {
  GgufFile f = GgufFile::open(test::stories_model());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  const auto* tokens = f.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->as_array().size(), 512u);
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(emb->type, DType::F32);
  EXPECT_EQ(emb->num_bytes, 64u * 512u * 4u);
}

TEST(GgufFile, ReadsEveryReferenceFile) {
  for (const char* name : {"synthetic/tiny-llama-Q4_K.gguf", "synthetic/tiny-llama-Q6_K.gguf",
                           "synthetic/tiny-qwen2-Q8_0.gguf", "tokenizer/ggml-vocab-gpt-2.gguf",
                           "tokenizer/ggml-vocab-llama-spm.gguf"}) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(GgufFile::open(test::reference_dir() + "/" + name));
  }
}

TEST(GgufFile, MissingFileNamesThePath) {
  try {
    GgufFile::open("/nonexistent/model.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}

}  // namespace
}  // namespace pareto
