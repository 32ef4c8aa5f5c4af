// The model-specific half of a tokenizer: turns one fragment of plain text (special tokens have
// already been cut out by the Tokenizer) into token ids.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace pareto {

class SubwordModel {
 public:
  virtual ~SubwordModel() = default;
  // Appends the tokens of `text` to `out`. `space_prefix` asks for a leading space to be added
  // first (SentencePiece's dummy prefix); models without that notion ignore it.
  virtual void encode(std::string_view text, bool space_prefix,
                      std::vector<int32_t>& out) const = 0;
};

}  // namespace pareto
