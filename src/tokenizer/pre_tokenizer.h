// Pre-tokenization for byte-level BPE: the text is cut into words by the split regexes of the
// model's original tokenizer (chosen by tokenizer.ggml.pre), and BPE then runs inside each word.
// Regexes are PCRE2, compiled once and JIT-compiled when available. docs/tokenizer.md lists the
// supported names and where each regex comes from.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pareto {

// One split step. `regex` is matched against characters (PCRE2 UTF + Unicode properties; `\s`
// means the Unicode White_Space property, as in Oniguruma and llama.cpp) unless `bytes` is set:
// then against raw bytes, which is how a Hugging Face step that runs after the ByteLevel mapping
// sees the text (Falcon's digit steps). Byte steps may cut inside a character, so they must come
// after every character step.
struct PreTokenizerPattern {
  std::string regex;
  bool bytes = false;

  PreTokenizerPattern(std::string r, bool b = false) : regex(std::move(r)), bytes(b) {}
  PreTokenizerPattern(const char* r) : regex(r) {}
};

struct PreTokenizerConfig {
  std::string name;                           // canonical name of the split (regex set)
  std::vector<PreTokenizerPattern> patterns;  // applied in sequence, see PreTokenizer
  // Whole words found in the vocabulary are emitted as one token without running the merges
  // (HF's BPE "ignore_merges", used by Llama 3 and Tekken).
  bool ignore_merges = false;
  // llama.cpp's per-type defaults for what a GGUF file may leave out; the encoder itself does
  // not use them. add_bos: add BOS when tokenizer.ggml.add_bos_token is absent. clean_spaces:
  // when detokenizing a whole text, drop the space before ? ! . , and some contractions
  // (HF's clean_up_tokenization_spaces, which GGUF files do not carry).
  bool add_bos = false;
  bool clean_spaces = true;
};

// The configuration for a tokenizer.ggml.pre value. An empty or unknown name logs a warning
// (unknown only) and gives the GPT-2 split.
PreTokenizerConfig pre_tokenizer_config(std::string_view pre);

// Every tokenizer.ggml.pre value pre_tokenizer_config knows, in table order.
std::vector<std::string_view> known_pre_tokenizer_names();

class PreTokenizer {
 public:
  // Throws pareto::Error when a pattern does not compile or a character step follows a byte step.
  explicit PreTokenizer(const std::vector<PreTokenizerPattern>& patterns);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Splits text into words. Each regex splits every piece left by the previous one; both the
  // matches and the text between matches become pieces, and an empty match cuts the piece where
  // it matches (HF's "Isolated" split behaviour). Bytes that are not valid UTF-8 are not given
  // to the character regexes: each becomes a piece of its own. The pieces are views into `text`
  // and cover it exactly, in order.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace pareto
