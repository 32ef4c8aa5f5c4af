// Pre-tokenization for byte-level BPE: the text is cut into words by the split regexes of the
// model's original tokenizer (chosen by tokenizer.ggml.pre), and BPE then runs inside each word.
// Regexes are PCRE2 (UTF + Unicode properties), compiled once and JIT-compiled when available.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pareto {

struct PreTokenizerConfig {
  std::string name;                   // canonical name of the regex set
  std::vector<std::string> patterns;  // applied in sequence, see PreTokenizer
  // Whole words found in the vocabulary are emitted as one token without running the merges
  // (HF's BPE "ignore_merges", used by Llama 3 and Tekken).
  bool ignore_merges = false;
};

// The configuration for a tokenizer.ggml.pre value. An empty or unknown name logs a warning
// (unknown only) and gives the GPT-2 regex.
PreTokenizerConfig pre_tokenizer_config(std::string_view pre);

class PreTokenizer {
 public:
  // Throws pareto::Error when a pattern does not compile.
  explicit PreTokenizer(const std::vector<std::string>& patterns);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Splits text into words. Each regex splits every piece left by the previous one; both the
  // matches and the text between matches become pieces (HF's "Isolated" split behaviour). Bytes
  // that are not valid UTF-8 are not given to the regexes: each becomes a piece of its own.
  // The pieces are views into `text` and cover it exactly, in order.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace pareto
