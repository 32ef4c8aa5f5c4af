// Byte-level BPE: the GPT-2 vocabulary's special token and defaults, and synthetic vocabularies
// for merge order, ignore_merges and pre-tokenizer selection.
#include <gtest/gtest.h>

#include "support/test_paths.h"
#include "tokenizer/gguf_builder.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

using Ids = std::vector<int32_t>;

std::unique_ptr<Tokenizer> gpt2_tokenizer() {
  const GgufFile gguf = GgufFile::open(test::reference_dir() + "/tokenizer/ggml-vocab-gpt-2.gguf");
  return Tokenizer::from_gguf(gguf);
}

TEST(BpeTokenizer, Gpt2Metadata) {
  const auto tok = gpt2_tokenizer();
  EXPECT_EQ(tok->kind(), TokenizerKind::kByteLevelBpe);
  EXPECT_EQ(tok->vocab_size(), 50257);
  EXPECT_EQ(tok->bos_id(), 50256);
  EXPECT_EQ(tok->eos_id(), 50256);
  EXPECT_FALSE(tok->add_bos_default());
  EXPECT_FALSE(tok->strips_leading_space());
  EXPECT_EQ(tok->pre_tokenizer(), "gpt-2");
  EXPECT_TRUE(tok->is_eog(50256));
  EXPECT_FALSE(tok->is_eog(0));
}

TEST(BpeTokenizer, Gpt2SpecialToken) {
  const auto tok = gpt2_tokenizer();
  EXPECT_EQ(tok->encode("Hello<|endoftext|> world", true, true), (Ids{15496, 50256, 995}));
  const Ids plain = tok->encode("Hello<|endoftext|>", false, false);
  EXPECT_GT(plain.size(), 2u);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 50256), 0);
  EXPECT_EQ(tok->decode(plain), "Hello<|endoftext|>");
  EXPECT_EQ(tok->decode(Ids{15496, 50256, 995}), "Hello world");
  EXPECT_EQ(tok->decode(Ids{15496, 50256, 995}, true), "Hello<|endoftext|> world");
}

TEST(BpeTokenizer, Gpt2Pieces) {
  const auto tok = gpt2_tokenizer();
  EXPECT_EQ(tok->token_text(18435), "\xC4\xA0Hello");  // "ĠHello"
  EXPECT_EQ(tok->token_to_piece(18435), " Hello");
  EXPECT_EQ(tok->token_to_piece(198), "\n");
  // Invalid UTF-8 in the input still round-trips: every byte has a token.
  const std::string broken = "ab\xFF\xC3 cd\xE2\x82";
  EXPECT_EQ(tok->decode(tok->encode(broken, false, false)), broken);
}

// A byte-level vocabulary: the 256 byte tokens (ids 0-255), then `extra`, then <|endoftext|>.
test::GgufBuilder tiny_bpe(const std::vector<std::string>& extra,
                           const std::vector<std::string>& merges, const std::string& pre,
                           const std::vector<std::pair<std::string, int32_t>>& specials = {}) {
  std::vector<std::string> tokens = test::byte_level_alphabet();
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  std::vector<int32_t> types(tokens.size(), 1);
  for (const auto& [text, type] : specials) {
    tokens.push_back(text);
    types.push_back(type);
  }
  tokens.push_back("<|endoftext|>");
  types.push_back(3);
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.pre", pre)
      .strings("tokenizer.ggml.tokens", tokens)
      .ints("tokenizer.ggml.token_type", types)
      .strings("tokenizer.ggml.merges", merges)
      .u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 1));
  return b;
}

TEST(BpeTokenizer, MergesLowestRankFirst) {
  // ids: 256 "el", 257 "ll", 258 "he"
  const std::vector<std::string> extra = {"el", "ll", "he"};
  const Ids h = {'h'}, o = {'o'};
  auto a = tiny_bpe(extra, {"e l", "l l", "h e"}, "gpt-2").tokenizer();
  EXPECT_EQ(a->encode("hello", false, false), (Ids{'h', 256, 'l', 'o'}));
  auto b = tiny_bpe(extra, {"l l", "e l", "h e"}, "gpt-2").tokenizer();
  EXPECT_EQ(b->encode("hello", false, false), (Ids{258, 257, 'o'}));
  // Equal ranks: the leftmost pair merges first.
  auto c = tiny_bpe({"aa"}, {"a a"}, "gpt-2").tokenizer();
  EXPECT_EQ(c->encode("aaa", false, false), (Ids{256, 'a'}));
  EXPECT_EQ(c->encode("aaaa", false, false), (Ids{256, 256}));
  EXPECT_EQ(c->decode(Ids{256, 'a'}), "aaa");
}

TEST(BpeTokenizer, SpacesAreSpelledInTheByteAlphabet) {
  const std::string g = "\xC4\xA0";  // "Ġ", the mapped space
  auto tok = tiny_bpe({g + "a"}, {g + " a"}, "gpt-2").tokenizer();
  EXPECT_EQ(tok->encode("a a", false, false), (Ids{'a', 256}));
  EXPECT_EQ(tok->token_to_piece(256), " a");
}

TEST(BpeTokenizer, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  // "hello" is a token but no merge builds it: Llama 3 takes it whole, GPT-2 spells it out.
  auto llama3 = tiny_bpe({"hello"}, {}, "llama-bpe").tokenizer();
  EXPECT_EQ(llama3->pre_tokenizer(), "llama3");
  EXPECT_EQ(llama3->encode("hello", false, false), (Ids{256}));
  auto gpt2 = tiny_bpe({"hello"}, {}, "gpt-2").tokenizer();
  EXPECT_EQ(gpt2->encode("hello", false, false), (Ids{'h', 'e', 'l', 'l', 'o'}));
}

TEST(BpeTokenizer, AddBosDefaultFollowsTheModelFamilyUnlessTheFileSays) {
  // Llama 3 files that leave out add_bos_token still start with <|begin_of_text|>.
  auto llama3 = tiny_bpe({"<|begin_of_text|>"}, {}, "llama-bpe");
  llama3.u32("tokenizer.ggml.bos_token_id", 256);
  EXPECT_TRUE(llama3.tokenizer()->add_bos_default());
  EXPECT_EQ(llama3.tokenizer()->encode("a", true, false), (Ids{256, 'a'}));
  llama3.boolean("tokenizer.ggml.add_bos_token", false);
  EXPECT_FALSE(llama3.tokenizer()->add_bos_default());
  // GPT-2 adds nothing by default.
  auto gpt2 = tiny_bpe({"<|begin_of_text|>"}, {}, "gpt-2");
  gpt2.u32("tokenizer.ggml.bos_token_id", 256);
  EXPECT_FALSE(gpt2.tokenizer()->add_bos_default());
}

TEST(BpeTokenizer, PreTokenizerComesFromMetadata) {
  // Qwen2 splits every digit; GPT-2 keeps digit runs together (and merges "12").
  auto qwen = tiny_bpe({"12"}, {"1 2"}, "qwen2").tokenizer();
  EXPECT_EQ(qwen->pre_tokenizer(), "qwen2");
  EXPECT_EQ(qwen->encode("12", false, false), (Ids{'1', '2'}));
  auto gpt2 = tiny_bpe({"12"}, {"1 2"}, "gpt-2").tokenizer();
  EXPECT_EQ(gpt2->encode("12", false, false), (Ids{256}));
}

TEST(BpeTokenizer, UnknownPreTokenizerFallsBackToGpt2) {
  auto tok = tiny_bpe({"12"}, {"1 2"}, "no-such-model").tokenizer();
  EXPECT_EQ(tok->pre_tokenizer(), "gpt-2");
  EXPECT_EQ(tok->encode("12", false, false), (Ids{256}));
  auto missing = test::GgufBuilder()
                     .str("tokenizer.ggml.model", "gpt2")
                     .strings("tokenizer.ggml.tokens", test::byte_level_alphabet())
                     .strings("tokenizer.ggml.merges", {})
                     .tokenizer();
  EXPECT_EQ(missing->pre_tokenizer(), "gpt-2");
}

TEST(BpeTokenizer, ChatSpecialTokens) {
  auto tok = tiny_bpe({}, {}, "qwen2", {{"<|im_start|>", 3}, {"<|im_end|>", 3}, {"<tool>", 4}})
                 .tokenizer();
  const int32_t im_start = 256, im_end = 257, tool = 258, eot = 259;
  EXPECT_EQ(tok->encode("<|im_start|>a<|im_end|>", false, true), (Ids{im_start, 'a', im_end}));
  const Ids plain = tok->encode("<|im_start|>a", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
  EXPECT_EQ(tok->decode(plain), "<|im_start|>a");
  // User-defined tokens are matched even when special tokens are not, and decode to their text.
  EXPECT_EQ(tok->encode("a<tool>", false, false), (Ids{'a', tool}));
  EXPECT_EQ(tok->decode(Ids{'a', tool}), "a<tool>");
  EXPECT_TRUE(tok->is_eog(im_end));
  EXPECT_TRUE(tok->is_eog(eot));
  EXPECT_FALSE(tok->is_eog(im_start));
  EXPECT_EQ(tok->eos_id(), eot);
}

TEST(BpeTokenizer, LongestSpecialTokenWins) {
  auto tok = tiny_bpe({}, {}, "gpt-2", {{"<|a|>", 3}, {"<|a|><|b|>", 3}}).tokenizer();
  EXPECT_EQ(tok->encode("x<|a|><|b|><|a|>", false, true), (Ids{'x', 257, 256}));
}

}  // namespace
}  // namespace pareto
