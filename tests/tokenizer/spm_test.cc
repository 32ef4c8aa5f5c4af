// SentencePiece-style tokenization: stories260K against the reference prompts, and synthetic
// vocabularies for byte fallback, unknown tokens, unused pieces and special tokens.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "support/test_paths.h"
#include "tokenizer/gguf_builder.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

using Ids = std::vector<int32_t>;

std::unique_ptr<Tokenizer> stories_tokenizer() {
  const GgufFile gguf = GgufFile::open(test::stories_model());
  return Tokenizer::from_gguf(gguf);
}

TEST(SpmTokenizer, Stories260KMetadata) {
  const auto tok = stories_tokenizer();
  EXPECT_EQ(tok->kind(), TokenizerKind::kSentencePiece);
  EXPECT_EQ(tok->vocab_size(), 512);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->unk_id(), 0);
  EXPECT_EQ(tok->pad_id(), -1);  // stored as 0xFFFFFFFF
  EXPECT_TRUE(tok->add_bos_default());
  EXPECT_FALSE(tok->add_eos_default());
  EXPECT_TRUE(tok->is_eog(2));
  EXPECT_FALSE(tok->is_eog(1));
  EXPECT_FALSE(tok->is_eog(403));
  EXPECT_FALSE(tok->is_eog(-1));
  EXPECT_FALSE(tok->is_eog(512));
  EXPECT_EQ(tok->token_type(0), TokenType::kUnknown);
  EXPECT_EQ(tok->token_type(1), TokenType::kControl);
  EXPECT_EQ(tok->token_type(3), TokenType::kByte);
}

TEST(SpmTokenizer, Stories260KOnceUponATime) {
  const auto tok = stories_tokenizer();
  EXPECT_EQ(tok->encode("Once upon a time", true, true), (Ids{1, 403, 407, 261, 378}));
  EXPECT_EQ(tok->encode("Once upon a time", false, true), (Ids{403, 407, 261, 378}));
}

TEST(SpmTokenizer, Stories260KReferencePrompts) {
  const auto tok = stories_tokenizer();
  for (int i = 1; i <= 4; ++i) {
    const std::string path =
        test::reference_dir() + "/stories260K/case" + std::to_string(i) + ".json";
    const auto j = nlohmann::json::parse(test::read_file(path));
    const std::string prompt = j.at("prompt");
    const Ids expected = j.at("prompt_tokens").get<Ids>();
    EXPECT_EQ(tok->encode(prompt, j.at("add_bos").get<bool>(), true), expected) << path;
    EXPECT_EQ(tok->decode(expected), prompt);
  }
}

TEST(SpmTokenizer, PiecesAndDecode) {
  const auto tok = stories_tokenizer();
  EXPECT_EQ(tok->token_text(403), "\xE2\x96\x81Once");
  EXPECT_EQ(tok->token_to_piece(403), " Once");
  EXPECT_EQ(tok->token_to_piece(1), "");           // control tokens produce no text...
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");  // ...unless asked to render them
  EXPECT_EQ(tok->token_to_piece(3 + 0x41), "A");   // <0x41>
  EXPECT_THROW(tok->token_to_piece(512), Error);
  EXPECT_THROW(tok->token_to_piece(-1), Error);
  // The space the encoder prepends is removed again, also after a BOS.
  EXPECT_EQ(tok->decode(Ids{1, 403, 407, 261, 378, 2}), "Once upon a time");
  EXPECT_EQ(tok->decode(Ids{403, 407}), "Once upon");
  EXPECT_EQ(tok->decode(Ids{1, 403, 2}, true), "<s> Once</s>");
  EXPECT_EQ(tok->decode(Ids{}), "");
  EXPECT_THROW(tok->decode(Ids{1, 9999}), Error);
}

TEST(SpmTokenizer, ByteFallbackForCharactersWithoutPieces) {
  const auto tok = stories_tokenizer();
  // U+1F999 is F0 9F A6 99; byte token ids are 3 + byte.
  const Ids ids = tok->encode("\xF0\x9F\xA6\x99", false, false);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(tok->token_text(ids[0]), "\xE2\x96\x81");
  EXPECT_EQ((Ids(ids.begin() + 1, ids.end())), (Ids{3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99}));
  EXPECT_EQ(tok->decode(ids), "\xF0\x9F\xA6\x99");
  // Bytes that are not valid UTF-8 survive the round trip too.
  const std::string broken = "a\xFF\xC3";
  EXPECT_EQ(tok->decode(tok->encode(broken, true, false)), broken);
}

TEST(SpmTokenizer, SpecialTokensOnlyWhenParsingSpecial) {
  const auto tok = stories_tokenizer();
  const Ids parsed = tok->encode("<s>Once</s>", false, true);
  EXPECT_EQ(parsed, (Ids{1, 403, 2}));
  const Ids plain = tok->encode("<s>Once</s>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  EXPECT_EQ(tok->decode(plain), "<s>Once</s>");
  // A space prefix is added again after a special token, as SentencePiece sees the stretch
  // after it as a new text.
  EXPECT_EQ(tok->encode("Once</s>Once", false, true), (Ids{403, 2, 403}));
  EXPECT_EQ(tok->encode("<unk>", false, true), (Ids{0}));
}

TEST(SpmTokenizer, EmptyText) {
  const auto tok = stories_tokenizer();
  EXPECT_EQ(tok->encode("", false, true), Ids{});
  EXPECT_EQ(tok->encode("", true, true), Ids{1});
}

// A tiny SentencePiece vocabulary: <unk> <s> </s>, then pieces with scores.
test::GgufBuilder tiny_spm(const std::vector<std::string>& pieces, const std::vector<float>& scores,
                           const std::vector<int32_t>& types) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  tokens.insert(tokens.end(), pieces.begin(), pieces.end());
  std::vector<float> all_scores = {0, 0, 0};
  all_scores.insert(all_scores.end(), scores.begin(), scores.end());
  std::vector<int32_t> all_types = {2, 3, 3};
  all_types.insert(all_types.end(), types.begin(), types.end());
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", tokens)
      .floats("tokenizer.ggml.scores", all_scores)
      .ints("tokenizer.ggml.token_type", all_types)
      .u32("tokenizer.ggml.unknown_token_id", 0)
      .u32("tokenizer.ggml.bos_token_id", 1)
      .u32("tokenizer.ggml.eos_token_id", 2);
  return b;
}

const std::string kSp = "\xE2\x96\x81";  // U+2581

TEST(SpmTokenizer, MergesHighestScoreFirst) {
  // "abc": "ab" (score -1) beats "bc" (score -2), so the result is ab + c, not a + bc.
  auto b = tiny_spm({kSp, "a", "b", "c", "ab", "bc"}, {-5, -5, -5, -5, -1, -2}, {1, 1, 1, 1, 1, 1});
  const auto tok = b.tokenizer();
  EXPECT_EQ(tok->encode("abc", false, false), (Ids{3, 7, 6}));
  auto b2 =
      tiny_spm({kSp, "a", "b", "c", "ab", "bc"}, {-5, -5, -5, -5, -2, -1}, {1, 1, 1, 1, 1, 1});
  EXPECT_EQ(b2.tokenizer()->encode("abc", false, false), (Ids{3, 4, 8}));
}

TEST(SpmTokenizer, UnknownTokenWithoutByteTokens) {
  auto b = tiny_spm({kSp, "a"}, {-1, -1}, {1, 1});
  const auto tok = b.tokenizer();
  // One <unk> per character that no piece covers.
  EXPECT_EQ(tok->encode("a\xC3\xA9z", false, false), (Ids{3, 4, 0, 0}));
}

TEST(SpmTokenizer, UnusedPiecesAreSplitBackIntoTheirParts) {
  // "ab" is unused: merges may form it but it is never output, so "abc" becomes a, b, c even
  // though the higher-scored "ab" blocked "bc".
  auto b = tiny_spm({kSp, "a", "b", "c", "ab", "bc"}, {-5, -5, -5, -5, -1, -2}, {1, 1, 1, 1, 5, 1});
  EXPECT_EQ(b.tokenizer()->encode("abc", false, false), (Ids{3, 4, 5, 6}));
}

TEST(SpmTokenizer, NoSpacePrefixWhenDisabled) {
  auto b = tiny_spm({kSp, "a", "b"}, {-1, -1, -1}, {1, 1, 1});
  b.boolean("tokenizer.ggml.add_space_prefix", false);
  const auto tok = b.tokenizer();
  EXPECT_FALSE(tok->strips_leading_space());
  EXPECT_EQ(tok->encode("a b", false, false), (Ids{4, 3, 5}));
  EXPECT_EQ(tok->decode(Ids{3, 4}), " a");
}

TEST(SpmTokenizer, PiecesSpanningSpacesStillMerge) {
  // With a piece that crosses a word boundary the text cannot be cut into words first.
  auto b =
      tiny_spm({kSp, "a", "b", "a" + kSp, "a" + kSp + "b"}, {-5, -5, -5, -1, 0}, {1, 1, 1, 1, 1});
  b.boolean("tokenizer.ggml.add_space_prefix", false);
  EXPECT_EQ(b.tokenizer()->encode("a b a", false, false), (Ids{7, 3, 4}));
}

TEST(SpmTokenizer, UserDefinedTokensAreAlwaysMatched) {
  auto b = tiny_spm({kSp, "a", "<sep>", "<|im_end|>"}, {-1, -1, 0, 0}, {1, 1, 4, 3});
  b.boolean("tokenizer.ggml.add_eos_token", true);
  const auto tok = b.tokenizer();
  EXPECT_EQ(tok->encode("a<sep>a", false, false), (Ids{3, 4, 5, 3, 4}));
  EXPECT_EQ(tok->encode("a<sep>a", true, false), (Ids{1, 3, 4, 5, 3, 4, 2}));
  EXPECT_TRUE(tok->is_eog(6));  // <|im_end|> ends a turn
  EXPECT_TRUE(tok->is_eog(2));
}

TEST(SpmTokenizer, EndOfTurnTokenFromMetadata) {
  auto b = tiny_spm({kSp, "a", "<end_of_turn>", "<eot>"}, {-1, -1, 0, 0}, {1, 1, 3, 3});
  b.u32("tokenizer.ggml.eot_token_id", 6);
  const auto tok = b.tokenizer();
  EXPECT_TRUE(tok->is_eog(5));  // by name
  EXPECT_TRUE(tok->is_eog(6));  // by tokenizer.ggml.eot_token_id
  EXPECT_FALSE(tok->is_eog(4));
}

}  // namespace
}  // namespace pareto
