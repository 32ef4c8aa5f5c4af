// Holds both tokenizer families to the reference encodings in ../shared/reference/tokenizer:
// every test string must encode to exactly the listed ids and decode back to itself.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/test_paths.h"
#include "tokenizer/incremental_detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

struct ReferenceCase {
  std::string text;
  std::vector<int32_t> ids;
};

// The .inp file is the test strings, each followed by "\n__ggml_vocab_test__\n"; the .out file
// has one line of ids per string.
std::vector<ReferenceCase> load_cases(const std::string& vocab_path) {
  const std::string inp = test::read_file(vocab_path + ".inp");
  const std::string out = test::read_file(vocab_path + ".out");
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<ReferenceCase> cases;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t end = inp.find(separator, pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "text after the last separator in " << vocab_path << ".inp";
      break;
    }
    cases.push_back({inp.substr(pos, end - pos), {}});
    pos = end + separator.size();
  }
  std::istringstream lines(out);
  std::string line;
  size_t i = 0;
  for (; std::getline(lines, line); ++i) {
    if (i >= cases.size()) {
      ADD_FAILURE() << "more lines in .out than strings in .inp";
      break;
    }
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) cases[i].ids.push_back(id);
  }
  EXPECT_EQ(i, cases.size()) << "line count of " << vocab_path << ".out";
  return cases;
}

class ReferenceVocab : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    path_ = test::reference_dir() + "/tokenizer/" + GetParam();
    GgufFile gguf = GgufFile::open(path_);
    tokenizer_ = Tokenizer::from_gguf(gguf);
    cases_ = load_cases(path_);
    ASSERT_EQ(cases_.size(), 46u);
  }

  std::string path_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<ReferenceCase> cases_;
};

TEST_P(ReferenceVocab, EncodesEveryCaseExactly) {
  size_t matched = 0;
  for (const ReferenceCase& c : cases_) {
    const std::vector<int32_t> ids = tokenizer_->encode(c.text, false, false);
    EXPECT_EQ(ids, c.ids) << "text: '" << c.text << "'";
    matched += ids == c.ids;
    // The texts hold no special tokens, so parsing them changes nothing.
    EXPECT_EQ(tokenizer_->encode(c.text, false, true), c.ids) << "text: '" << c.text << "'";
  }
  EXPECT_EQ(matched, cases_.size());
  std::printf("%s: %zu of %zu reference cases match\n", GetParam(), matched, cases_.size());
}

TEST_P(ReferenceVocab, DecodesEveryCaseBackToItsText) {
  for (const ReferenceCase& c : cases_) {
    EXPECT_EQ(tokenizer_->decode(c.ids), c.text);
  }
}

TEST_P(ReferenceVocab, IncrementalDetokenizerMatchesDecode) {
  for (const ReferenceCase& c : cases_) {
    IncrementalDetokenizer detok(*tokenizer_);
    std::string streamed;
    for (int32_t id : c.ids) {
      const std::string delta = detok.feed(id);
      EXPECT_TRUE(is_valid_utf8(delta)) << "text: '" << c.text << "'";
      streamed += delta;
    }
    streamed += detok.flush();
    EXPECT_EQ(streamed, tokenizer_->decode(c.ids)) << "text: '" << c.text << "'";
  }
}

TEST_P(ReferenceVocab, BosFollowsTheModelsRule) {
  const std::vector<int32_t> ids = tokenizer_->encode("Hello world", true, false);
  ASSERT_FALSE(ids.empty());
  if (tokenizer_->add_bos_default()) {
    EXPECT_EQ(ids.front(), tokenizer_->bos_id());
    EXPECT_EQ(std::vector<int32_t>(ids.begin() + 1, ids.end()),
              tokenizer_->encode("Hello world", false, false));
  } else {
    EXPECT_EQ(ids, tokenizer_->encode("Hello world", false, false));
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, ReferenceVocab,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"),
                         [](const auto& info) {
                           return std::string(info.param).find("spm") != std::string::npos
                                      ? "LlamaSpm"
                                      : "Gpt2";
                         });

}  // namespace
}  // namespace pareto
