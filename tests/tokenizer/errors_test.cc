// Missing or invalid tokenizer metadata fails with a pareto::Error that names the file and what
// is wrong with it.
#include <gtest/gtest.h>

#include "base/error.h"
#include "tokenizer/gguf_builder.h"
#include "tokenizer/tokenizer.h"

namespace pareto {
namespace {

// Expects building the tokenizer to fail with a message containing the file name and `needle`.
void expect_error(const test::GgufBuilder& b, const std::string& needle) {
  try {
    b.tokenizer("broken-vocab.gguf");
    ADD_FAILURE() << "expected an error mentioning '" << needle << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("broken-vocab.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

test::GgufBuilder spm_base() {
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"})
      .ints("tokenizer.ggml.token_type", {2, 3, 3, 1});
  return b;
}

TEST(TokenizerErrors, NoTokenizerModel) {
  expect_error(test::GgufBuilder().str("general.architecture", "llama"), "tokenizer.ggml.model");
}

TEST(TokenizerErrors, UnsupportedModel) {
  expect_error(test::GgufBuilder()
                   .str("tokenizer.ggml.model", "bert")
                   .strings("tokenizer.ggml.tokens", {"a"}),
               "unsupported tokenizer model 'bert'");
}

TEST(TokenizerErrors, NoTokens) {
  expect_error(test::GgufBuilder().str("tokenizer.ggml.model", "llama"), "tokenizer.ggml.tokens");
  expect_error(
      test::GgufBuilder().str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {}),
      "empty");
}

TEST(TokenizerErrors, SentencePieceWithoutScores) {
  expect_error(spm_base(), "tokenizer.ggml.scores");
}

TEST(TokenizerErrors, ArrayLengthsDisagree) {
  expect_error(spm_base().floats("tokenizer.ggml.scores", {0, 0}), "tokenizer.ggml.scores");
  expect_error(test::GgufBuilder()
                   .str("tokenizer.ggml.model", "llama")
                   .strings("tokenizer.ggml.tokens", {"<unk>", "a"})
                   .floats("tokenizer.ggml.scores", {0, 0})
                   .ints("tokenizer.ggml.token_type", {2}),
               "tokenizer.ggml.token_type");
}

TEST(TokenizerErrors, InvalidTokenType) {
  expect_error(test::GgufBuilder()
                   .str("tokenizer.ggml.model", "llama")
                   .strings("tokenizer.ggml.tokens", {"<unk>", "a"})
                   .floats("tokenizer.ggml.scores", {0, 0})
                   .ints("tokenizer.ggml.token_type", {2, 9}),
               "invalid type 9");
}

TEST(TokenizerErrors, SpecialIdOutsideVocabulary) {
  expect_error(spm_base()
                   .floats("tokenizer.ggml.scores", {0, 0, 0, 0})
                   .u32("tokenizer.ggml.bos_token_id", 77),
               "tokenizer.ggml.bos_token_id");
}

TEST(TokenizerErrors, AddBosWithoutBos) {
  expect_error(test::GgufBuilder()
                   .str("tokenizer.ggml.model", "llama")
                   .strings("tokenizer.ggml.tokens", {"a", "b"})
                   .floats("tokenizer.ggml.scores", {0, 0})
                   .boolean("tokenizer.ggml.add_bos_token", true),
               "BOS");
  // Without the explicit request a vocabulary lacking BOS simply adds none.
  const auto tok = test::GgufBuilder()
                       .str("tokenizer.ggml.model", "llama")
                       .strings("tokenizer.ggml.tokens", {"a", "b"})
                       .floats("tokenizer.ggml.scores", {0, 0})
                       .tokenizer();
  EXPECT_FALSE(tok->add_bos_default());
  EXPECT_EQ(tok->bos_id(), -1);
  EXPECT_EQ(tok->encode("b", true, true), (std::vector<int32_t>{1}));
}

TEST(TokenizerErrors, BpeWithoutMerges) {
  expect_error(test::GgufBuilder()
                   .str("tokenizer.ggml.model", "gpt2")
                   .strings("tokenizer.ggml.tokens", test::byte_level_alphabet()),
               "tokenizer.ggml.merges");
}

TEST(TokenizerErrors, MalformedMerge) {
  expect_error(test::GgufBuilder()
                   .str("tokenizer.ggml.model", "gpt2")
                   .strings("tokenizer.ggml.tokens", test::byte_level_alphabet())
                   .strings("tokenizer.ggml.merges", {"a b", "ab"}),
               "merge 1");
}

}  // namespace
}  // namespace pareto
