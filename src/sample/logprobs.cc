#include "sample/logprobs.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "sample/candidate_set.h"
#include "sample/select_best.h"
#include "sample/softmax_math.h"

namespace pareto {

float log_sum_exp(std::span<const float> logits) {
  if (logits.empty()) fail("sampler: log_sum_exp of an empty logits row");
  const float max_logit = max_value(logits);
  if (!std::isfinite(max_logit)) {
    fail("sampler: log_sum_exp needs a finite max (got {})", max_logit);
  }
  const double mass = sum_exp_shifted(logits, max_logit);
  return max_logit + static_cast<float>(std::log(mass));
}

std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int32_t num_top,
                                       float log_z) {
  const size_t n = std::min(static_cast<size_t>(std::max(num_top, 0)), logits.size());
  std::vector<TokenLogit> best;
  select_best(logits, n, best);
  std::sort(best.begin(), best.end(), ranks_before);
  std::vector<TokenLogprob> out;
  out.reserve(best.size());
  for (const TokenLogit& t : best) out.push_back({t.token_id, t.logit - log_z});
  return out;
}

}  // namespace pareto
