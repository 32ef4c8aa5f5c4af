#include "sample/candidate_set.h"

#include "base/error.h"
#include "sample/softmax_math.h"

namespace pareto {

void CandidateSet::reset(std::span<const float> logits) {
  if (logits.empty()) fail("sampler: empty logits row");
  logits_.assign(logits.begin(), logits.end());
  size_ = logits.size();
  all_ids_ = true;
  max_logit_ = max_value(logits);
}

void CandidateSet::keep_only(std::span<const TokenLogit> kept) {
  if (kept.empty() || kept.size() > size_) {
    fail("CandidateSet::keep_only: {} tokens kept out of {}", kept.size(), size_);
  }
  if (ids_.size() < kept.size()) ids_.resize(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    logits_[i] = kept[i].logit;
    ids_[i] = kept[i].token_id;
  }
  size_ = kept.size();
  all_ids_ = false;
}

void CandidateSet::drop_below(float threshold) {
  if (all_ids_ && ids_.size() < size_) ids_.resize(size_);
  // In place (the write index never passes the read index) and branch-free, since on a flat row
  // the kept tokens sit at unpredictable places.
  size_t kept = 0;
  for (size_t i = 0; i < size_; ++i) {
    const float logit = logits_[i];
    logits_[kept] = logit;
    ids_[kept] = all_ids_ ? static_cast<int32_t>(i) : ids_[i];
    kept += static_cast<size_t>(logit >= threshold);
  }
  size_ = kept;
  all_ids_ = false;
}

}  // namespace pareto
