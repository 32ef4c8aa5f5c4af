// Finds special tokens written out in the input text ("<|im_start|>", "<s>") so that they encode
// to their single id instead of being tokenized as characters. User-defined tokens are always
// matched (they are plain additions to the vocabulary, as in HF's non-special added tokens);
// control and unknown tokens only when the caller asks to parse special tokens, so untrusted
// text cannot inject them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace pareto {

struct TextFragment {
  std::string_view text;  // the plain text, when token_id is -1
  int32_t token_id = -1;  // a matched special token
};

class SpecialTokenMatcher {
 public:
  explicit SpecialTokenMatcher(const Vocab& vocab);

  // Cuts text into plain-text fragments and special tokens, scanning left to right and taking
  // the longest special token that starts at each position. Empty text fragments are left out.
  std::vector<TextFragment> split(std::string_view text, bool parse_control) const;

 private:
  struct Entry {
    std::string text;
    int32_t id;
    bool control;  // control or unknown: only matched when parsing special tokens
  };
  // Entries by their first byte, longest text first.
  std::array<std::vector<Entry>, 256> by_first_byte_;
  bool has_user_defined_ = false;
};

}  // namespace pareto
