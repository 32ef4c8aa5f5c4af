// The steps of the sampling pipeline, one concern each, so that the engine can run them per
// request over a batch of logits rows. The Sampler chains them as:
//   penalties -> (temperature == 0: argmax) -> temperature -> top-k -> top-p -> min-p -> draw.
// Each step with its "off" value (penalty 1 or 0, temperature 1, top_k <= 0, top_p 1, min_p 0)
// returns at once without touching its input.
//
// `counts` scratch: a std::vector<int32_t> that is all zeros (or empty) on entry and is left all
// zeros on return, grown to vocab_size on first use. It lets the penalties find distinct tokens
// in O(number of tokens) instead of O(vocab_size) per call; share one per sampling thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sample/candidate_set.h"

namespace pareto {

// logits [vocab_size], in place. Each distinct token of prompt_tokens and output_tokens is
// penalized once: positive logit / penalty, negative logit * penalty. Throws pareto::Error on a
// token id outside [0, vocab_size).
void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> prompt_tokens,
                              std::span<const int32_t> output_tokens, float penalty,
                              std::vector<int32_t>& counts);

// logits [vocab_size], in place: logit -= presence * (count > 0) + frequency * count, counting
// generated tokens only (the prompt does not count, as in OpenAI and vLLM). Throws pareto::Error
// on a token id outside [0, vocab_size).
void apply_presence_frequency_penalty(std::span<float> logits,
                                      std::span<const int32_t> output_tokens, float presence,
                                      float frequency, std::vector<int32_t>& counts);

// Lowest token id among the largest logits; logits must not be NaN.
int32_t argmax(std::span<const float> logits);

// logits [vocab_size], in place: (logit - max_logit) / temperature, temperature > 0. The shift
// changes nothing downstream (softmax, top-k, top-p and min-p ignore it) and keeps a tiny
// temperature from overflowing the best logit to +inf: the best becomes 0 and the rest fall
// towards -inf, which is the argmax that the temperature -> 0 limit should give.
void apply_temperature(std::span<float> logits, float temperature);

// Keeps the top_k best-ranked candidates (ties to lower token ids); top_k <= 0 = off. Linear
// time, no sort of the row (select_best.h).
void apply_top_k(CandidateSet& candidates, int32_t top_k, SelectionScratch& scratch);

// Keeps the smallest best-ranked set whose softmax probability (within the candidates) sums to
// >= top_p, up to a relative 1e-6 for float rounding; top_p >= 1 = off. Drops tokens too light
// to matter by a mass bound, finds the cut-off among the rest with a histogram of probability
// mass over logit bins, and sorts only the bin holding it.
void apply_top_p(CandidateSet& candidates, float top_p, SelectionScratch& scratch);

// Keeps candidates with probability >= min_p * (best probability), i.e. logit >= best logit +
// log(min_p); min_p <= 0 = off.
void apply_min_p(CandidateSet& candidates, float min_p);

// Draws a candidate with probability softmax(logits) given u uniform in [0, 1): the token whose
// interval of the cumulative sum, in token id order, holds u * total. Never returns a token of
// probability 0. Throws pareto::Error when no candidate has a finite logit.
int32_t sample_candidate(const CandidateSet& candidates, double u, SelectionScratch& scratch);

}  // namespace pareto
