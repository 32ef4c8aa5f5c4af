// SentencePiece BPE ("llama" in GGUF): spaces become U+2581, the text starts as one symbol per
// UTF-8 character, and adjacent symbols are merged while their concatenation is a vocabulary
// piece, highest score first (leftmost on ties). Characters no piece covers fall back to
// <0xXX> byte tokens, or to the unknown token when the vocabulary has no byte tokens.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tokenizer/subword_model.h"
#include "tokenizer/vocab.h"

namespace pareto {

inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// A piece's text with its space markers turned back into spaces.
std::string spm_unescape_spaces(std::string_view text);

class SpmModel : public SubwordModel {
 public:
  // `vocab` must outlive the model.
  explicit SpmModel(const Vocab& vocab);
  void encode(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const override;

 private:
  // For each merged span (start << 32 | length), the length of its left part.
  using MergeHistory = std::unordered_map<uint64_t, uint32_t>;

  void encode_word(std::string_view escaped, std::vector<int32_t>& out) const;
  // The piece for text, or -1 when no piece that merges may produce has that text.
  int32_t find_piece(std::string_view text) const;
  void emit(std::string_view text, uint32_t start, uint32_t length, const MergeHistory& history,
            std::vector<int32_t>& out) const;
  void emit_unknown(std::string_view character, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  std::array<int32_t, 256> byte_ids_;  // -1 where the vocabulary lacks <0xXX>
  bool has_unused_ = false;
  // True when no piece contains a word boundary (see encode()).
  bool words_are_independent_ = true;
};

}  // namespace pareto
