// The split regexes of each supported pre-tokenizer on texts where they differ. Every expected
// split was worked out by hand from the regexes and agrees with Hugging Face tokenizers' own
// pre_tokenize_str on the models' pre_tokenizer definitions (docs/tokenizer.md).
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
  EXPECT_EQ(split("gpt-2", "I'M don't"), (Pieces{"I", "'", "M", " don", "'t"}));
  EXPECT_EQ(split("gpt2", "a   b"), (Pieces{"a", "  ", " b"}));
  // The whitespace before a word keeps its last character apart even when that is no space.
  EXPECT_EQ(split("mpt", "x\t\ty"), (Pieces{"x", "\t", "\t", "y"}));
  // Newlines are whitespace like any other.
  EXPECT_EQ(split("olmo", "!!\n\nx"), (Pieces{"!!", "\n", "\n", "x"}));
}

TEST(PreTokenizer, WhitespaceIsTheUnicodeWhiteSpaceProperty) {
  // U+0085 is White_Space: two of them before a letter split like spaces.
  EXPECT_EQ(split("gpt-2",
                  "a\xC2\x85\xC2\x85"
                  "b"),
            (Pieces{"a", "\xC2\x85", "\xC2\x85", "b"}));
  // U+180E is not (PCRE2's own \s says it is; Oniguruma and llama.cpp say not): a symbol run.
  EXPECT_EQ(split("gpt-2",
                  "a\xE1\xA0\x8E\xE1\xA0\x8E"
                  "b"),
            (Pieces{"a", "\xE1\xA0\x8E\xE1\xA0\x8E", "b"}));
}

TEST(PreTokenizer, DigitGrouping) {
  const std::string text = "abc 1234567";
  // Unlimited runs, with the space.
  EXPECT_EQ(split("gpt-2", text), (Pieces{"abc", " 1234567"}));
  EXPECT_EQ(split("bloom", text), (Pieces{"abc", " 1234567"}));
  // Groups of up to 3 from the left.
  const Pieces threes = {"abc", " ", "123", "456", "7"};
  for (const char* pre : {"llama-bpe", "gpt-4o", "deepseek-v3", "falcon", "minicpm5", "default"}) {
    EXPECT_EQ(split(pre, text), threes) << pre;
  }
  // Single digits.
  const Pieces singles = {"abc", " ", "1", "2", "3", "4", "5", "6", "7"};
  for (const char* pre : {"qwen2", "qwen35", "smollm", "tekken", "deepseek-llm", "deepseek-coder",
                          "viking", "spark2_5", "exaone-moe", "seed-coder", "bailingmoe"}) {
    EXPECT_EQ(split(pre, text), singles) << pre;
  }
  // Groups of 3 from the right.
  EXPECT_EQ(split("tiny_aya", text), (Pieces{"abc", " ", "1", "234", "567"}));
  EXPECT_EQ(split("tiny_aya", "x1234567.5"), (Pieces{"x", "1", "234", "567", ".", "5"}));
  // SuperBPE cuts with an empty match and has no word regex.
  EXPECT_EQ(split("superbpe", text), (Pieces{"abc ", "1", "234", "567"}));
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(split("llama-bpe", "Hello world 12345\n\nok"),
            (Pieces{"Hello", " world", " ", "123", "45", "\n\n", "ok"}));
  // Case-insensitive contractions; a word takes one leading non-letter.
  EXPECT_EQ(split("llama3", "I'M (x)"), (Pieces{"I", "'M", " (", "x", ")"}));
  EXPECT_EQ(split("llama3", "I'M don't"), (Pieces{"I", "'M", " don", "'t"}));
  // (?i) folds U+017F (long s) to s, as Oniguruma does.
  EXPECT_EQ(split("llama3",
                  "x'\xC5\xBF"
                  "a"),
            (Pieces{"x", "'\xC5\xBF", "a"}));
  // Symbol runs keep their trailing newlines.
  EXPECT_EQ(split("llama3", "!!\n\nx"), (Pieces{"!!\n\n", "x"}));
  EXPECT_EQ(split("llama3", "HelloWorld iPhone"), (Pieces{"HelloWorld", " iPhone"}));
  // Whitespace before a word keeps one character for it.
  EXPECT_EQ(split("llama3", "a          b"), (Pieces{"a", "         ", " b"}));
  // "½٣٤" is one number run of three.
  EXPECT_EQ(split("llama3", "\xC2\xBD\xD9\xA3\xD9\xA4 x"),
            (Pieces{"\xC2\xBD\xD9\xA3\xD9\xA4", " x"}));
}

TEST(PreTokenizer, Qwen2AndQwen35) {
  EXPECT_EQ(split("qwen2", "abc 12345"), (Pieces{"abc", " ", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(split("deepseek-r1-qwen", "!!\n\nx"), (Pieces{"!!\n\n", "x"}));
  // "e" + U+0301: Qwen2 leaves the combining mark to lead the next word, Qwen3.5 keeps it.
  EXPECT_EQ(split("qwen2", "e\xCC\x81x"), (Pieces{"e", "\xCC\x81x"}));
  EXPECT_EQ(split("qwen35", "e\xCC\x81x"), (Pieces{"e\xCC\x81x"}));
}

TEST(PreTokenizer, Qwen2Relatives) {
  // Bailing: contractions, possessive symbol runs, newline runs.
  EXPECT_EQ(split("bailingmoe", "it'S A\n\nb"), (Pieces{"it", "'S", " A", "\n\n", "b"}));
  // Seed-Coder: symbol runs never take newlines.
  EXPECT_EQ(split("seed-coder", "!!\n\nx"), (Pieces{"!!", "\n\n", "x"}));
  // Ufakzeka: no contractions, so an apostrophe suffix stays a word of its own.
  EXPECT_EQ(split("ufakzeka", "it'S"), (Pieces{"it", "'S"}));
  // Laguna: lines and newline runs first.
  EXPECT_EQ(split("laguna", "ab\n\ncd"), (Pieces{"ab", "\n\n", "cd"}));
  // K-EXAONE: a word runs on over single spaces.
  EXPECT_EQ(split("exaone-moe", "hello big world, ok"), (Pieces{"hello big world", ",", " ok"}));
  // Jais 2: whitespace runs in power-of-two lengths.
  EXPECT_EQ(split("jais-2", "a          b"), (Pieces{"a", "        ", " ", " b"}));
}

TEST(PreTokenizer, Gpt4oAndTekken) {
  // Words split at case changes; GPT-4o attaches contractions, Tekken does not.
  EXPECT_EQ(split("gpt-4o", "HelloWorld iPhone XMLParser"),
            (Pieces{"Hello", "World", " i", "Phone", " XMLParser"}));
  EXPECT_EQ(split("tekken", "HelloWorld iPhone XMLParser"),
            (Pieces{"Hello", "World", " i", "Phone", " XMLParser"}));
  EXPECT_EQ(split("gpt-4o", "I'M don't"), (Pieces{"I'M", " don't"}));
  EXPECT_EQ(split("tekken", "I'M don't"), (Pieces{"I", "'M", " don", "'t"}));
  // Symbol runs take trailing newlines and slashes.
  EXPECT_EQ(split("llama4", "a/\n/b"), (Pieces{"a", "/\n/", "b"}));
  EXPECT_EQ(split("llama3", "a/\n/b"), (Pieces{"a", "/\n", "/b"}));
  // Case uses Unicode categories: "É" starts a new word after "a".
  EXPECT_EQ(split("gpt-4o",
                  "a\xC3\x89"
                  "b"),
            (Pieces{"a",
                    "\xC3\x89"
                    "b"}));
}

TEST(PreTokenizer, StarcoderFamilySplitsDigitsFirst) {
  for (const char* pre :
       {"starcoder", "refact", "smollm", "command-r", "codeshell", "exaone", "minerva-7b"}) {
    EXPECT_EQ(split(pre, "abc123 x"), (Pieces{"abc", "1", "2", "3", " x"})) << pre;
  }
}

TEST(PreTokenizer, Falcon) {
  EXPECT_EQ(split("falcon", "a+b=1234 x<y"),
            (Pieces{"a", "+", "b", "=", "123", "4", " x", "<", "y"}));
  // ASCII symbols count as punctuation, so the backtick is cut off (llama.cpp's "default" set
  // lacks it, but the word regex cuts it all the same).
  EXPECT_EQ(split("falcon", "`x`"), (Pieces{"`", "x", "`"}));
  // Digits are cut from the space before them, and in the byte-mapped text: "м" is D0 BC and
  // BC is "¼", a number, so HF cuts the character in two.
  EXPECT_EQ(split("falcon", "\xD0\xBC\xD0\xB8\xD1\x80 12"),
            (Pieces{"\xD0", "\xBC", "\xD0\xB8\xD1\x80", " ", "12"}));
}

TEST(PreTokenizer, LlamaCppDefault) {
  EXPECT_EQ(split("default", "a+b=1234 x<y"),
            (Pieces{"a", "+", "b", "=", "123", "4", " x", "<", "y"}));
  EXPECT_EQ(split("default", "a   b"), (Pieces{"a", "  ", " b"}));
}

TEST(PreTokenizer, DeepseekCoder) {
  EXPECT_EQ(split("deepseek-coder", "Hello, world!\n123"),
            (Pieces{"Hello", ",", " world", "!", "\n", "1", "2", "3"}));
  // "ab你好cd, x!": CJK runs apart from letters.
  EXPECT_EQ(split("deepseek-coder",
                  "ab\xE4\xBD\xA0\xE5\xA5\xBD"
                  "cd, x!"),
            (Pieces{"ab", "\xE4\xBD\xA0\xE5\xA5\xBD", "cd", ",", " x", "!"}));
}

TEST(PreTokenizer, DeepseekLlm) {
  EXPECT_EQ(split("deepseek-llm", "Hello \xE4\xB8\x96\xE7\x95\x8C 123"),  // "Hello 世界 123"
            (Pieces{"Hello", " ", "\xE4\xB8\x96\xE7\x95\x8C", " ", "1", "2", "3"}));
  EXPECT_EQ(split("deepseek-llm", "a, b\n"), (Pieces{"a", ",", " b", "\n"}));
  // Trailing whitespace is a word of its own; newlines are always alone.
  EXPECT_EQ(split("deepseek-llm", "x  \n  "), (Pieces{"x", "  ", "\n", "  "}));
  // The punctuation class [!-/:-~] also covers ASCII letters, so it cuts them out of a word
  // that has other letters: "café" -> "caf" "é".
  EXPECT_EQ(split("deepseek-llm", "caf\xC3\xA9 Hello"), (Pieces{"caf", "\xC3\xA9", " Hello"}));
  // "аб µx": U+00B5 is in the letter list.
  EXPECT_EQ(split("deepseek-llm", "\xD0\xB0\xD0\xB1 \xC2\xB5x"),
            (Pieces{"\xD0\xB0\xD0\xB1", " \xC2\xB5", "x"}));
}

TEST(PreTokenizer, DeepseekV3) {
  // "カタabc世": kana and ideograph runs apart.
  EXPECT_EQ(split("deepseek-v3",
                  "\xE3\x82\xAB\xE3\x82\xBF"
                  "abc\xE4\xB8\x96"),
            (Pieces{"\xE3\x82\xAB\xE3\x82\xBF", "abc", "\xE4\xB8\x96"}));
  // An ASCII symbol leads an ASCII word.
  EXPECT_EQ(split("deepseek-v3", "(abc) .x"), (Pieces{"(abc", ")", " .", "x"}));
  EXPECT_EQ(split("hunyuan-dense", "!!\n\nx"), (Pieces{"!!\n\n", "x"}));
  // Spark 2.5: newlines alone.
  EXPECT_EQ(split("spark2_5", "!!\n\nx"), (Pieces{"!!", "\n", "\n", "x"}));
}

TEST(PreTokenizer, Youtu) {
  // "한국어。你好ab": Hangul, CJK punctuation and ideographs each a word.
  EXPECT_EQ(split("youtu",
                  "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4\xE3\x80\x82\xE4\xBD\xA0\xE5\xA5\xBD"
                  "ab"),
            (Pieces{"\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", "\xE3\x80\x82",
                    "\xE4\xBD\xA0\xE5\xA5\xBD", "ab"}));
}

TEST(PreTokenizer, Bloom) {
  // Everything but whitespace, ( | ) and sentence punctuation is a word; [ ] are word characters.
  EXPECT_EQ(split("bloom", "Hello, (world) a|b [c] 123."),
            (Pieces{"Hello", ", (", "world", ")", " a", "|", "b", " [c]", " 123", "."}));
  EXPECT_EQ(
      split("viking", "Hello, (world) a|b [c] 123."),
      (Pieces{"Hello", ", (", "world", ")", " a", "|", "b", " [c]", " ", "1", "2", "3", "."}));
}

TEST(PreTokenizer, EmptyMatchesCut) {
  const PreTokenizer p({R"re((?=(\d{3})+(?!\d)))re"});
  std::vector<std::string> pieces;
  for (std::string_view piece : p.split("x1234567 12")) pieces.emplace_back(piece);
  EXPECT_EQ(pieces, (Pieces{"x1", "234", "567 12"}));
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
  EXPECT_EQ(split("falcon",
                  "12\xBD"
                  "3"),
            (Pieces{"12", "\xBD", "3"}));
}

TEST(PreTokenizer, PiecesCoverTheInputForEveryName) {
  const std::string text =
      "  Hello, y'all!\tHow are you \xF0\x9F\x98\x81 ?\xE6\x88\x91\xE6\x83\xB3 apple 1314151\r\n"
      "  x = a+b; // 3..3 ...\n\n\n caf\xC3\xA9 \xE0\xA4\x95\xE0\xA4\xBF \xFF end \xC2\xBD\xD0\xBC "
      " ";
  for (std::string_view pre : known_pre_tokenizer_names()) {
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

TEST(PreTokenizer, NamesMapToSplitsAndFlags) {
  struct Expected {
    const char* pre;
    const char* name;
    bool ignore_merges, add_bos, clean_spaces;
  };
  for (const Expected& e : std::vector<Expected>{
           {"gpt-2", "gpt-2", false, false, true},
           {"phi-2", "gpt-2", false, false, true},
           {"exaone4", "gpt-2", false, false, true},
           {"trillion", "gpt-2", false, false, false},
           {"llama-bpe", "llama3", true, true, true},
           {"falcon3", "llama3", true, true, true},
           {"falcon-h1", "llama3", true, true, true},
           {"lfm2", "llama3", true, true, true},
           {"dbrx", "llama3", false, false, true},
           {"chatglm-bpe", "llama3", false, false, true},
           {"glm4", "llama3", false, false, true},
           {"qwen2", "qwen2", false, false, false},
           {"deepseek-r1-qwen", "qwen2", false, false, false},
           {"stablelm2", "qwen2", false, false, true},
           {"megrez", "qwen2", false, false, true},
           {"grok-2", "qwen2", false, false, false},
           {"qwen35", "qwen35", false, false, false},
           {"smollm", "starcoder", false, false, false},
           {"refact", "starcoder", false, false, true},
           {"command-r", "starcoder", false, false, false},
           {"deepseek-llm", "deepseek-llm", false, false, false},
           {"deepseek-coder", "deepseek-coder", false, false, false},
           {"deepseek-v3", "deepseek-v3", false, false, false},
           {"gpt-4o", "gpt-4o", false, false, false},
           {"llama4", "gpt-4o", false, false, false},
           {"tekken", "tekken", true, true, false},
           {"youtu", "youtu", true, false, false},
           {"minicpm5", "minicpm5", true, false, true},
           {"poro-chat", "bloom", false, false, false},
           {"gpt3-finnish", "bloom", false, false, true},
           {"default", "default", false, false, true},
       }) {
    const PreTokenizerConfig c = pre_tokenizer_config(e.pre);
    EXPECT_EQ(c.name, e.name) << e.pre;
    EXPECT_EQ(c.ignore_merges, e.ignore_merges) << e.pre;
    EXPECT_EQ(c.add_bos, e.add_bos) << e.pre;
    EXPECT_EQ(c.clean_spaces, e.clean_spaces) << e.pre;
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
  // Byte steps may cut characters, so no character step may follow one.
  EXPECT_THROW(PreTokenizer({{"[0-9]+", true}, "\\p{L}+"}), Error);
}

}  // namespace
}  // namespace pareto
