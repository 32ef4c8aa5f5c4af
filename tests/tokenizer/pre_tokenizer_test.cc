// The split regexes of each supported pre-tokenizer on texts where they differ.
#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace pareto {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(std::string_view pre, std::string_view text) {
  const PreTokenizerConfig config = pre_tokenizer_config(pre);
  const PreTokenizer p(config.patterns);
  Pieces out;
  for (std::string_view piece : p.split(text)) out.emplace_back(piece);
  return out;
}

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split("gpt-2", "Hello world's  123 !!\n"),
            (Pieces{"Hello", " world", "'s", " ", " 123", " !!", "\n"}));
  // Contractions are case-sensitive in GPT-2.
  EXPECT_EQ(split("gpt-2", "I'M"), (Pieces{"I", "'", "M"}));
  EXPECT_EQ(split("default", "a   b"), (Pieces{"a", "  ", " b"}));
  // The whitespace before a word keeps its last character apart even when that is no space.
  EXPECT_EQ(split("mpt", "x\t\ty"), (Pieces{"x", "\t", "\t", "y"}));
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(split("llama-bpe", "Hello world 12345\n\nok"),
            (Pieces{"Hello", " world", " ", "123", "45", "\n\n", "ok"}));
  EXPECT_EQ(split("llama3", "I'M (x)"), (Pieces{"I", "'M", " (", "x", ")"}));
  EXPECT_TRUE(pre_tokenizer_config("llama-bpe").ignore_merges);
  EXPECT_FALSE(pre_tokenizer_config("gpt-2").ignore_merges);
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(split("qwen2", "abc 12345"), (Pieces{"abc", " ", "1", "2", "3", "4", "5"}));
}

TEST(PreTokenizer, StarcoderFamilySplitsDigitsFirst) {
  for (const char* pre : {"starcoder", "refact", "smollm"}) {
    EXPECT_EQ(split(pre, "abc123 x"), (Pieces{"abc", "1", "2", "3", " x"})) << pre;
  }
}

TEST(PreTokenizer, Falcon) {
  EXPECT_EQ(split("falcon", "a+b=1234"), (Pieces{"a", "+", "b", "=", "123", "4"}));
}

TEST(PreTokenizer, DeepseekCoder) {
  EXPECT_EQ(split("deepseek-coder", "Hello, world!\n123"),
            (Pieces{"Hello", ",", " world", "!", "\n", "1", "2", "3"}));
}

TEST(PreTokenizer, DeepseekLlm) {
  EXPECT_EQ(split("deepseek-llm", "Hello \xE4\xB8\x96\xE7\x95\x8C 123"),  // "Hello 世界 123"
            (Pieces{"Hello", " ", "\xE4\xB8\x96\xE7\x95\x8C", " ", "123"}));
  EXPECT_EQ(split("deepseek-llm", "a, b\n"), (Pieces{"a", ",", " b", "\n"}));
}

TEST(PreTokenizer, UnicodeClassesUseUnicodeProperties) {
  // "нещо" is letters, "½" a number, U+1F680 neither.
  EXPECT_EQ(split("gpt-2", "\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE \xC2\xBD \xF0\x9F\x9A\x80"),
            (Pieces{"\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE", " \xC2\xBD", " \xF0\x9F\x9A\x80"}));
}

TEST(PreTokenizer, InvalidUtf8BytesArePiecesOfTheirOwn) {
  EXPECT_EQ(split("gpt-2",
                  "ab\xFF"
                  "cd \xC3"),
            (Pieces{"ab", "\xFF", "cd", " ", "\xC3"}));
}

TEST(PreTokenizer, PiecesCoverTheInputForEveryConfig) {
  const std::string text =
      "  Hello, y'all!\tHow are you \xF0\x9F\x98\x81 ?\xE6\x88\x91\xE6\x83\xB3 apple 1314151\r\n"
      "  x = a+b; // 3..3 ...\n\n\n caf\xC3\xA9 \xE0\xA4\x95\xE0\xA4\xBF \xFF end  ";
  for (const char* pre :
       {"gpt-2", "llama-bpe", "qwen2", "smollm", "deepseek-llm", "deepseek-coder", "deepseek-v3",
        "falcon", "starcoder", "refact", "mpt", "gpt-4o", "tekken", "command-r", "chatglm-bpe"}) {
    const PreTokenizerConfig config = pre_tokenizer_config(pre);
    const PreTokenizer p(config.patterns);
    std::string joined;
    for (std::string_view piece : p.split(text)) {
      EXPECT_FALSE(piece.empty()) << pre;
      joined += piece;
    }
    EXPECT_EQ(joined, text) << pre;
  }
}

TEST(PreTokenizer, LongRunsDoNotOverflowTheMatcher) {
  const std::string spaces(200000, ' ');
  const Pieces pieces = split("gpt-2", spaces + "a");
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].size(), spaces.size() - 1);
  EXPECT_EQ(pieces[1], " a");
  const std::string letters(200000, 'x');
  EXPECT_EQ(split("llama3", letters + "\n" + std::string(100000, '\n')).size(), 2u);
}

TEST(PreTokenizer, UnknownNameFallsBackToGpt2) {
  EXPECT_EQ(pre_tokenizer_config("no-such-tokenizer").name, "gpt-2");
  EXPECT_EQ(pre_tokenizer_config("").name, "gpt-2");
  EXPECT_EQ(pre_tokenizer_config("llama-bpe").name, "llama3");
}

TEST(PreTokenizer, BadPatternIsAnError) {
  EXPECT_THROW(PreTokenizer({"(unclosed"}), Error);
}

}  // namespace
}  // namespace pareto
