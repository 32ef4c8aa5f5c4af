#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include <array>

#include "base/error.h"
#include "base/log.h"
#include "tokenizer/utf8.h"

namespace pareto {
namespace {

// GPT-2's split: contractions, letters, digits, other symbols, each optionally led by one space;
// runs of whitespace keep their last space for the word that follows.
constexpr const char* kGpt2 =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
// Llama 3 (tiktoken cl100k style): case-insensitive contractions, numbers in groups of up to 3,
// newlines kept apart from other whitespace.
constexpr const char* kLlama3 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Qwen2: like Llama 3 but every digit is its own word.
constexpr const char* kQwen2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// GPT-4o (o200k): words split at case changes, symbols may swallow trailing newlines and '/'.
constexpr const char* kGpt4o =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Mistral Tekken: the GPT-4o shape without contractions and with single digits.
constexpr const char* kTekken =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// CJK ideographs and Hangul runs, as the DeepSeek tokenizers spell them (code point ranges).
constexpr const char* kDeepseekCjk =
    R"re([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re";

struct NamedConfig {
  std::vector<std::string_view> names;
  std::vector<std::string> patterns;
  bool ignore_merges;
};

const std::vector<NamedConfig>& known_configs() {
  static const std::vector<NamedConfig> configs = {
      {{"gpt-2", "default", "gpt2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "jina-es",
        "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "trillion"},
       {kGpt2},
       false},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3"}, {kLlama3}, true},
      {{"smaug-bpe", "dbrx", "chatglm-bpe"}, {kLlama3}, false},
      {{"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez"}, {kQwen2}, false},
      // Digits(individual_digits) then the GPT-2 split.
      {{"starcoder", "refact", "smollm", "command-r", "codeshell", "exaone", "minerva-7b"},
       {R"re(\p{N})re", kGpt2},
       false},
      // Punctuation runs, the GPT-2 split, then digit runs cut into threes.
      {{"falcon"}, {R"re([\p{P}\$\+<=>\^~\|`]+)re", kGpt2, R"re([0-9][0-9][0-9])re"}, false},
      {{"deepseek-llm"},
       {R"re([\r\n])re", R"re(\s?\p{L&}+)re",
        R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re",
        R"re(\s+$)re", kDeepseekCjk, R"re(\p{N}+)re"},
       false},
      {{"deepseek-coder"},
       {R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", kDeepseekCjk, R"re(\p{N})re"},
       false},
      {{"deepseek-v3"},
       {R"re(\p{N}{1,3})re", R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re",
        R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"},
       false},
      {{"gpt-4o"}, {kGpt4o}, false},
      {{"tekken"}, {kTekken}, true},
  };
  return configs;
}

}  // namespace

PreTokenizerConfig pre_tokenizer_config(std::string_view pre) {
  for (const NamedConfig& c : known_configs()) {
    for (std::string_view name : c.names) {
      if (name == pre) return {std::string(c.names.front()), c.patterns, c.ignore_merges};
    }
  }
  if (!pre.empty()) {
    spdlog::warn("unknown pre-tokenizer '{}'; falling back to the GPT-2 split regex", pre);
  }
  return {"gpt-2", {kGpt2}, false};
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buf{};
  pcre2_get_error_message(code, buf.data(), buf.size());
  return reinterpret_cast<const char*>(buf.data());
}

// Appends the pieces of `piece` split by `code` to `out`.
void split_isolated(const pcre2_code* code, pcre2_match_data* md, std::string_view piece,
                    std::vector<std::string_view>& out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  size_t last = 0;  // end of what has been emitted
  size_t pos = 0;   // where the next match attempt starts
  while (pos < piece.size()) {
    // The input was validated once up front, so PCRE2 need not check it again per match.
    int rc = pcre2_match(code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    // Long runs can overflow the small default JIT stack; the interpreter keeps its backtracking
    // state on the heap instead.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md,
                       nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex match failed: {}", pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
    const size_t start = ovector[0], end = ovector[1];
    if (end == start) {
      // An empty match splits nothing; step over one character and keep looking.
      const Utf8Check c = utf8_check_at(piece, start);
      pos = start + c.length;
      continue;
    }
    if (start > last) out.push_back(piece.substr(last, start - last));
    out.push_back(piece.substr(start, end - start));
    last = pos = end;
  }
  if (last < piece.size()) out.push_back(piece.substr(last));
}

}  // namespace

PreTokenizer::PreTokenizer(const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    auto regex = std::make_unique<Regex>();
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error_code,
                                &error_offset, nullptr);
    if (regex->code == nullptr) {
      fail("pre-tokenizer regex /{}/ does not compile at offset {}: {}", pattern, error_offset,
           pcre2_message(error_code));
    }
    // JIT is an optimisation only: on a platform without it pcre2_match interprets.
    pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);
    regexes_.push_back(std::move(regex));
  }
}

PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> result;
  if (text.empty()) return result;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(pcre2_match_data_create(1, nullptr));
  if (!md) fail("pre-tokenizer: out of memory");

  std::vector<std::string_view> pieces, next;
  auto split_valid_run = [&](std::string_view run) {
    pieces.assign(1, run);
    for (const auto& regex : regexes_) {
      next.clear();
      for (std::string_view piece : pieces) split_isolated(regex->code, md.get(), piece, next);
      pieces.swap(next);
    }
    result.insert(result.end(), pieces.begin(), pieces.end());
  };

  size_t run_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Check c = utf8_check_at(text, pos);
    if (c.status == Utf8Status::kComplete) {
      pos += c.length;
      continue;
    }
    if (pos > run_start) split_valid_run(text.substr(run_start, pos - run_start));
    result.push_back(text.substr(pos, 1));
    run_start = ++pos;
  }
  if (run_start < text.size()) split_valid_run(text.substr(run_start));
  return result;
}

}  // namespace pareto
