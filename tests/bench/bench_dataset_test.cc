#include "bench/bench_dataset.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/error.h"
#include "support/test_paths.h"
#include "tokenizer/gguf_builder.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto::bench {
namespace {

const Tokenizer& stories() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    const GgufFile gguf = GgufFile::open(test::stories_model());
    return Tokenizer::from_gguf(gguf);
  }();
  return *tok;
}

int64_t tokens(const std::string& text) {
  return static_cast<int64_t>(stories().encode(text, false, false).size());
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) {
    parts.push_back(s.substr(start, at - start));
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// Runs `f`, expects a pareto::Error whose message contains every one of `parts`.
template <typename F>
void expect_error(F f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << *parts.begin();
  } catch (const Error& e) {
    for (const char* p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
    }
  }
}

TEST(RandomDataset, ExactTokenCountsWithATokenizer) {
  DatasetOptions o;
  o.num_prompts = 20;
  o.input_len = 48;
  o.output_len = 7;
  const auto prompts = build_dataset(o, &stories());
  ASSERT_EQ(prompts.size(), 20u);
  std::set<std::string> distinct;
  for (const BenchPrompt& p : prompts) {
    EXPECT_EQ(p.prompt_len, 48);
    EXPECT_EQ(tokens(p.prompt), 48) << p.prompt;
    EXPECT_EQ(p.output_len, 7);
    distinct.insert(p.prompt);
  }
  EXPECT_EQ(distinct.size(), 20u);
}

TEST(RandomDataset, RangeRatioBoundsTheLengths) {
  DatasetOptions o;
  o.num_prompts = 50;
  o.input_len = 20;
  o.output_len = 10;
  o.range_ratio = 0.5;
  std::set<int64_t> in_lens, out_lens;
  for (const BenchPrompt& p : build_dataset(o, &stories())) {
    EXPECT_EQ(tokens(p.prompt), p.prompt_len);
    EXPECT_GE(p.prompt_len, 10);
    EXPECT_LE(p.prompt_len, 30);
    EXPECT_GE(p.output_len, 5);
    EXPECT_LE(p.output_len, 15);
    in_lens.insert(p.prompt_len);
    out_lens.insert(p.output_len);
  }
  EXPECT_GT(in_lens.size(), 5u);  // really drawn, not constant
  EXPECT_GT(out_lens.size(), 3u);
  // At least one token even when the range reaches below 1.
  o.input_len = 1;
  o.output_len = 1;
  o.range_ratio = 0.9;
  for (const BenchPrompt& p : build_dataset(o, &stories())) {
    EXPECT_GE(p.prompt_len, 1);
    EXPECT_EQ(p.output_len, 1);
  }
}

TEST(RandomDataset, DeterministicForASeed) {
  DatasetOptions o;
  o.num_prompts = 5;
  o.input_len = 16;
  o.range_ratio = 0.25;
  auto texts = [&](uint64_t seed) {
    o.seed = seed;
    std::vector<std::string> t;
    for (const BenchPrompt& p : build_dataset(o, &stories())) t.push_back(p.prompt);
    return t;
  };
  EXPECT_EQ(texts(3), texts(3));
  EXPECT_NE(texts(3), texts(4));
}

TEST(RandomDataset, WithoutATokenizerCountsWords) {
  DatasetOptions o;
  o.num_prompts = 3;
  o.input_len = 30;
  for (const BenchPrompt& p : build_dataset(o, nullptr)) {
    std::istringstream in(p.prompt);
    int64_t words = 0;
    for (std::string w; in >> w;) ++words;
    EXPECT_EQ(words, 30);
    EXPECT_EQ(p.prompt_len, 30);  // the estimate: one token per word
  }
}

// A vocabulary with hardly any whole-word tokens: the builder falls back to any printable normal
// token and corrects merges across token boundaries by re-encoding.
TEST(RandomDataset, FallbackForFewWholeWordTokens) {
  const std::string sp = "\xE2\x96\x81";  // U+2581, SentencePiece's space
  const std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", sp,    "a",      "b",
                                           "c",     "ab",  "bc",   "abc", sp + "a", sp + "ab"};
  const std::vector<float> scores = {0, 0, 0, -5, -5, -5, -5, -1, -2, -0.5f, -1, -0.5f};
  const std::vector<int32_t> types = {2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", tokens)
      .floats("tokenizer.ggml.scores", scores)
      .ints("tokenizer.ggml.token_type", types)
      .u32("tokenizer.ggml.unknown_token_id", 0)
      .u32("tokenizer.ggml.bos_token_id", 1)
      .u32("tokenizer.ggml.eos_token_id", 2);
  const auto tok = b.tokenizer();
  DatasetOptions o;
  o.num_prompts = 20;
  o.input_len = 16;
  int exact = 0;
  for (const BenchPrompt& p : build_dataset(o, tok.get())) {
    // prompt_len is always the true count; it may miss the request by one (documented).
    EXPECT_EQ(p.prompt_len, static_cast<int64_t>(tok->encode(p.prompt, false, false).size()));
    EXPECT_NEAR(p.prompt_len, 16, 1) << p.prompt;
    exact += p.prompt_len == 16;
  }
  EXPECT_GE(exact, 15);
}

TEST(SharedPrefixDataset, PrefixesAreSharedTokenForToken) {
  DatasetOptions o;
  o.name = "shared-prefix";
  o.num_prompts = 12;
  o.prefix_len = 24;
  o.num_prefixes = 3;
  o.input_len = 8;
  const auto prompts = build_dataset(o, &stories());
  ASSERT_EQ(prompts.size(), 12u);
  std::map<std::vector<int32_t>, int> uses;
  for (const BenchPrompt& p : prompts) {
    const std::vector<int32_t> ids = stories().encode(p.prompt, false, false);
    EXPECT_EQ(p.prompt_len, 32);
    ASSERT_EQ(static_cast<int64_t>(ids.size()), 32) << p.prompt;
    ++uses[std::vector<int32_t>(ids.begin(), ids.begin() + 24)];
  }
  ASSERT_EQ(uses.size(), 3u);
  for (const auto& [prefix, n] : uses) EXPECT_EQ(n, 4);  // 12 prompts over 3 prefixes
}

TEST(RagDataset, SyntheticChunksRecurAcrossRequests) {
  DatasetOptions o;
  o.name = "rag";
  o.num_prompts = 10;
  o.rag_chunks_per_request = 3;
  o.rag_chunk_len = 12;
  o.rag_num_chunks = 5;
  o.output_len = 4;
  std::map<std::string, int> chunk_uses;
  for (const BenchPrompt& p : build_dataset(o, &stories())) {
    const auto parts = split(p.prompt, "\n\n");
    ASSERT_EQ(parts.size(), 4u) << p.prompt;
    EXPECT_EQ(parts[3].rfind("Question: ", 0), 0u) << parts[3];
    EXPECT_EQ(std::set<std::string>(parts.begin(), parts.begin() + 3).size(),
              3u);  // distinct
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(tokens(parts[c]), 12);
      ++chunk_uses[parts[c]];
    }
    EXPECT_EQ(p.prompt_len, tokens(p.prompt));
    EXPECT_EQ(p.output_len, 4);
  }
  EXPECT_LE(chunk_uses.size(), 5u);  // 30 chunk slots drawn from a corpus of 5
  int total = 0;
  for (const auto& [chunk, n] : chunk_uses) total += n;
  EXPECT_EQ(total, 30);
}

TEST(RagDataset, CorpusFromTextAndJsonFiles) {
  DatasetOptions o;
  o.name = "rag";
  o.num_prompts = 6;
  o.rag_chunks_per_request = 2;
  o.dataset_path = write_temp(
      "rag_corpus.txt",
      "Once upon a time\nthere was a cat.\n\n\n  \nThe dog ran.\r\n\r\nThe sun was hot.\n");
  std::set<std::string> seen;
  for (const BenchPrompt& p : build_dataset(o, &stories())) {
    const auto parts = split(p.prompt, "\n\n");
    ASSERT_EQ(parts.size(), 3u);
    seen.insert(parts[0]);
    seen.insert(parts[1]);
  }
  for (const std::string& c : seen) {
    EXPECT_TRUE(c == "Once upon a time\nthere was a cat." || c == "The dog ran." ||
                c == "The sun was hot.")
        << c;
  }
  o.dataset_path = write_temp("rag_corpus.json", R"(["alpha beta", "gamma", "delta"])");
  for (const BenchPrompt& p : build_dataset(o, nullptr)) {
    const auto parts = split(p.prompt, "\n\n");
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_NE(parts[0], parts[1]);
  }
}

TEST(RagDataset, BadCorpusIsAClearError) {
  DatasetOptions o;
  o.name = "rag";
  o.rag_chunks_per_request = 2;
  o.dataset_path = write_temp("rag_bad.json", R"(["a", 3])");
  expect_error([&] { build_dataset(o, nullptr); }, {"rag_bad.json", "entry 1", "string"});
  o.dataset_path = write_temp("rag_obj.json", R"({"a": 1})");
  expect_error([&] { build_dataset(o, nullptr); }, {"rag_obj.json", "array of strings"});
  o.dataset_path = write_temp("rag_empty.txt", "\n\n  \n");
  expect_error([&] { build_dataset(o, nullptr); }, {"rag_empty.txt", "no chunks"});
  o.dataset_path = write_temp("rag_one.txt", "just one chunk\n");
  expect_error([&] { build_dataset(o, nullptr); }, {"--rag-chunks-per-request 2", "1 chunks"});
  o.dataset_path = test::scratch_dir() + "/no_such_corpus.txt";
  expect_error([&] { build_dataset(o, nullptr); }, {"no_such_corpus.txt", "cannot open"});
}

constexpr const char* kShareGpt = R"([
  {"id": "a", "conversations": [{"from": "human", "value": "Tell me a story."},
                                {"from": "gpt", "value": "Once upon a time there was a cat."}]},
  {"id": "b", "conversations": [{"from": "human", "value": "Only a question"}]},
  {"id": "c", "conversations": [{"from": "system", "value": "Be brief."},
                                {"from": "human", "value": "Why is the sky blue?"},
                                {"from": "gpt", "value": "Light scatters."},
                                {"from": "human", "value": "And at night?"},
                                {"from": "gpt", "value": "It is dark."}]},
  {"id": "d", "conversations": []},
  {"id": "e", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": ""}]}
])";

TEST(ShareGptDataset, FirstHumanTurnAndReplyLength) {
  DatasetOptions o;
  o.name = "sharegpt";
  o.num_prompts = 10;  // more than the two usable conversations: all are used
  o.dataset_path = write_temp("sharegpt.json", kShareGpt);
  auto prompts = build_dataset(o, &stories());
  ASSERT_EQ(prompts.size(), 2u);
  std::map<std::string, BenchPrompt> by_text;
  for (const BenchPrompt& p : prompts) by_text[p.prompt] = p;
  ASSERT_TRUE(by_text.count("Tell me a story."));
  ASSERT_TRUE(by_text.count("Why is the sky blue?"));
  EXPECT_EQ(by_text["Tell me a story."].prompt_len, tokens("Tell me a story."));
  EXPECT_EQ(by_text["Tell me a story."].output_len, tokens("Once upon a time there was a cat."));
  EXPECT_EQ(by_text["Why is the sky blue?"].output_len, tokens("Light scatters."));

  o.output_len = 9;
  o.output_len_override = true;
  for (const BenchPrompt& p : build_dataset(o, &stories())) EXPECT_EQ(p.output_len, 9);

  // Without a tokenizer lengths are word counts; num_prompts samples with the seed.
  o.output_len_override = false;
  o.num_prompts = 1;
  std::set<std::string> picked;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    o.seed = seed;
    prompts = build_dataset(o, nullptr);
    ASSERT_EQ(prompts.size(), 1u);
    picked.insert(prompts[0].prompt);
    if (prompts[0].prompt == "Tell me a story.") {
      EXPECT_EQ(prompts[0].prompt_len, 4);
      EXPECT_EQ(prompts[0].output_len, 8);
    }
  }
  EXPECT_EQ(picked.size(), 2u);
}

TEST(ShareGptDataset, BadFilesAreClearErrors) {
  DatasetOptions o;
  o.name = "sharegpt";
  o.dataset_path = test::scratch_dir() + "/no_such_sharegpt.json";
  expect_error([&] { build_dataset(o, nullptr); }, {"no_such_sharegpt.json", "cannot open"});
  o.dataset_path = write_temp("sg_notjson.json", "[{\"id\": \"a\",,]");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_notjson.json", "not valid JSON", "byte"});
  o.dataset_path = write_temp("sg_object.json", R"({"conversations": []})");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_object.json", "JSON array"});
  o.dataset_path = write_temp("sg_scalar.json", "42");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_scalar.json", "JSON array", "number"});
  o.dataset_path = write_temp("sg_entry.json", R"([{"conversations": []}, 3])");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_entry.json", "entry 1 must be an object"});
  o.dataset_path = write_temp("sg_shape.json", R"([{"conversations": []}, {"id": "x"}])");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_shape.json", "entry 1", "conversations"});
  o.dataset_path =
      write_temp("sg_turn.json", R"([{"conversations": [{"from": "human", "value": 3}]}])");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_turn.json", "entry 0 turn 0"});
  o.dataset_path = write_temp("sg_empty.json", "[]");
  expect_error([&] { build_dataset(o, nullptr); }, {"sg_empty.json", "no usable conversation"});
  o.dataset_path.clear();
  expect_error([&] { build_dataset(o, nullptr); }, {"--dataset-path"});
}

TEST(BuildDataset, RejectsBadOptions) {
  DatasetOptions o;
  o.name = "bogus";
  expect_error([&] { build_dataset(o, nullptr); }, {"unknown --dataset-name 'bogus'"});
  o = DatasetOptions{};
  o.num_prompts = 0;
  expect_error([&] { build_dataset(o, nullptr); }, {"--num-prompts"});
  o = DatasetOptions{};
  o.range_ratio = 1.0;
  expect_error([&] { build_dataset(o, nullptr); }, {"--range-ratio"});
  o = DatasetOptions{};
  o.name = "shared-prefix";
  o.num_prefixes = 0;
  expect_error([&] { build_dataset(o, nullptr); }, {"--num-prefixes"});
}

}  // namespace
}  // namespace pareto::bench
