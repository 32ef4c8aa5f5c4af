// Streaming detokenization never emits part of a UTF-8 character and adds up to decode().
#include "tokenizer/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

using Ids = std::vector<int32_t>;

std::unique_ptr<Tokenizer> load(const std::string& path) {
  const GgufFile gguf = GgufFile::open(path);
  return Tokenizer::from_gguf(gguf);
}

std::vector<std::string> feed_all(IncrementalDetokenizer& detok, const Ids& ids) {
  std::vector<std::string> deltas;
  for (int32_t id : ids) deltas.push_back(detok.feed(id));
  return deltas;
}

TEST(IncrementalDetokenizer, HoldsBackBytesOfAnEmojiUntilComplete) {
  const auto tok = load(test::stories_model());
  // "hi 🦙!" with BOS: the emoji is four byte tokens in this small vocabulary.
  const Ids ids = tok->encode("hi \xF0\x9F\xA6\x99!", true, false);
  IncrementalDetokenizer detok(*tok);
  std::string streamed;
  int emoji_deltas = 0;
  for (int32_t id : ids) {
    const std::string delta = detok.feed(id);
    ASSERT_TRUE(is_valid_utf8(delta));
    if (delta.find("\xF0\x9F\xA6\x99") != std::string::npos) ++emoji_deltas;
    if (tok->token_type(id) == TokenType::kByte && delta.empty()) {
      EXPECT_GT(detok.num_pending_bytes(), 0u);
    }
    streamed += delta;
  }
  EXPECT_EQ(emoji_deltas, 1);
  EXPECT_EQ(detok.flush(), "");
  EXPECT_EQ(streamed, tok->decode(ids));
  EXPECT_EQ(streamed, "hi \xF0\x9F\xA6\x99!");
}

TEST(IncrementalDetokenizer, ByteLevelPieceEndingMidCharacter) {
  const auto tok = load(test::reference_dir() + "/tokenizer/ggml-vocab-gpt-2.gguf");
  // GPT-2 spells " 🦙" as ' \xF0\x9F', '\xA6', '\x99'.
  const Ids ids = tok->encode(" \xF0\x9F\xA6\x99", false, false);
  ASSERT_EQ(ids, (Ids{12520, 99, 247}));
  IncrementalDetokenizer detok(*tok);
  EXPECT_EQ(feed_all(detok, ids), (std::vector<std::string>{" ", "", "\xF0\x9F\xA6\x99"}));
}

TEST(IncrementalDetokenizer, StripsTheSentencePieceSpaceOnlyAtTheStart) {
  const auto tok = load(test::stories_model());
  IncrementalDetokenizer detok(*tok);
  // BOS produces no text, so the space is stripped from the first real piece.
  EXPECT_EQ(feed_all(detok, Ids{1, 403, 407}), (std::vector<std::string>{"", "Once", " upon"}));
}

TEST(IncrementalDetokenizer, PrimeWithThePromptKeepsTheSpaceOfGeneratedText) {
  const auto tok = load(test::stories_model());
  IncrementalDetokenizer detok(*tok);
  detok.prime(Ids{1, 403});
  EXPECT_EQ(detok.feed(407), " upon");
  // A character split between prompt and output comes out whole.
  IncrementalDetokenizer split(*tok);
  split.prime(Ids{1, 3 + 0xF0, 3 + 0x9F});
  EXPECT_EQ(split.feed(3 + 0xA6), "");
  EXPECT_EQ(split.feed(3 + 0x99), "\xF0\x9F\xA6\x99");
}

TEST(IncrementalDetokenizer, InvalidAndTruncatedBytesBecomeReplacementCharacters) {
  const auto tok = load(test::stories_model());
  IncrementalDetokenizer detok(*tok);
  // A lone continuation byte can never become valid: replaced at once.
  EXPECT_EQ(detok.feed(3 + 0x80), "\xEF\xBF\xBD");
  EXPECT_EQ(detok.feed(3 + 0xF0), "");
  EXPECT_EQ(detok.feed(3 + 0x9F), "");
  // 'A' cannot continue F0 9F: the broken lead is replaced, the rest goes out as is.
  EXPECT_EQ(detok.feed(3 + 'A'),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "A");
  EXPECT_EQ(detok.feed(3 + 0xE4), "");
  EXPECT_EQ(detok.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(detok.num_pending_bytes(), 0u);
  EXPECT_EQ(detok.flush(), "");
}

TEST(IncrementalDetokenizer, RenderSpecialShowsControlTokens) {
  const auto tok = load(test::stories_model());
  IncrementalDetokenizer detok(*tok, /*render_special=*/true);
  std::string out;
  for (int32_t id : Ids{1, 403, 2}) out += detok.feed(id);
  EXPECT_EQ(out, "<s> Once</s>");
  EXPECT_EQ(out, tok->decode(Ids{1, 403, 2}, true));
}

}  // namespace
}  // namespace pareto
