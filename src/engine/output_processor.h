// Per-sequence output processing: turns the stream of sampled token ids of one completion into
// the text the client sees, step by step, and decides when the completion stops.
//
// Each generated token goes through IncrementalDetokenizer (which holds back bytes of an
// unfinished UTF-8 character), then the stop conditions are checked on the decoded text. Text
// that could be the beginning of a stop string is held back until it is known not to be, so a
// client never sees part of a stop string; text after a stop string is never sent. Every delta
// is valid UTF-8, and the concatenation of all deltas is the decoded output truncated at the
// stop (see docs/engine.md, "Requests and outputs").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tokenizer/incremental_detokenizer.h"

namespace pareto {

class Tokenizer;

// Why a completion ended; the names are OpenAI's finish_reason values.
enum class FinishReason { kStop, kLength, kAbort, kError };

// "stop", "length", "abort", "error".
std::string_view finish_reason_name(FinishReason reason);

struct StopConditions {
  std::vector<std::string> stop;        // stop strings, matched on the detokenized output text
  std::vector<int32_t> stop_token_ids;  // extra stop tokens
  // Don't stop at the tokenizer's end-of-generation tokens (Tokenizer::is_eog).
  bool ignore_eos = false;
  // Generated tokens (including a final stop token). The engine handles max_tokens == 0 itself.
  int64_t max_tokens = 16;
  // Until this many tokens have been generated (counting the current one), end-of-generation
  // tokens, stop tokens and stop strings do not stop the completion.
  int64_t min_tokens = 0;
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;  // false renders control tokens' text (render_special)

  // Throws pareto::Error on a negative count, min_tokens > max_tokens, an empty stop string or
  // one that is not valid UTF-8 (it could never match the decoded text), or a negative stop
  // token id. Ids beyond the vocabulary are checked by SequenceOutputProcessor.
  void validate() const;
};

// What one step adds to a completion's output.
struct OutputDelta {
  std::string text;  // text to stream now; empty while everything new is held back
  bool finished = false;
  std::optional<FinishReason> finish_reason;  // set exactly when finished
  // What stopped it (OpenAI/vLLM "stop_reason"): the matched stop string, or the stop token id
  // for a token of stop_token_ids. monostate for an end-of-generation token that is not in
  // stop_token_ids (as vLLM reports EOS) and for every other finish reason.
  std::variant<std::monostate, std::string, int32_t> stop_reason;
};

// One completion's output state. Not thread-safe; the engine drives it from its step loop.
class SequenceOutputProcessor {
 public:
  // `tokenizer` must outlive the processor. prompt_token_ids prime the detokenizer (they produce
  // no output, but decide SentencePiece space stripping and may start a UTF-8 character that the
  // first generated tokens complete). Throws pareto::Error when `stop` is invalid or names a
  // stop token outside the vocabulary.
  SequenceOutputProcessor(const Tokenizer& tokenizer, std::span<const int32_t> prompt_token_ids,
                          const StopConditions& stop);

  // Feeds one generated token and returns what to stream. In order:
  //  1. the token counts toward max_tokens;
  //  2. once min_tokens is reached, a stop token (end-of-generation unless ignore_eos, or one of
  //     stop_token_ids) finishes with kStop; its own text is not emitted, held text is;
  //  3. its text is appended; once min_tokens is reached, a stop string that ends in the new
  //     text finishes with kStop: the delta ends just before the stop string (just after it
  //     with include_stop_str_in_output) and nothing after it is ever emitted. When several
  //     stop strings match, the one that ends first wins (then the one that starts first), so
  //     the result does not depend on how the text was split into tokens;
  //  4. at max_tokens, finishes with kLength and flushes everything held;
  //  5. otherwise emits the new text except the longest suffix that is a proper prefix of some
  //     stop string (none held with include_stop_str_in_output: that text is emitted whether or
  //     not the stop string completes).
  // Throws pareto::Error once finished or for an id outside the vocabulary.
  OutputDelta feed(int32_t token_id);

  // Ends the completion for a reason outside the token stream (abort, the context is full ->
  // kLength, an error): returns the held-back text (an unfinished UTF-8 character becomes
  // U+FFFD) and marks it finished with `reason`. Throws pareto::Error if already finished.
  OutputDelta finish(FinishReason reason);

  bool finished() const { return finished_; }
  // Everything emitted so far: the concatenation of the returned deltas' text.
  const std::string& output_text() const { return output_text_; }
  int64_t num_output_tokens() const { return num_output_tokens_; }

 private:
  struct StopMatch {
    size_t start;  // byte offsets in decoded_
    size_t end;
    size_t stop_idx;
  };

  bool stops_active() const { return num_output_tokens_ >= stop_.min_tokens; }
  bool is_stop_token(int32_t token_id) const;
  // Appends decoded text and returns the stop string match that ends in it, if stops are active.
  std::optional<StopMatch> append_decoded(std::string_view text);
  // Bytes at the end of decoded_ that could still grow into a stop string.
  size_t held_suffix_length() const;
  // Moves decoded_[output_text_.size(), end) to the delta and to output_text_.
  void emit_up_to(size_t end, OutputDelta& delta);
  OutputDelta finish_with_stop_string(const StopMatch& match, OutputDelta delta);
  // Flushes the detokenizer and everything held, then marks the completion finished (unless a
  // stop string completes in the flushed bytes, which then wins as in feed()).
  OutputDelta flush_and_finish(FinishReason reason,
                               std::variant<std::monostate, std::string, int32_t> stop_reason);

  const Tokenizer& tokenizer_;
  StopConditions stop_;
  IncrementalDetokenizer detokenizer_;
  size_t max_stop_length_ = 0;  // bytes of the longest stop string
  std::string decoded_;         // all complete text of the generated tokens so far
  std::string output_text_;     // the prefix of decoded_ already streamed
  int64_t num_output_tokens_ = 0;
  bool finished_ = false;
};

}  // namespace pareto
