#include "sample/logits_processors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "base/error.h"
#include "sample/candidate_set.h"
#include "sample/logprobs.h"
#include "sample/softmax_math.h"

namespace pareto {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> logits_of(const std::vector<float>& probs) {
  std::vector<float> logits;
  for (float p : probs) logits.push_back(std::log(p));
  return logits;
}

std::vector<int32_t> ids_of(const CandidateSet& candidates) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < candidates.size(); ++i) ids.push_back(candidates.token_id(i));
  return ids;
}

std::vector<int32_t> sorted(std::vector<int32_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool all_zero(const std::vector<int32_t>& counts) {
  return std::all_of(counts.begin(), counts.end(), [](int32_t c) { return c == 0; });
}

std::vector<float> random_logits(size_t n, uint64_t seed, float scale = 4.0f) {
  std::mt19937_64 engine(seed);
  std::vector<float> logits(n);
  for (float& x : logits)
    x = scale * static_cast<float>(static_cast<double>(engine() >> 11) * 0x1.0p-53);
  return logits;
}

TEST(RepetitionPenalty, DividesPositiveMultipliesNegativeOncePerDistinctToken) {
  std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f, -2.0f, 0.0f};
  std::vector<int32_t> counts;
  const std::vector<int32_t> prompt = {0, 1, 1, 5};
  const std::vector<int32_t> output = {1, 4, 4};
  apply_repetition_penalty(logits, prompt, output, 2.0f, counts);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f, -4.0f, 0.0f}));
  EXPECT_TRUE(all_zero(counts));
}

TEST(RepetitionPenalty, BelowOneEncourages) {
  std::vector<float> logits = {2.0f, -1.0f, 1.0f};
  std::vector<int32_t> counts;
  const std::vector<int32_t> seen = {0, 1};
  apply_repetition_penalty(logits, seen, {}, 0.5f, counts);
  EXPECT_EQ(logits, (std::vector<float>{4.0f, -0.5f, 1.0f}));
}

TEST(RepetitionPenalty, OneIsOffAndRejectsBadIdsLeavingScratchClean) {
  std::vector<float> logits = {2.0f, -1.0f};
  std::vector<int32_t> counts;
  const std::vector<int32_t> bad = {0, 2};
  apply_repetition_penalty(logits, bad, {}, 1.0f, counts);  // off: ids not even looked at
  EXPECT_EQ(logits, (std::vector<float>{2.0f, -1.0f}));
  const std::vector<int32_t> good = {0};
  EXPECT_THROW(apply_repetition_penalty(logits, good, bad, 2.0f, counts), Error);
  EXPECT_TRUE(all_zero(counts));
  EXPECT_EQ(logits, (std::vector<float>{2.0f, -1.0f}));
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(apply_repetition_penalty(logits, negative, {}, 2.0f, counts), Error);
}

TEST(PresenceFrequencyPenalty, SubtractsPresencePlusFrequencyTimesCount) {
  std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f};
  std::vector<int32_t> counts;
  const std::vector<int32_t> output = {2, 0, 2, 2};
  apply_presence_frequency_penalty(logits, output, 0.5f, 0.25f, counts);
  // token 2: 1 - (0.5 + 3 * 0.25); token 0: 1 - (0.5 + 1 * 0.25); unseen tokens untouched.
  EXPECT_EQ(logits, (std::vector<float>{0.25f, 1.0f, -0.25f, 1.0f}));
  EXPECT_TRUE(all_zero(counts));
}

TEST(PresenceFrequencyPenalty, EachAloneAndNegativeValues) {
  std::vector<int32_t> counts;
  const std::vector<int32_t> output = {1, 1, 0};
  std::vector<float> presence_only = {0.0f, 0.0f, 0.0f};
  apply_presence_frequency_penalty(presence_only, output, 1.5f, 0.0f, counts);
  EXPECT_EQ(presence_only, (std::vector<float>{-1.5f, -1.5f, 0.0f}));
  std::vector<float> frequency_only = {0.0f, 0.0f, 0.0f};
  apply_presence_frequency_penalty(frequency_only, output, 0.0f, 1.5f, counts);
  EXPECT_EQ(frequency_only, (std::vector<float>{-1.5f, -3.0f, 0.0f}));
  std::vector<float> negative = {0.0f, 0.0f, 0.0f};
  apply_presence_frequency_penalty(negative, output, -0.5f, -1.0f, counts);
  EXPECT_EQ(negative, (std::vector<float>{1.5f, 2.5f, 0.0f}));
  const std::vector<int32_t> bad = {3};
  EXPECT_THROW(apply_presence_frequency_penalty(negative, bad, 1.0f, 0.0f, counts), Error);
  EXPECT_TRUE(all_zero(counts));
}

TEST(Argmax, PicksLargestWithTiesToLowestId) {
  EXPECT_EQ(argmax(std::vector<float>{1.0f, 3.0f, 2.0f}), 1);
  EXPECT_EQ(argmax(std::vector<float>{1.0f, 3.0f, 3.0f, 3.0f}), 1);
  EXPECT_EQ(argmax(std::vector<float>{-kInf, -kInf, -5.0f}), 2);
  EXPECT_EQ(argmax(std::vector<float>{7.0f}), 0);
}

TEST(Temperature, DividesShiftedLogits) {
  std::vector<float> logits = {1.0f, 2.0f, 4.0f, -kInf};
  apply_temperature(logits, 2.0f);
  EXPECT_EQ(logits, (std::vector<float>{-1.5f, -1.0f, 0.0f, -kInf}));
  std::vector<float> unchanged = {1.0f, 2.0f};
  apply_temperature(unchanged, 1.0f);
  EXPECT_EQ(unchanged, (std::vector<float>{1.0f, 2.0f}));
}

TEST(Temperature, TinyTemperatureSendsAllButTheBestFarDown) {
  std::vector<float> logits = {1.0f, 3.0f, 2.999f};
  apply_temperature(logits, 1e-30f);
  EXPECT_EQ(logits[1], 0.0f);
  EXPECT_LT(logits[0], -1e29f);
  EXPECT_LT(logits[2], -1e26f);
  EXPECT_EQ(std::exp(logits[2]), 0.0f);
}

TEST(CandidateSet, FiltersKeepTokenIdOrder) {
  CandidateSet candidates;
  candidates.reset(std::vector<float>{1.0f, 4.0f, 2.0f, 3.0f, 0.0f});
  EXPECT_EQ(candidates.size(), 5u);
  EXPECT_EQ(candidates.max_logit(), 4.0f);
  candidates.drop_below(2.0f);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(std::vector<float>(candidates.logits().begin(), candidates.logits().end()),
            (std::vector<float>{4.0f, 2.0f, 3.0f}));
  const std::vector<TokenLogit> kept = {{1, 4.0f}, {3, 3.0f}};
  candidates.keep_only(kept);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(candidates.at(1).token_id, 3);
  EXPECT_EQ(candidates.at(1).logit, 3.0f);
  EXPECT_EQ(candidates.max_logit(), 4.0f);
}

TEST(CandidateSet, ResetStartsOverAndRejectsEmptyRowsAndSets) {
  CandidateSet candidates;
  candidates.reset(std::vector<float>{2.0f, 5.0f});
  EXPECT_THROW(candidates.keep_only({}), Error);
  CandidateSet reused;  // a second reset after filtering starts from the full row again
  reused.reset(std::vector<float>{1.0f, 2.0f});
  reused.drop_below(1.5f);
  reused.reset(std::vector<float>{3.0f, 2.0f, 1.0f});
  EXPECT_EQ(ids_of(reused), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_THROW(reused.reset(std::vector<float>{}), Error);
}

TEST(TopK, KeepsTheKBestWithTiesToLowerIds) {
  const std::vector<float> logits = {1.0f, 5.0f, 3.0f, 5.0f, 2.0f};
  CandidateSet candidates;
  SelectionScratch scratch;
  candidates.reset(logits);
  apply_top_k(candidates, 2, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 3}));
  candidates.reset(logits);
  apply_top_k(candidates, 3, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 2, 3}));
  candidates.reset(std::vector<float>{5.0f, 5.0f, 5.0f});
  apply_top_k(candidates, 1, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{0}));
  candidates.reset(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f});
  apply_top_k(candidates, 2, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 2}));
  for (int32_t off : {0, -1, 5, 100}) {
    candidates.reset(logits);
    apply_top_k(candidates, off, scratch);
    EXPECT_EQ(candidates.size(), 5u) << off;
  }
}

std::vector<int32_t> reference_top_k(const std::vector<float>& logits, int32_t k) {
  std::vector<TokenLogit> ranked;
  for (size_t i = 0; i < logits.size(); ++i) ranked.push_back({int32_t(i), logits[i]});
  std::sort(ranked.begin(), ranked.end(), ranks_before);
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < k; ++i) ids.push_back(ranked[i].token_id);
  return sorted(ids);
}

TEST(TopK, MatchesAFullSortWithManyTiesAndAnyRowOrder) {
  // Coarse logits (multiples of 1/8) put ties at every cut-off; k spans the block-bound path
  // (small k) and the plain selection (k near the row size).
  std::vector<float> logits = random_logits(20000, 5, 1.0f);
  for (float& x : logits) x = std::floor(x * 64.0f) / 8.0f;
  std::vector<float> ascending = logits;
  std::sort(ascending.begin(), ascending.end());
  std::vector<float> descending(ascending.rbegin(), ascending.rend());
  SelectionScratch scratch;
  for (const std::vector<float>* row : {&logits, &ascending, &descending}) {
    for (int32_t k : {1, 7, 50, 1024, 1025, 3000, 19999}) {
      CandidateSet candidates;
      candidates.reset(*row);
      apply_top_k(candidates, k, scratch);
      EXPECT_EQ(ids_of(candidates), reference_top_k(*row, k)) << "k=" << k;
    }
  }
}

TEST(TopP, KeepsTheSmallestSetReachingP) {
  const std::vector<float> logits = logits_of({0.1f, 0.4f, 0.2f, 0.3f});
  struct Case {
    float top_p;
    std::vector<int32_t> kept;
  };
  SelectionScratch scratch;
  for (const Case& c : std::vector<Case>{{0.3f, {1}},
                                         {0.4f, {1}},  // exactly reached by the first token
                                         {0.41f, {1, 3}},
                                         {0.7f, {1, 3}},  // exactly reached by two
                                         {0.71f, {1, 2, 3}},
                                         {0.9f, {1, 2, 3}},
                                         {0.95f, {0, 1, 2, 3}},
                                         {1.0f, {0, 1, 2, 3}}}) {
    CandidateSet candidates;
    candidates.reset(logits);
    apply_top_p(candidates, c.top_p, scratch);
    EXPECT_EQ(ids_of(candidates), c.kept) << "top_p=" << c.top_p;
  }
}

TEST(TopP, WorksOnWhatTopKLeft) {
  // After top-k=2 the kept pair renormalizes to 4/7 and 3/7.
  SelectionScratch scratch;
  CandidateSet candidates;
  candidates.reset(logits_of({0.1f, 0.4f, 0.2f, 0.3f}));
  apply_top_k(candidates, 2, scratch);
  apply_top_p(candidates, 0.55f, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1}));
  candidates.reset(logits_of({0.1f, 0.4f, 0.2f, 0.3f}));
  apply_top_k(candidates, 2, scratch);
  apply_top_p(candidates, 0.58f, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{1, 3}));
}

TEST(TopP, TiesAtTheCutOffGoToLowerIds) {
  SelectionScratch scratch;
  CandidateSet candidates;
  candidates.reset(std::vector<float>(1000, 0.5f));
  apply_top_p(candidates, 0.5f, scratch);
  ASSERT_EQ(candidates.size(), 500u);
  for (int32_t i = 0; i < 500; ++i) EXPECT_EQ(candidates.token_id(i), i);
}

TEST(TopP, TailBeyondTheHistogramAndMaskedTokens) {
  // Token 2 sits 40 logits down, past the histogram's tracked range.
  SelectionScratch scratch;
  CandidateSet candidates;
  candidates.reset(std::vector<float>{0.0f, -kInf, -40.0f, -0.5f});
  apply_top_p(candidates, 0.999f, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{0, 3}));
  // Within the 1e-6 rounding allowance the far tail (e^-40) is not needed, nor ever the mask.
  candidates.reset(std::vector<float>{0.0f, -kInf, -40.0f, -0.5f});
  apply_top_p(candidates, 1.0f - 1e-7f, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{0, 3}));
  candidates.reset(std::vector<float>{-40.0f, -40.0f, 0.0f});
  apply_top_p(candidates, 0.999f, scratch);
  EXPECT_EQ(ids_of(candidates), (std::vector<int32_t>{2}));
}

// Reference: rank everything, then take the shortest prefix reaching top_p of the total, with
// the same exp as the sampler so that only summation order differs.
std::vector<int32_t> reference_top_p(const std::vector<float>& logits, float top_p) {
  std::vector<TokenLogit> ranked;
  for (size_t i = 0; i < logits.size(); ++i) ranked.push_back({int32_t(i), logits[i]});
  std::sort(ranked.begin(), ranked.end(), ranks_before);
  double mass = 0.0;
  for (const TokenLogit& t : ranked) mass += exp_nonpositive(t.logit - ranked[0].logit);
  std::vector<int32_t> kept;
  double cumulative = 0.0;
  for (const TokenLogit& t : ranked) {
    if (cumulative >= top_p * mass) break;
    cumulative += exp_nonpositive(t.logit - ranked[0].logit);
    kept.push_back(t.token_id);
  }
  return sorted(kept);
}

TEST(TopP, MatchesAFullSortReference) {
  SelectionScratch scratch;
  for (uint64_t seed : {1u, 2u, 3u}) {
    for (float scale : {0.5f, 12.0f, 200.0f}) {  // flat, typical, and a few-token peak
      const std::vector<float> logits = random_logits(5000, seed, scale);
      for (float top_p : {0.05f, 0.5f, 0.9f, 0.99f}) {
        CandidateSet candidates;
        candidates.reset(logits);
        apply_top_p(candidates, top_p, scratch);
        EXPECT_EQ(ids_of(candidates), reference_top_p(logits, top_p))
            << "seed=" << seed << " scale=" << scale << " top_p=" << top_p;
      }
    }
  }
}

TEST(MinP, KeepsTokensAtLeastMinPTimesTheBest) {
  const std::vector<float> logits = logits_of({0.5f, 0.2f, 0.05f, 0.25f});
  struct Case {
    float min_p;
    std::vector<int32_t> kept;
  };
  for (const Case& c : std::vector<Case>{{0.0f, {0, 1, 2, 3}},
                                         {0.05f, {0, 1, 2, 3}},
                                         {0.3f, {0, 1, 3}},
                                         {0.45f, {0, 3}},
                                         {0.6f, {0}},
                                         {1.0f, {0}}}) {
    CandidateSet candidates;
    candidates.reset(logits);
    apply_min_p(candidates, c.min_p);
    EXPECT_EQ(ids_of(candidates), c.kept) << "min_p=" << c.min_p;
  }
  CandidateSet ties;
  ties.reset(std::vector<float>{2.0f, 1.0f, 2.0f});
  apply_min_p(ties, 1.0f);
  EXPECT_EQ(ids_of(ties), (std::vector<int32_t>{0, 2}));
}

TEST(SampleCandidate, MapsTheDrawOntoCumulativeIntervals) {
  // Probabilities 0.25, 0, 0.25, 0.5 (token 1 masked).
  CandidateSet candidates;
  candidates.reset(std::vector<float>{0.0f, -kInf, 0.0f, std::log(2.0f)});
  SelectionScratch scratch;
  EXPECT_EQ(sample_candidate(candidates, 0.0, scratch), 0);
  EXPECT_EQ(sample_candidate(candidates, 0.2499, scratch), 0);
  EXPECT_EQ(sample_candidate(candidates, 0.25, scratch), 2);
  EXPECT_EQ(sample_candidate(candidates, 0.4999, scratch), 2);
  EXPECT_EQ(sample_candidate(candidates, 0.5, scratch), 3);
  EXPECT_EQ(sample_candidate(candidates, 1.0 - 0x1.0p-53, scratch), 3);
}

TEST(SampleCandidate, NeverPicksAMaskedTokenAtTheEnds) {
  CandidateSet candidates;
  candidates.reset(std::vector<float>{-kInf, 1.0f, -kInf});
  SelectionScratch scratch;
  EXPECT_EQ(sample_candidate(candidates, 0.0, scratch), 1);
  EXPECT_EQ(sample_candidate(candidates, 1.0 - 0x1.0p-53, scratch), 1);
  candidates.reset(std::vector<float>{-kInf, -kInf});
  EXPECT_THROW(sample_candidate(candidates, 0.5, scratch), Error);
}

TEST(SampleCandidate, BlockedSearchAgreesWithARunningSum) {
  // 1000 candidates span 16 blocks, some of them fully masked.
  std::vector<float> logits = random_logits(1000, 9, 3.0f);
  for (size_t i = 128; i < 320; ++i) logits[i] = -kInf;
  logits[999] = -kInf;
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> weights;
  double total = 0.0;
  for (float x : logits) total += weights.emplace_back(exp_nonpositive(x - max_logit));
  CandidateSet candidates;
  candidates.reset(logits);
  SelectionScratch scratch;
  int checked = 0;
  double cumulative = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (weights[i] == 0.0) continue;
    // A draw well inside token i's interval must pick token i.
    const double u = (cumulative + weights[i] / 2) / total;
    EXPECT_EQ(sample_candidate(candidates, u, scratch), int32_t(i));
    cumulative += weights[i];
    ++checked;
  }
  EXPECT_EQ(checked, 1000 - 192 - 1);
  EXPECT_EQ(sample_candidate(candidates, 1.0 - 0x1.0p-53, scratch), 998);
}

TEST(Logprobs, LogSumExpAndTopNSortedDescending) {
  const std::vector<float> logits = {1.0f, 3.0f, -kInf, 3.0f, 0.5f, 2.0f};
  double mass = 0.0;
  for (float x : logits) mass += std::exp(double(x));
  const float log_z = log_sum_exp(logits);
  EXPECT_NEAR(log_z, std::log(mass), 1e-6);
  const std::vector<TokenLogprob> top = top_logprobs(logits, 4, log_z);
  ASSERT_EQ(top.size(), 4u);
  const std::vector<int32_t> expected_ids = {1, 3, 5, 0};
  for (size_t i = 0; i < top.size(); ++i) {
    EXPECT_EQ(top[i].token_id, expected_ids[i]);
    EXPECT_FLOAT_EQ(top[i].logprob, logits[expected_ids[i]] - log_z);
    if (i > 0) {
      EXPECT_GE(top[i - 1].logprob, top[i].logprob);
    }
  }
  EXPECT_TRUE(top_logprobs(logits, 0, log_z).empty());
  EXPECT_EQ(top_logprobs(logits, 100, log_z).size(), logits.size());
  EXPECT_EQ(top_logprobs(logits, 100, log_z).back().token_id, 2);
}

TEST(Logprobs, LargeLogitsDoNotOverflow) {
  const std::vector<float> logits = {1000.0f, 1000.0f};
  EXPECT_NEAR(log_sum_exp(logits), 1000.0f + std::log(2.0f), 1e-3);
}

}  // namespace
}  // namespace pareto
