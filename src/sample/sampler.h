// Picks the next token of one request from its logits row, applying that request's
// SamplingParams, and reports logprobs.
//
// Logprobs are the log-softmax of the model's raw logits, before penalties, temperature and
// truncation (vLLM's default "raw_logprobs"): they describe what the model predicted, not the
// reshaped distribution the token was drawn from. A greedy or truncated pick can thus have a
// lower logprob than a token that was never eligible.
//
// Reproducibility: with a seed, the same params and the same logits give the same tokens on
// every run and machine. Each non-greedy sample() consumes exactly one Rng draw, greedy none;
// the draw walks the kept candidates in token id order (candidate_set.h); exp and sums are our
// own fixed-order code (softmax_math.h), not libm's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sample/candidate_set.h"
#include "sample/logprobs.h"
#include "sample/rng.h"
#include "sample/sampling_params.h"

namespace pareto {

struct SampledToken {
  int32_t token_id = -1;
  // Raw log-softmax of token_id; absent when params.logprobs == -1.
  std::optional<float> logprob;
  // The params.logprobs best tokens by raw logit (ties to the lower id), best first; empty when
  // params.logprobs <= 0. May or may not contain token_id.
  std::vector<TokenLogprob> top_logprobs;
};

// Buffers sized to the vocabulary (a few MB at 150k tokens), reused from call to call. A Sampler
// has its own; an engine sampling many requests on one thread can share one across them instead.
struct SamplerWorkspace {
  std::vector<float> logits;    // [vocab_size] penalized, then tempered, copy of the row
  CandidateSet candidates;      // what top-k / top-p / min-p leave
  SelectionScratch selection;   // the processors' working memory
  std::vector<int32_t> counts;  // [vocab_size] all zero between calls (see logits_processors.h)
};

// One per request. Not thread-safe: a sample() call mutates the Rng and the workspace.
class Sampler {
 public:
  // Throws pareto::Error when params.validate() does, or vocab_size < 1.
  Sampler(const SamplingParams& params, int32_t vocab_size);

  // logits [vocab_size] for the next position; prompt_tokens and output_tokens are the
  // request's tokens so far (for the penalties). Throws pareto::Error on a wrongly sized row, a
  // NaN or +inf logit, a token id outside the vocabulary, or when every logit is -inf.
  SampledToken sample(std::span<const float> logits, std::span<const int32_t> prompt_tokens,
                      std::span<const int32_t> output_tokens);
  SampledToken sample(std::span<const float> logits, std::span<const int32_t> prompt_tokens,
                      std::span<const int32_t> output_tokens, SamplerWorkspace& workspace);

  const SamplingParams& params() const { return params_; }
  int32_t vocab_size() const { return vocab_size_; }
  // params.seed, or the one drawn from std::random_device when it had none (log it to replay).
  uint64_t seed() const { return seed_; }

 private:
  int32_t choose(std::span<const int32_t> prompt_tokens, std::span<const int32_t> output_tokens,
                 SamplerWorkspace& workspace);

  SamplingParams params_;
  int32_t vocab_size_;
  uint64_t seed_;
  Rng rng_;
  SamplerWorkspace own_workspace_;
};

}  // namespace pareto
