// Text <-> token ids for a model, built from the tokenizer.ggml.* metadata of its GGUF file.
// Supports SentencePiece-style vocabularies ("llama") and byte-level BPE ("gpt2"); see
// docs/tokenizer.md. A Tokenizer is immutable after construction and safe to share between
// threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace pareto {

class GgufFile;
class SpecialTokenMatcher;
class SubwordModel;

class Tokenizer {
 public:
  // Throws pareto::Error naming the file when the tokenizer metadata is missing or invalid, or
  // the tokenizer model is not supported.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& gguf);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_bos: add the special tokens the model's metadata asks for, BOS when add_bos_default()
  // (and EOS when tokenizer.ggml.add_eos_token is set); false adds none.
  // parse_special: turn control-token texts in `text` (e.g. "<|im_start|>") into their ids;
  // when false they are tokenized as ordinary text. User-defined tokens are always matched.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // The bytes the ids stand for. Control and unknown tokens produce nothing unless
  // render_special, which writes their text. For SentencePiece vocabularies the leading space
  // that encoding prepends is removed from the first piece. The result is not necessarily valid
  // UTF-8 (ids may end inside a character).
  std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

  // The raw bytes one token produces, with the same rules as decode() but no space stripping
  // (a SentencePiece "▁the" gives " the"). Throws pareto::Error for an id outside the vocabulary.
  std::string token_to_piece(int32_t id, bool render_special = false) const;
  // The token's text as stored in the vocabulary (e.g. "▁the", "Ġthe", "<0x0A>", "<s>").
  const std::string& token_text(int32_t id) const;
  TokenType token_type(int32_t id) const;

  int32_t vocab_size() const { return vocab_.size(); }
  int32_t bos_id() const { return vocab_.bos_id; }  // -1 when none
  int32_t eos_id() const { return vocab_.eos_id; }
  int32_t unk_id() const { return vocab_.unk_id; }
  int32_t pad_id() const { return vocab_.pad_id; }
  // True for tokens that end generation: EOS, tokenizer.ggml.eot_token_id/eom_token_id, and
  // end-of-turn control tokens such as <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>.
  bool is_eog(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const { return vocab_.eog_ids; }
  bool add_bos_default() const { return vocab_.add_bos; }
  bool add_eos_default() const { return vocab_.add_eos; }
  // Whether decoding drops the first piece's leading space (SentencePiece with a space prefix).
  bool strips_leading_space() const { return strips_leading_space_; }
  TokenizerKind kind() const { return vocab_.kind; }
  // The regex set in use for BPE (e.g. "llama3"); empty for SentencePiece.
  const std::string& pre_tokenizer() const { return pre_name_; }

 private:
  Tokenizer(Vocab vocab, std::vector<std::string> merges);
  const std::string& piece_ref(int32_t id, bool render_special) const;
  void check_id(int32_t id) const;

  Vocab vocab_;
  std::unique_ptr<SubwordModel> model_;
  std::unique_ptr<SpecialTokenMatcher> specials_;
  std::vector<std::string> pieces_;  // the decoded bytes of each token, "" for control tokens
  std::vector<uint8_t> is_eog_;
  std::string pre_name_;
  bool strips_leading_space_ = false;
};

}  // namespace pareto
