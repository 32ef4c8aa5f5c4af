// Byte-level BPE ("gpt2" in GGUF): the pre-tokenizer cuts the text into words, each word's bytes
// become one symbol each (the vocabulary spells them through the GPT-2 byte-to-unicode map), and
// adjacent symbols are merged by rank in tokenizer.ggml.merges, lowest rank first (leftmost on
// ties), until no listed pair is left.
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/subword_model.h"
#include "tokenizer/vocab.h"

namespace pareto {

class BpeModel : public SubwordModel {
 public:
  // `vocab` must outlive the model. `merges` are "left right" pairs in rank order; throws
  // pareto::Error naming the vocabulary's file for a malformed entry.
  BpeModel(const Vocab& vocab, const std::vector<std::string>& merges, PreTokenizerConfig pre);
  void encode(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const override;

  const std::string& pre_tokenizer_name() const { return pre_name_; }

 private:
  struct Merge {
    int32_t rank;
    int32_t result_id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }

  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  const Vocab& vocab_;
  PreTokenizer pre_;
  std::string pre_name_;
  bool ignore_merges_;
  std::array<int32_t, 256> byte_ids_;           // the token spelling each single byte, -1 if none
  std::unordered_map<uint64_t, Merge> merges_;  // keyed by pair_key(left id, right id)
};

}  // namespace pareto
