#include "tokenizer/incremental_detokenizer.h"

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace pareto {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool render_special)
    : tokenizer_(tokenizer),
      render_special_(render_special),
      strip_next_space_(tokenizer.strips_leading_space()) {}

void IncrementalDetokenizer::append_piece(int32_t id) {
  const std::string piece = tokenizer_.token_to_piece(id, render_special_);
  if (piece.empty()) return;
  // Same rule as Tokenizer::decode(): the first piece with any text loses one leading space.
  if (strip_next_space_ && piece[0] == ' ') {
    pending_.append(piece, 1);
  } else {
    pending_ += piece;
  }
  strip_next_space_ = false;
}

void IncrementalDetokenizer::prime(std::span<const int32_t> ids) {
  for (int32_t id : ids) {
    append_piece(id);
    take_complete();
  }
}

std::string IncrementalDetokenizer::feed(int32_t id) {
  append_piece(id);
  return take_complete();
}

std::string IncrementalDetokenizer::take_complete() {
  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    const Utf8Check c = utf8_check_at(pending_, pos);
    if (c.status == Utf8Status::kIncomplete) break;  // the next token may complete it
    if (c.status == Utf8Status::kInvalid) {
      out += kReplacementChar;
    } else {
      out.append(pending_, pos, c.length);
    }
    pos += c.length;
  }
  pending_.erase(0, pos);
  return out;
}

std::string IncrementalDetokenizer::flush() {
  std::string out = take_complete();
  // Whatever is left is a truncated sequence that nothing will complete now.
  if (!pending_.empty()) out += kReplacementChar;
  pending_.clear();
  return out;
}

}  // namespace pareto
