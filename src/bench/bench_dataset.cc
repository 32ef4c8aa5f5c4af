#include "bench/bench_dataset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace pareto::bench {
namespace {

using Rng = std::mt19937_64;

// Uniform integer in [lo, hi]. Written out (instead of std::uniform_int_distribution, whose
// algorithm is implementation-defined) so a seed gives the same workload with any standard library.
// The modulo bias is below 2^-40 for the ranges used here.
int64_t uniform(Rng& rng, int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(rng() % span);
}

// Fisher-Yates with uniform(), for the same portability reason (std::shuffle is unspecified).
template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[static_cast<size_t>(uniform(rng, 0, static_cast<int64_t>(i) - 1))]);
  }
}

// Words for prompts when no tokenizer is given; about one token each with common vocabularies.
constexpr const char* kWords[] = {
    "the",   "of",     "and",   "to",      "in",    "is",    "that",  "for",    "it",    "as",
    "was",   "with",   "be",    "by",      "on",    "not",   "he",    "this",   "are",   "or",
    "his",   "from",   "at",    "which",   "but",   "have",  "an",    "had",    "they",  "you",
    "were",  "their",  "one",   "all",     "we",    "can",   "her",   "has",    "there", "been",
    "if",    "more",   "when",  "will",    "would", "who",   "so",    "no",     "time",  "people",
    "year",  "way",    "day",   "man",     "thing", "woman", "life",  "child",  "world", "school",
    "state", "family", "group", "country", "hand",  "part",  "place", "case",   "week",  "system",
    "work",  "number", "night", "point",   "home",  "water", "room",  "mother", "area",  "money",
    "story", "fact",   "month", "lot",     "right", "study", "book",  "eye",    "job",   "word",
    "house", "good",   "new",   "first",   "last",  "long",  "great", "little", "own",   "other",
    "old",   "big",    "high",  "small",   "large", "next",  "early", "young",  "few",   "bad",
    "same",  "able",   "go",    "make",    "know",  "take",  "see",   "come",   "think", "look",
    "want",  "give",   "use",   "find",    "tell",  "ask",   "seem",  "feel",   "try",   "leave",
    "call",  "keep",   "let",   "begin",   "help",  "show",  "hear",  "play",   "run",   "move",
    "like",  "live",   "hold",  "bring",   "write", "sit",   "stand", "lose",   "pay",   "meet",
    "cat",   "dog",    "tree",  "sun",     "rain",  "bird",  "ball",  "boat",   "car",   "city",
};

// Builds prompt text out of "units": strings that start with a space and are (with a tokenizer)
// exactly one token each wherever they appear, so a text of n units is n tokens and a text that
// continues another one leaves the first one's tokens unchanged. Every length is checked by
// encoding the final text; see fit().
class TextBuilder {
 public:
  // need_units = false: only count() is used (ShareGPT), so skip scanning the vocabulary.
  TextBuilder(const Tokenizer* tokenizer, bool need_units) : tokenizer_(tokenizer) {
    if (!need_units) return;
    if (tokenizer_ == nullptr) {
      for (const char* w : kWords) units_.push_back(std::string(" ") + w);
      return;
    }
    collect_word_units();
    if (units_.size() < 32) collect_any_units();
    if (units_.empty())
      fail("bench dataset: the tokenizer has no normal tokens to build text from");
  }

  // Tokens of `text` without BOS/EOS (what the request's prompt adds to the context besides the
  // server's own special tokens); without a tokenizer, the number of words (an estimate).
  int64_t count(const std::string& text) const {
    if (tokenizer_ != nullptr) {
      return static_cast<int64_t>(tokenizer_->encode(text, false, false).size());
    }
    std::istringstream in(text);
    int64_t n = 0;
    for (std::string w; in >> w;) ++n;
    return n;
  }

  // `head` followed by random units so that the whole text is head_len + n tokens, where head_len =
  // count(head). Units are added or dropped until the count matches; a tokenizer that merges across
  // the cut can leave it off by one after the last attempt, and the returned length is then the
  // true count. n >= 1.
  std::pair<std::string, int64_t> fit(Rng& rng, const std::string& head, int64_t n) const {
    const int64_t target = (head.empty() ? 0 : count(head)) + n;
    std::vector<const std::string*> picked;
    for (int64_t i = 0; i < n; ++i) picked.push_back(&pick(rng));
    std::string text;
    int64_t len = 0;
    for (int attempt = 0;; ++attempt) {
      text = join(head, picked);
      len = count(text);
      if (len == target || attempt == 16) break;
      if (len > target) {
        const size_t drop =
            std::min(static_cast<size_t>(len - target), picked.size() > 1 ? picked.size() - 1 : 0);
        if (drop == 0) break;
        picked.resize(picked.size() - drop);
      } else {
        for (int64_t i = len; i < target; ++i) picked.push_back(&pick(rng));
      }
    }
    return {std::move(text), len};
  }

  std::string words(Rng& rng, int64_t n) const { return fit(rng, "", n).first; }

 private:
  const std::string& pick(Rng& rng) const {
    return units_[static_cast<size_t>(uniform(rng, 0, static_cast<int64_t>(units_.size()) - 1))];
  }

  static std::string join(const std::string& head, const std::vector<const std::string*>& units) {
    std::string text = head;
    for (const std::string* u : units) text += *u;
    // A text of units alone starts without the space (SentencePiece adds its own).
    if (head.empty() && !text.empty() && text[0] == ' ') text.erase(0, 1);
    return text;
  }

  // Normal tokens that are a space plus an ASCII word and encode to one token both at the start of
  // a text and after another word: whole-word tokens, so random text reads as words and token
  // counts are exact.
  void collect_word_units() {
    for (int32_t id = 0; id < tokenizer_->vocab_size(); ++id) {
      if (tokenizer_->token_type(id) != TokenType::kNormal) continue;
      const std::string piece = tokenizer_->token_to_piece(id);
      if (piece.size() < 2 || piece[0] != ' ') continue;
      const std::string word = piece.substr(1);
      if (!std::all_of(word.begin(), word.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
        continue;
      }
      if (tokenizer_->encode(word, false, false).size() != 1) continue;
      if (tokenizer_->encode(word + piece, false, false).size() != 2) continue;
      units_.push_back(piece);
    }
  }

  // Fallback for vocabularies with few whole-word tokens (e.g. mostly non-Latin scripts): every
  // normal token whose bytes are printable UTF-8, as vLLM's random dataset does; fit() then
  // corrects the merges across token boundaries.
  void collect_any_units() {
    units_.clear();
    for (int32_t id = 0; id < tokenizer_->vocab_size(); ++id) {
      if (tokenizer_->token_type(id) != TokenType::kNormal) continue;
      std::string piece = tokenizer_->token_to_piece(id);
      if (piece.empty() || !is_valid_utf8(piece)) continue;
      if (std::any_of(piece.begin(), piece.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        continue;
      }
      units_.push_back(std::move(piece));
    }
  }

  const Tokenizer* tokenizer_;
  std::vector<std::string> units_;
};

// A length uniform in [len*(1-r), len*(1+r)] (truncated to integers), at least 1.
int64_t draw_len(Rng& rng, int64_t len, double r) {
  const int64_t lo = std::max<int64_t>(1, static_cast<int64_t>(std::floor(len * (1.0 - r))));
  const int64_t hi = std::max(lo, static_cast<int64_t>(std::floor(len * (1.0 + r))));
  return uniform(rng, lo, hi);
}

std::string read_whole_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{} '{}': cannot open the file", what, path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("{} '{}': read error", what, path);
  return ss.str();
}

nlohmann::json parse_json_file(const std::string& path, const char* what) {
  const std::string text = read_whole_file(path, what);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{} '{}': not valid JSON (at byte {}): {}", what, path, e.byte, e.what());
  }
}

std::vector<BenchPrompt> random_dataset(const DatasetOptions& o, const TextBuilder& text,
                                        Rng& rng) {
  std::vector<BenchPrompt> out;
  for (int64_t i = 0; i < o.num_prompts; ++i) {
    const int64_t in_len = draw_len(rng, o.input_len, o.range_ratio);
    const int64_t out_len = draw_len(rng, o.output_len, o.range_ratio);
    auto [prompt, len] = text.fit(rng, "", in_len);
    out.push_back({std::move(prompt), len, out_len});
  }
  return out;
}

std::vector<BenchPrompt> shared_prefix_dataset(const DatasetOptions& o, const TextBuilder& text,
                                               Rng& rng) {
  if (o.prefix_len < 1) fail("--prefix-len must be >= 1, got {}", o.prefix_len);
  if (o.num_prefixes < 1) fail("--num-prefixes must be >= 1, got {}", o.num_prefixes);
  std::vector<std::string> prefixes;
  for (int64_t p = 0; p < o.num_prefixes; ++p) prefixes.push_back(text.words(rng, o.prefix_len));
  // Each prefix is used equally often (up to one), in a seeded random order.
  std::vector<int64_t> assignment;
  for (int64_t i = 0; i < o.num_prompts; ++i) assignment.push_back(i % o.num_prefixes);
  shuffle(assignment, rng);
  std::vector<BenchPrompt> out;
  for (int64_t i = 0; i < o.num_prompts; ++i) {
    const int64_t suffix_len = draw_len(rng, o.input_len, o.range_ratio);
    const int64_t out_len = draw_len(rng, o.output_len, o.range_ratio);
    auto [prompt, len] = text.fit(rng, prefixes[static_cast<size_t>(assignment[i])], suffix_len);
    out.push_back({std::move(prompt), len, out_len});
  }
  return out;
}

// Corpus file: a .json file holds a JSON array of strings; any other file is plain text whose
// chunks are separated by blank lines.
std::vector<std::string> load_rag_corpus(const std::string& path) {
  std::vector<std::string> chunks;
  const bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (is_json) {
    const nlohmann::json j = parse_json_file(path, "RAG corpus");
    if (!j.is_array()) {
      fail("RAG corpus '{}': expected a JSON array of strings, got {}", path, j.type_name());
    }
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        fail("RAG corpus '{}': entry {} must be a string, got {}", path, i, j[i].type_name());
      }
      if (!j[i].get_ref<const std::string&>().empty()) chunks.push_back(j[i].get<std::string>());
    }
  } else {
    std::istringstream in(read_whole_file(path, "RAG corpus"));
    std::string chunk;
    auto flush = [&] {
      while (!chunk.empty() && chunk.back() == '\n') chunk.pop_back();
      if (!chunk.empty()) chunks.push_back(std::move(chunk));
      chunk.clear();
    };
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const bool blank = std::all_of(line.begin(), line.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c));
      });
      if (blank) {
        flush();
      } else {
        chunk += line;
        chunk += '\n';
      }
    }
    flush();
  }
  if (chunks.empty()) fail("RAG corpus '{}': no chunks (the file holds no non-empty text)", path);
  return chunks;
}

std::vector<BenchPrompt> rag_dataset(const DatasetOptions& o, const TextBuilder& text, Rng& rng) {
  constexpr int64_t kQuestionWords = 16;
  const int64_t k = o.rag_chunks_per_request;
  if (k < 1) fail("--rag-chunks-per-request must be >= 1, got {}", k);
  std::vector<std::string> corpus;
  if (!o.dataset_path.empty()) {
    corpus = load_rag_corpus(o.dataset_path);
  } else {
    if (o.rag_chunk_len < 1) fail("RAG chunk length must be >= 1, got {}", o.rag_chunk_len);
    if (o.rag_num_chunks < 1) fail("RAG chunk count must be >= 1, got {}", o.rag_num_chunks);
    for (int64_t c = 0; c < o.rag_num_chunks; ++c) {
      corpus.push_back(text.words(rng, o.rag_chunk_len));
    }
  }
  if (k > static_cast<int64_t>(corpus.size())) {
    fail("--rag-chunks-per-request {} is more than the {} chunks of the corpus{}", k, corpus.size(),
         o.dataset_path.empty() ? "" : " '" + o.dataset_path + "'");
  }
  std::vector<size_t> order(corpus.size());
  std::vector<BenchPrompt> out;
  for (int64_t i = 0; i < o.num_prompts; ++i) {
    // k distinct chunks: the first k of a fresh permutation.
    for (size_t c = 0; c < order.size(); ++c) order[c] = c;
    shuffle(order, rng);
    std::string prompt;
    for (int64_t c = 0; c < k; ++c) {
      if (c > 0) prompt += "\n\n";
      prompt += corpus[order[static_cast<size_t>(c)]];
    }
    prompt += "\n\nQuestion: " + text.words(rng, kQuestionWords) + "?";
    const int64_t len = text.count(prompt);
    out.push_back({std::move(prompt), len, draw_len(rng, o.output_len, o.range_ratio)});
  }
  return out;
}

// The first human turn and the reply that follows it; false when the conversation has none.
bool sharegpt_pair(const nlohmann::json& entry, size_t index, const std::string& path,
                   const std::string** prompt, const std::string** reply) {
  if (!entry.is_object()) {
    fail("ShareGPT file '{}': entry {} must be an object, got {}", path, index, entry.type_name());
  }
  const auto conv = entry.find("conversations");
  if (conv == entry.end() || !conv->is_array()) {
    fail("ShareGPT file '{}': entry {} has no \"conversations\" array", path, index);
  }
  for (size_t t = 0; t < conv->size(); ++t) {
    const nlohmann::json& turn = (*conv)[t];
    if (!turn.is_object() || !turn.contains("from") || !turn["from"].is_string() ||
        !turn.contains("value") || !turn["value"].is_string()) {
      fail("ShareGPT file '{}': entry {} turn {} must be {{\"from\": string, \"value\": string}}",
           path, index, t);
    }
  }
  if (conv->size() < 2) return false;
  for (size_t t = 0; t + 1 < conv->size(); ++t) {
    const std::string& from = (*conv)[t]["from"].get_ref<const std::string&>();
    if (from != "human" && from != "user") continue;
    const std::string& next = (*conv)[t + 1]["from"].get_ref<const std::string&>();
    if (next != "gpt" && next != "assistant" && next != "chatgpt") return false;
    *prompt = &(*conv)[t]["value"].get_ref<const std::string&>();
    *reply = &(*conv)[t + 1]["value"].get_ref<const std::string&>();
    return true;
  }
  return false;
}

// Reads the usable (prompt, reply) pairs of a ShareGPT file. The file is parsed as a stream and
// each conversation is dropped once its first pair is taken: ShareGPT_V3 is ~650 MB, whose whole
// JSON tree would take gigabytes.
std::vector<std::pair<std::string, std::string>> load_sharegpt(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("ShareGPT file '{}': cannot open the file", path);
  using Event = nlohmann::json::parse_event_t;
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t index = 0;
  auto on_event = [&](int depth, Event event, nlohmann::json& value) {
    if (depth == 0 && (event == Event::object_start || event == Event::value)) {
      fail("ShareGPT file '{}': expected a JSON array of conversations, got {}", path,
           event == Event::value ? value.type_name() : "object");
    }
    // Depth 1 ends: one element of the top-level array is complete.
    const bool entry_done = depth == 1 && (event == Event::object_end ||
                                           event == Event::array_end || event == Event::value);
    if (!entry_done) return true;
    const std::string* prompt = nullptr;
    const std::string* reply = nullptr;
    if (sharegpt_pair(value, index, path, &prompt, &reply)) pairs.emplace_back(*prompt, *reply);
    ++index;
    return false;  // do not keep the conversation in the tree
  };
  try {
    // What is left is the empty top-level array.
    [[maybe_unused]] const nlohmann::json rest = nlohmann::json::parse(in, on_event);
  } catch (const nlohmann::json::parse_error& e) {
    fail("ShareGPT file '{}': not valid JSON (at byte {}): {}", path, e.byte, e.what());
  }
  return pairs;
}

std::vector<BenchPrompt> sharegpt_dataset(const DatasetOptions& o, const TextBuilder& text,
                                          Rng& rng) {
  const std::string& path = o.dataset_path;
  if (path.empty()) fail("--dataset-name sharegpt needs --dataset-path (a ShareGPT JSON file)");
  // Every entry's shape is checked while loading; then the usable pairs are shuffled and tokens
  // are counted only for those taken.
  auto pairs = load_sharegpt(path);
  shuffle(pairs, rng);
  const bool override_len = o.output_len_override && o.output_len > 0;
  std::vector<BenchPrompt> out;
  for (auto& [prompt, reply] : pairs) {
    if (static_cast<int64_t>(out.size()) == o.num_prompts) break;
    const int64_t prompt_len = text.count(prompt);
    const int64_t reply_len = override_len ? o.output_len : text.count(reply);
    if (prompt_len < 1 || reply_len < 1) continue;  // an empty turn is no request
    out.push_back({std::move(prompt), prompt_len, reply_len});
  }
  if (out.empty()) {
    fail(
        "ShareGPT file '{}': no usable conversation (each needs a non-empty human turn followed by "
        "a non-empty gpt turn)",
        path);
  }
  if (static_cast<int64_t>(out.size()) < o.num_prompts) {
    spdlog::warn(
        "ShareGPT file '{}' has only {} usable conversations; using all of them instead of {}",
        path, out.size(), o.num_prompts);
  }
  return out;
}

}  // namespace

std::vector<BenchPrompt> build_dataset(const DatasetOptions& opts, const Tokenizer* tokenizer) {
  if (opts.num_prompts < 1) fail("--num-prompts must be >= 1, got {}", opts.num_prompts);
  if (!(opts.range_ratio >= 0 && opts.range_ratio < 1)) {
    fail("--range-ratio must be in [0, 1), got {}", opts.range_ratio);
  }
  if (opts.input_len < 1) fail("--input-len must be >= 1, got {}", opts.input_len);
  if (opts.output_len < 1 && !(opts.name == "sharegpt" && !opts.output_len_override)) {
    fail("--output-len must be >= 1, got {}", opts.output_len);
  }
  const bool known = opts.name == "random" || opts.name == "sharegpt" ||
                     opts.name == "shared-prefix" || opts.name == "rag";
  if (!known) {
    fail("unknown --dataset-name '{}' (expected random, sharegpt, shared-prefix or rag)",
         opts.name);
  }
  const TextBuilder text(tokenizer, opts.name != "sharegpt");
  Rng rng(opts.seed);
  if (opts.name == "random") return random_dataset(opts, text, rng);
  if (opts.name == "shared-prefix") return shared_prefix_dataset(opts, text, rng);
  if (opts.name == "rag") return rag_dataset(opts, text, rng);
  return sharegpt_dataset(opts, text, rng);
}

}  // namespace pareto::bench
