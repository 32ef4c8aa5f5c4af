// The tokens still eligible while the truncating processors (top-k, top-p, min-p) run.
//
// Candidates always stay in token id order. The processors pick what to keep with selection
// algorithms (block-max bounds, a histogram), so no step ever sorts the vocabulary, and the order
// the final draw walks is fixed by the kept set alone, whatever algorithm chose it: sampling
// stays reproducible across standard libraries.
//
// Storage is split (ids, logits) so that the logits are one contiguous float row that the
// softmax loops can vectorize over. Ids stay implicit (candidate i is token i) until the first
// filter, so sampling with no truncation never writes an id array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pareto {

struct TokenLogit {
  int32_t token_id;
  float logit;
};

// Higher logit first, then lower token id: the order "best k" and "most likely first" refer to.
// A total order for non-NaN logits, so ties never make a selection ambiguous.
inline bool ranks_before(const TokenLogit& a, const TokenLogit& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.token_id < b.token_id);
}

class CandidateSet {
 public:
  // Every token of logits [vocab_size], in id order (copied). Logits must be non-empty and not
  // NaN; -inf marks a token that can never be drawn.
  void reset(std::span<const float> logits);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // [size()] in token id order.
  std::span<const float> logits() const { return {logits_.data(), size_}; }
  int32_t token_id(size_t candidate_idx) const {
    return all_ids_ ? static_cast<int32_t>(candidate_idx) : ids_[candidate_idx];
  }
  TokenLogit at(size_t candidate_idx) const {
    return {token_id(candidate_idx), logits()[candidate_idx]};
  }
  // The best logit; the filters below always keep the best token, so this is fixed at reset.
  float max_logit() const { return max_logit_; }

  // Replaces the set with `kept`: some of the current candidates, in token id order, including
  // the best one (so that max_logit() holds).
  void keep_only(std::span<const TokenLogit> kept);
  // Keeps the candidates with logit >= threshold; threshold <= max_logit().
  void drop_below(float threshold);

 private:
  std::vector<float> logits_;  // [size_] used
  std::vector<int32_t> ids_;   // [size_] used unless all_ids_; grown once, never shrunk
  size_t size_ = 0;
  bool all_ids_ = true;
  float max_logit_ = 0.0f;
};

// Working memory for the processors, reused between calls; contents are meaningless between
// calls.
struct SelectionScratch {
  std::vector<float> weights;           // [num_candidates] unnormalized probabilities
  std::vector<TokenLogit> selected;     // top-k's best, top-p's possible members
  std::vector<TokenLogit> bin_members;  // top-p's candidates in the bin holding the cut-off
  std::vector<double> block_masses;     // [num_candidates / block] for the draw
};

}  // namespace pareto
