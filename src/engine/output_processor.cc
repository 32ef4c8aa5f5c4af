#include "engine/output_processor.h"

#include <algorithm>

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace pareto {

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kAbort:
      return "abort";
    case FinishReason::kError:
      return "error";
  }
  fail("unknown finish reason {}", static_cast<int>(reason));
}

void StopConditions::validate() const {
  if (max_tokens < 0) fail("max_tokens must be >= 0, got {}", max_tokens);
  if (min_tokens < 0) fail("min_tokens must be >= 0, got {}", min_tokens);
  if (min_tokens > max_tokens) {
    fail("min_tokens ({}) must not exceed max_tokens ({})", min_tokens, max_tokens);
  }
  for (size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) fail("stop string {} is empty", i);
    // Decoded text is always valid UTF-8 (bad bytes become U+FFFD), so such a string could
    // never match.
    if (!is_valid_utf8(stop[i])) fail("stop string {} is not valid UTF-8", i);
  }
  for (int32_t id : stop_token_ids) {
    if (id < 0) fail("stop token id must be >= 0, got {}", id);
  }
}

SequenceOutputProcessor::SequenceOutputProcessor(const Tokenizer& tokenizer,
                                                 std::span<const int32_t> prompt_token_ids,
                                                 const StopConditions& stop)
    : tokenizer_(tokenizer), stop_(stop), detokenizer_(tokenizer, !stop.skip_special_tokens) {
  stop_.validate();
  for (int32_t id : stop_.stop_token_ids) {
    if (id >= tokenizer.vocab_size()) {
      fail("stop token id {} is outside the vocabulary of {} tokens", id, tokenizer.vocab_size());
    }
  }
  for (const std::string& s : stop_.stop) max_stop_length_ = std::max(max_stop_length_, s.size());
  detokenizer_.prime(prompt_token_ids);
}

bool SequenceOutputProcessor::is_stop_token(int32_t token_id) const {
  if (std::find(stop_.stop_token_ids.begin(), stop_.stop_token_ids.end(), token_id) !=
      stop_.stop_token_ids.end()) {
    return true;
  }
  return !stop_.ignore_eos && tokenizer_.is_eog(token_id);
}

std::optional<SequenceOutputProcessor::StopMatch> SequenceOutputProcessor::append_decoded(
    std::string_view text) {
  const size_t old_len = decoded_.size();
  decoded_ += text;
  if (text.empty() || !stops_active()) return std::nullopt;
  std::optional<StopMatch> best;
  for (size_t i = 0; i < stop_.stop.size(); ++i) {
    const std::string& s = stop_.stop[i];
    // Only matches that end in the new text are new: earlier ones were either found by an
    // earlier step or fell before min_tokens.
    const size_t from = old_len + 1 > s.size() ? old_len + 1 - s.size() : 0;
    const size_t start = decoded_.find(s, from);
    if (start == std::string::npos) continue;
    const StopMatch m{start, start + s.size(), i};
    if (!best || m.end < best->end || (m.end == best->end && m.start < best->start)) best = m;
  }
  return best;
}

size_t SequenceOutputProcessor::held_suffix_length() const {
  if (stop_.include_stop_str_in_output) return 0;
  const std::string_view pending = std::string_view(decoded_).substr(output_text_.size());
  size_t held = 0;
  for (const std::string& s : stop_.stop) {
    // Proper prefixes only: a whole stop string at the end is either a match (already handled)
    // or fell before min_tokens, and then it can no longer stop anything.
    const size_t longest = std::min(s.size() - 1, pending.size());
    for (size_t k = longest; k > held; --k) {
      if (pending.ends_with(std::string_view(s).substr(0, k))) {
        held = k;
        break;
      }
    }
  }
  return held;
}

void SequenceOutputProcessor::emit_up_to(size_t end, OutputDelta& delta) {
  const size_t begin = output_text_.size();
  if (end <= begin) return;
  delta.text.append(decoded_, begin, end - begin);
  output_text_.append(decoded_, begin, end - begin);
}

OutputDelta SequenceOutputProcessor::finish_with_stop_string(const StopMatch& match,
                                                             OutputDelta delta) {
  emit_up_to(stop_.include_stop_str_in_output ? match.end : match.start, delta);
  // Nothing after the cut is ever part of the output.
  decoded_.resize(output_text_.size());
  finished_ = true;
  delta.finished = true;
  delta.finish_reason = FinishReason::kStop;
  delta.stop_reason = stop_.stop[match.stop_idx];
  return delta;
}

OutputDelta SequenceOutputProcessor::flush_and_finish(
    FinishReason reason, std::variant<std::monostate, std::string, int32_t> stop_reason) {
  OutputDelta delta;
  // An unfinished character left in the detokenizer becomes U+FFFD; in principle that could
  // complete a stop string, which then ends the text as it would have in feed().
  if (const auto match = append_decoded(detokenizer_.flush())) {
    return finish_with_stop_string(*match, std::move(delta));
  }
  emit_up_to(decoded_.size(), delta);
  finished_ = true;
  delta.finished = true;
  delta.finish_reason = reason;
  delta.stop_reason = std::move(stop_reason);
  return delta;
}

OutputDelta SequenceOutputProcessor::feed(int32_t token_id) {
  if (finished_) fail("token {} fed to a finished sequence", token_id);
  if (token_id < 0 || token_id >= tokenizer_.vocab_size()) {
    fail("token id {} is outside the vocabulary of {} tokens", token_id, tokenizer_.vocab_size());
  }
  ++num_output_tokens_;

  if (stops_active() && is_stop_token(token_id)) {
    const bool listed = std::find(stop_.stop_token_ids.begin(), stop_.stop_token_ids.end(),
                                  token_id) != stop_.stop_token_ids.end();
    std::variant<std::monostate, std::string, int32_t> reason;
    if (listed) reason = token_id;
    return flush_and_finish(FinishReason::kStop, std::move(reason));
  }

  if (const auto match = append_decoded(detokenizer_.feed(token_id))) {
    return finish_with_stop_string(*match, OutputDelta{});
  }
  if (num_output_tokens_ >= stop_.max_tokens) return flush_and_finish(FinishReason::kLength, {});

  OutputDelta delta;
  emit_up_to(decoded_.size() - held_suffix_length(), delta);
  return delta;
}

OutputDelta SequenceOutputProcessor::finish(FinishReason reason) {
  if (finished_) fail("finish({}) on a finished sequence", finish_reason_name(reason));
  return flush_and_finish(reason, {});
}

}  // namespace pareto
