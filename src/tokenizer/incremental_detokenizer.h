// Streams generated text: token ids go in one at a time, and what comes out is always whole UTF-8
// characters. A byte token that starts a multi-byte character is held back until the rest
// arrives, so a client never sees half an emoji. The concatenation of all deltas plus flush()
// equals Tokenizer::decode() of the same ids whenever that is valid UTF-8.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace pareto {

class Tokenizer;

class IncrementalDetokenizer {
 public:
  // `tokenizer` must outlive the detokenizer. render_special as in Tokenizer::decode().
  explicit IncrementalDetokenizer(const Tokenizer& tokenizer, bool render_special = false);

  // Consumes tokens whose text is not wanted in the output (the prompt), so that the state is
  // as if they had been fed: the SentencePiece leading space is stripped only at the true start
  // of the sequence, and an incomplete character at the end of the prompt is completed by the
  // first generated tokens.
  void prime(std::span<const int32_t> ids);

  // Adds one token and returns the text that became complete (possibly empty). Bytes that can
  // never form a valid character are returned as U+FFFD.
  std::string feed(int32_t id);

  // Returns whatever is still held back, with incomplete characters as U+FFFD, and resets the
  // pending bytes (the stripping state is kept: later feeds continue the same sequence).
  std::string flush();

  // Bytes held back waiting for the rest of a character.
  size_t num_pending_bytes() const { return pending_.size(); }

 private:
  void append_piece(int32_t id);
  // Moves the longest complete prefix of pending_ to the result.
  std::string take_complete();

  const Tokenizer& tokenizer_;
  bool render_special_;
  bool strip_next_space_;
  std::string pending_;
};

}  // namespace pareto
