#include "sample/logits_processors.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "base/error.h"
#include "sample/select_best.h"
#include "sample/softmax_math.h"

// The frequency penalty's multiply-add must round the same on FMA and non-FMA machines.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace pareto {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Checked before any scratch is touched, so that a bad id cannot leave `counts` dirty.
void check_token_ids(std::span<const int32_t> tokens, size_t vocab_size, const char* what) {
  for (int32_t t : tokens) {
    if (t < 0 || static_cast<size_t>(t) >= vocab_size) {
      fail("sampler: {} token id {} is outside the vocabulary [0, {})", what, t, vocab_size);
    }
  }
}

void ensure_size(std::vector<int32_t>& counts, size_t vocab_size) {
  if (counts.size() < vocab_size) counts.resize(vocab_size, 0);
}

bool by_token_id(const TokenLogit& a, const TokenLogit& b) {
  return a.token_id < b.token_id;
}

// Top-p bins: 1/64 of a logit each, over the 32 logits below the best; everything further down
// (relative probability < e^-32) shares the last bin, whose mass is not tracked: gather_possible
// keeps nothing that light unless 1 - top_p < ~1e-8, which a float top_p < 1 cannot be.
constexpr int kBinsPerLogit = 64;
constexpr int kNumBins = 32 * kBinsPerLogit;
constexpr int kTailBin = kNumBins - 1;

// Monotone in the logit, so bins split the ranking into consecutive runs. -inf goes to the tail.
int bin_of(float logit, float max_logit) {
  const float d = (max_logit - logit) * static_cast<float>(kBinsPerLogit);
  return d < static_cast<float>(kTailBin) ? static_cast<int>(d) : kTailBin;
}

// The candidates that may belong to the top-p set, as (candidate index, logit) in index order,
// stored in `buffer` (grown to the row, never shrunk, so no call pays for refilling it).
//
// Say the candidates outside a kept subset P weigh `excluded` in all. A token e of P of weight w
// has at most excluded + |P| * w ranked at or after it, so when that is <= budget =
// (1 - top_p) * total the tokens before e already reach top_p and e can go. Each round drops
// what falls under half that bound (the half absorbs exp rounding) and tightens it with the new
// P; a few rounds take a 150k row down to the tokens near the cut. Compaction is branch-free:
// on a flat row the survivors sit at unpredictable places.
std::span<TokenLogit> gather_possible(std::span<const float> logits, std::span<const float> weights,
                                      double total, double budget,
                                      std::vector<TokenLogit>& buffer) {
  if (buffer.size() < logits.size()) buffer.resize(logits.size());
  const float first_cutoff = static_cast<float>(0.5 * budget / static_cast<double>(logits.size()));
  size_t count = 0;
  constexpr size_t kBlock = 64;
  for (size_t begin = 0; begin < logits.size(); begin += kBlock) {
    const size_t end = std::min(begin + kBlock, logits.size());
    // Most blocks of a peaked row hold no survivor; this check vectorizes.
    uint32_t any = 0;
    for (size_t i = begin; i < end; ++i) any |= static_cast<uint32_t>(weights[i] > first_cutoff);
    if (!any) continue;
    for (size_t i = begin; i < end; ++i) {
      buffer[count] = {static_cast<int32_t>(i), logits[i]};
      count += static_cast<size_t>(weights[i] > first_cutoff);
    }
  }
  size_t previous = logits.size();
  while (count > 64 && count * 2 <= previous) {
    double kept_mass = 0.0;
    for (size_t i = 0; i < count; ++i) kept_mass += weights[buffer[i].token_id];
    const double cutoff =
        0.5 * (budget - std::max(0.0, total - kept_mass)) / static_cast<double>(count);
    previous = count;
    count = 0;
    for (size_t i = 0; i < previous; ++i) {
      buffer[count] = buffer[i];
      count += static_cast<size_t>(weights[buffer[i].token_id] > cutoff);
    }
  }
  return {buffer.data(), count};
}

// The last entry, in rank order, of the shortest best-ranked run of `possible` (entries hold
// candidate indices into weights) whose weights sum to >= target; empty when rounding kept the
// whole set short of it. `possible` must hold every entry that could be in the run.
std::optional<TokenLogit> find_top_p_cut(std::span<const TokenLogit> possible,
                                         std::span<const float> weights, float max_logit,
                                         double target, std::vector<TokenLogit>& members) {
  std::array<double, kNumBins> bin_mass{};
  for (const TokenLogit& t : possible) {
    const int bin = bin_of(t.logit, max_logit);
    if (bin != kTailBin) bin_mass[bin] += weights[t.token_id];
  }
  // The cut lies in the first bin where the running mass reaches the target.
  double cumulative = 0.0;
  int boundary = kTailBin;
  for (int bin = 0; bin < kTailBin; ++bin) {
    if (cumulative + bin_mass[bin] >= target) {
      boundary = bin;
      break;
    }
    cumulative += bin_mass[bin];
  }
  members.clear();
  for (const TokenLogit& t : possible) {
    if (bin_of(t.logit, max_logit) == boundary) members.push_back(t);
  }
  std::sort(members.begin(), members.end(), ranks_before);
  for (const TokenLogit& member : members) {
    cumulative += weights[member.token_id];
    if (cumulative >= target) return member;
  }
  // Summed member by member, the bin came out a rounding short of its histogram mass, which did
  // reach the target: the whole bin is in. Past the tail, rounding kept the total short.
  if (boundary == kTailBin || members.empty()) return std::nullopt;
  return members.back();
}

constexpr size_t kDrawBlock = 64;

}  // namespace

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> prompt_tokens,
                              std::span<const int32_t> output_tokens, float penalty,
                              std::vector<int32_t>& counts) {
  if (penalty == 1.0f) return;
  check_token_ids(prompt_tokens, logits.size(), "prompt");
  check_token_ids(output_tokens, logits.size(), "output");
  ensure_size(counts, logits.size());
  auto penalize_once = [&](std::span<const int32_t> tokens) {
    for (int32_t t : tokens) {
      if (counts[t] != 0) continue;
      counts[t] = 1;
      float& logit = logits[t];
      logit = logit > 0.0f ? logit / penalty : logit * penalty;
    }
  };
  penalize_once(prompt_tokens);
  penalize_once(output_tokens);
  for (int32_t t : prompt_tokens) counts[t] = 0;
  for (int32_t t : output_tokens) counts[t] = 0;
}

void apply_presence_frequency_penalty(std::span<float> logits,
                                      std::span<const int32_t> output_tokens, float presence,
                                      float frequency, std::vector<int32_t>& counts) {
  if (presence == 0.0f && frequency == 0.0f) return;
  check_token_ids(output_tokens, logits.size(), "output");
  ensure_size(counts, logits.size());
  for (int32_t t : output_tokens) ++counts[t];
  for (int32_t t : output_tokens) {
    // The first occurrence applies the whole penalty and clears the count, so later
    // occurrences of the same token skip it.
    if (counts[t] == 0) continue;
    logits[t] -= presence + frequency * static_cast<float>(counts[t]);
    counts[t] = 0;
  }
}

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) fail("sampler: argmax of an empty logits row");
  const float best = max_value(logits);
  // Look for the first block holding the max with a loop that vectorizes, then inside it.
  constexpr size_t kBlock = 64;
  for (size_t begin = 0; begin < logits.size(); begin += kBlock) {
    const size_t end = std::min(begin + kBlock, logits.size());
    uint32_t found = 0;
    for (size_t i = begin; i < end; ++i) found |= static_cast<uint32_t>(logits[i] == best);
    if (!found) continue;
    for (size_t i = begin;; ++i) {
      if (logits[i] == best) return static_cast<int32_t>(i);
    }
  }
  fail("sampler: argmax found no maximum (NaN logits?)");
}

void apply_temperature(std::span<float> logits, float temperature) {
  if (temperature == 1.0f || logits.empty()) return;
  if (!(temperature > 0.0f)) fail("sampler: temperature must be > 0 here (got {})", temperature);
  const float max_logit = max_value(logits);
  // All -inf: nothing is eligible and there is nothing to scale.
  if (max_logit == kNegInf) return;
  for (float& logit : logits) logit = (logit - max_logit) / temperature;
}

void apply_top_k(CandidateSet& candidates, int32_t top_k, SelectionScratch& scratch) {
  if (top_k <= 0 || static_cast<size_t>(top_k) >= candidates.size()) return;
  // Candidate indices rank like token ids (the set is in id order), so selecting by index is
  // selecting by token.
  std::vector<TokenLogit>& best = scratch.selected;
  select_best(candidates.logits(), static_cast<size_t>(top_k), best);
  for (TokenLogit& t : best) t.token_id = candidates.token_id(static_cast<size_t>(t.token_id));
  std::sort(best.begin(), best.end(), by_token_id);
  candidates.keep_only(best);
}

void apply_top_p(CandidateSet& candidates, float top_p, SelectionScratch& scratch) {
  if (top_p >= 1.0f || candidates.size() <= 1) return;
  std::span<const float> logits = candidates.logits();
  const float max_logit = candidates.max_logit();
  if (max_logit == kNegInf) return;
  scratch.weights.resize(logits.size());
  std::span<const float> weights(scratch.weights);
  exp_shifted(logits, max_logit, scratch.weights);
  const double total = sum(weights);
  const double target = static_cast<double>(top_p) * total * (1.0 - 1e-6);

  const double budget = (1.0 - static_cast<double>(top_p)) * total;
  std::span<TokenLogit> possible =
      gather_possible(logits, weights, total, budget, scratch.selected);
  const std::optional<TokenLogit> cut =
      find_top_p_cut(possible, weights, max_logit, target, scratch.bin_members);
  if (!cut) return;
  // Keep what ranks up to the cut, in index (= token id) order, as token ids.
  size_t num_kept = 0;
  for (const TokenLogit& t : possible) {
    if (ranks_before(*cut, t)) continue;
    possible[num_kept++] = {candidates.token_id(static_cast<size_t>(t.token_id)), t.logit};
  }
  candidates.keep_only(possible.first(num_kept));
}

void apply_min_p(CandidateSet& candidates, float min_p) {
  if (min_p <= 0.0f || candidates.empty()) return;
  const float max_logit = candidates.max_logit();
  if (max_logit == kNegInf) return;
  candidates.drop_below(max_logit + std::log(min_p));
}

int32_t sample_candidate(const CandidateSet& candidates, double u, SelectionScratch& scratch) {
  if (candidates.empty()) fail("sampler: no candidate tokens left to sample from");
  const float max_logit = candidates.max_logit();
  if (max_logit == kNegInf) fail("sampler: every candidate token has logit -inf");
  std::span<const float> logits = candidates.logits();
  const size_t n = logits.size();
  scratch.weights.resize(n);
  std::span<const float> weights(scratch.weights);
  exp_shifted(logits, max_logit, scratch.weights);

  // Block sums make the search for u's interval a short walk over blocks and then one block,
  // instead of a serial running sum over the whole vocabulary.
  const size_t num_blocks = (n + kDrawBlock - 1) / kDrawBlock;
  scratch.block_masses.resize(num_blocks);
  double total = 0.0;
  for (size_t b = 0; b < num_blocks; ++b) {
    const size_t begin = b * kDrawBlock;
    scratch.block_masses[b] = sum(weights.subspan(begin, std::min(kDrawBlock, n - begin)));
    total += scratch.block_masses[b];
  }
  const double threshold = u * total;
  double cumulative = 0.0;
  size_t block = 0;
  while (block + 1 < num_blocks && cumulative + scratch.block_masses[block] <= threshold) {
    cumulative += scratch.block_masses[block++];
  }
  const size_t begin = block * kDrawBlock;
  const size_t end = std::min(begin + kDrawBlock, n);
  size_t last_positive = n;
  for (size_t i = begin; i < end; ++i) {
    if (weights[i] == 0.0f) continue;
    cumulative += weights[i];
    last_positive = i;
    if (threshold < cumulative) return candidates.token_id(i);
  }
  // Rounding (u near 1, or a block summed in lanes versus one by one) left the draw just past
  // the block's live tokens: it belongs to the last of them, or to the last live token before.
  if (last_positive == n) {
    for (size_t i = begin; i-- > 0;) {
      if (weights[i] != 0.0f) return candidates.token_id(i);
    }
  }
  if (last_positive == n) fail("sampler: no candidate token has probability above 0");
  return candidates.token_id(last_positive);
}

}  // namespace pareto
