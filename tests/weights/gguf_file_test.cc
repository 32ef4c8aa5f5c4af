#include "weights/gguf_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

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
  for (auto load : {GgufFile::Load::kMap, GgufFile::Load::kRead}) {
    try {
      GgufFile::open("/nonexistent/model.gguf", load);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
    }
  }
  EXPECT_THROW(GgufFile::open(test::reference_dir(), GgufFile::Load::kRead), Error);
}

TEST(GgufFile, ReadCopyHoldsWhatTheMappingHolds) {
  const GgufFile mapped = GgufFile::open(test::stories_model(), GgufFile::Load::kMap);
  std::vector<size_t> progress;
  const GgufFile read =
      GgufFile::open(test::stories_model(), GgufFile::Load::kRead, [&](size_t done, size_t total) {
        EXPECT_EQ(total, mapped.file_size());
        progress.push_back(done);
      });
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), mapped.file_size());
  EXPECT_EQ(read.file_size(), mapped.file_size());
  EXPECT_EQ(read.metadata().size(), mapped.metadata().size());
  ASSERT_EQ(read.tensors().size(), mapped.tensors().size());
  for (size_t i = 0; i < read.tensors().size(); ++i) {
    const GgufTensorInfo& a = read.tensors()[i];
    const GgufTensorInfo& b = mapped.tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_NE(a.data, b.data);
    ASSERT_EQ(a.num_bytes, b.num_bytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.num_bytes), 0) << a.name;
  }
}

TEST(GgufFile, CopiesShareTheFileBytes) {
  const uint8_t* data = nullptr;
  GgufFile copy = [&] {
    const GgufFile original = GgufFile::open(test::stories_model(), GgufFile::Load::kRead);
    data = original.tensors()[0].data;
    return GgufFile(original);
  }();  // the original is gone; the copy keeps the bytes alive
  EXPECT_EQ(copy.tensors()[0].data, data);
  std::vector<uint8_t> bytes(data, data + copy.tensors()[0].num_bytes);
  const GgufFile again = GgufFile::open(test::stories_model());
  EXPECT_EQ(std::memcmp(bytes.data(), again.tensors()[0].data, bytes.size()), 0);
}

}  // namespace
}  // namespace pareto
