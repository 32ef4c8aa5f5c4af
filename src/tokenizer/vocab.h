// The vocabulary part of a GGUF tokenizer: token texts, scores and types, the special token ids
// and the flags that decide what encode() adds. Shared by the SentencePiece and BPE models.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pareto {

class GgufFile;

// Values of tokenizer.ggml.token_type.
enum class TokenType : uint8_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class TokenizerKind {
  kSentencePiece,  // tokenizer.ggml.model "llama"
  kByteLevelBpe,   // tokenizer.ggml.model "gpt2"
};

// Hash that accepts std::string_view, so lookups of substrings of the input allocate nothing.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TextToId = std::unordered_map<std::string, int32_t, TextHash, std::equal_to<>>;

struct Vocab {
  std::string source;  // the GGUF file's path, for messages
  TokenizerKind kind = TokenizerKind::kSentencePiece;
  std::string pre;  // tokenizer.ggml.pre ("" when absent)
  std::vector<std::string> texts;
  std::vector<float> scores;  // one per token; zeros when the file has none
  std::vector<TokenType> types;
  TextToId text_to_id;  // every token; with duplicate texts the last one wins

  int32_t bos_id = -1;  // -1: the model has none
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  bool add_bos = false;
  bool add_bos_from_file = false;  // tokenizer.ggml.add_bos_token was present
  bool add_eos = false;
  bool add_space_prefix = false;
  std::vector<int32_t> eog_ids;  // ends of generation: EOS, EOT, EOM and end-of-turn tokens

  int32_t size() const { return static_cast<int32_t>(texts.size()); }
  bool contains(int32_t id) const { return id >= 0 && id < size(); }
  // -1 when no token has exactly this text.
  int32_t find(std::string_view text) const;
};

// The byte of a "<0xAB>" byte-token text; -1 for any other text.
int parse_byte_token(std::string_view text);

// Reads the tokenizer.ggml.* metadata. Throws pareto::Error naming the file when the metadata is
// missing, inconsistent, or for a tokenizer model this engine does not implement.
Vocab load_vocab(const GgufFile& gguf);

}  // namespace pareto
