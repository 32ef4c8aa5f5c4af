#include "sample/sampler.h"

#include <limits>

#include "base/error.h"
#include "sample/logits_processors.h"

namespace pareto {
namespace {

SamplingParams validated(const SamplingParams& params) {
  params.validate();
  return params;
}

// NaN would break the candidate ordering and +inf the softmax; both mean the model is broken, so
// say so rather than sample garbage. -inf is a legitimate mask. The first pass only flags, in a
// form that vectorizes; the second finds the culprit for the message.
void check_logits(std::span<const float> logits) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  uint32_t bad = 0;
  uint32_t any_above_neg_inf = 0;
  for (float x : logits) {
    bad |= static_cast<uint32_t>(!(x < kInf));
    any_above_neg_inf |= static_cast<uint32_t>(x > -kInf);
  }
  if (bad) {
    for (size_t i = 0; i < logits.size(); ++i) {
      if (!(logits[i] < kInf)) fail("sampler: logit of token {} is {}", i, logits[i]);
    }
  }
  if (!any_above_neg_inf) fail("sampler: every logit is -inf, no token can be sampled");
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t vocab_size)
    : params_(validated(params)),
      vocab_size_(vocab_size),
      seed_(params.seed ? *params.seed : random_seed()),
      rng_(seed_) {
  if (vocab_size < 1) fail("sampler: vocab_size must be >= 1 (got {})", vocab_size);
}

SampledToken Sampler::sample(std::span<const float> logits, std::span<const int32_t> prompt_tokens,
                             std::span<const int32_t> output_tokens) {
  return sample(logits, prompt_tokens, output_tokens, own_workspace_);
}

SampledToken Sampler::sample(std::span<const float> logits, std::span<const int32_t> prompt_tokens,
                             std::span<const int32_t> output_tokens, SamplerWorkspace& workspace) {
  if (logits.size() != static_cast<size_t>(vocab_size_)) {
    fail("sampler: logits row has {} entries, vocabulary has {}", logits.size(), vocab_size_);
  }
  check_logits(logits);
  workspace.logits.assign(logits.begin(), logits.end());

  SampledToken out;
  out.token_id = choose(prompt_tokens, output_tokens, workspace);
  if (params_.logprobs >= 0) {
    const float log_z = log_sum_exp(logits);
    out.logprob = logits[out.token_id] - log_z;
    out.top_logprobs = top_logprobs(logits, params_.logprobs, log_z);
  }
  return out;
}

int32_t Sampler::choose(std::span<const int32_t> prompt_tokens,
                        std::span<const int32_t> output_tokens, SamplerWorkspace& ws) {
  std::span<float> logits(ws.logits);
  apply_repetition_penalty(logits, prompt_tokens, output_tokens, params_.repetition_penalty,
                           ws.counts);
  apply_presence_frequency_penalty(logits, output_tokens, params_.presence_penalty,
                                   params_.frequency_penalty, ws.counts);
  if (params_.is_greedy()) return argmax(logits);

  apply_temperature(logits, params_.temperature);
  ws.candidates.reset(logits);
  apply_top_k(ws.candidates, params_.top_k, ws.selection);
  apply_top_p(ws.candidates, params_.top_p, ws.selection);
  apply_min_p(ws.candidates, params_.min_p);
  return sample_candidate(ws.candidates, rng_.next_double(), ws.selection);
}

}  // namespace pareto
