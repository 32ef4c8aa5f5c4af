// Log-probabilities reported back to the client: log-softmax of a logits row.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace pareto {

struct TokenLogprob {
  int32_t token_id;
  float logprob;
};

// log(sum(exp(logits))), computed stably with the sampler's own exp (softmax_math.h); logits
// [vocab_size] must hold a finite value. logprob(i) = logits[i] - log_sum_exp(logits).
float log_sum_exp(std::span<const float> logits);

// The num_top best tokens (higher logit first, ties to the lower id) with their log-softmax,
// given log_z = log_sum_exp(logits), without sorting the row (select_best.h).
std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int32_t num_top, float log_z);

}  // namespace pareto
