// The engine's central promise: a request gives exactly the same tokens whether it runs alone
// or in a batch of 64 with chunked prefill, prefix caching and preemption (recompute and swap).
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"

namespace pareto {
namespace {

struct InvarianceCase {
  std::string name;
  bool synthetic = false;  // the llama-135m-shaped model instead of stories260K
  int64_t block_size = 16;
  bool prefix_caching = true;
  int64_t token_budget = 2048;
  int64_t num_blocks = 512;  // small values force preemption
  PreemptionMode preemption = PreemptionMode::kRecompute;
  int64_t swap_blocks = 0;
  bool sampled = false;  // seeded sampling instead of greedy
  bool expect_preemption = false;
};

void check_invariance(const InvarianceCase& tc) {
  SCOPED_TRACE(tc.name);
  auto m =
      test::load_test_model(tc.synthetic ? test::synthetic_model_path() : test::stories_model());
  const int num_prompts = 64;
  const int max_tokens = tc.synthetic ? 12 : 24;
  const auto prompts =
      test::mixed_prompts(m.model->config().vocab_size, num_prompts, tc.synthetic ? 48 : 90, 1234);
  auto request = [&](size_t i) {
    GenerationRequest r;
    r.prompt_token_ids = prompts[i];
    r.stop.max_tokens = max_tokens;
    r.stop.ignore_eos = true;
    if (tc.sampled) {
      r.sampling.temperature = 0.9f;
      r.sampling.top_p = 0.95f;
      r.sampling.seed = 100 + i;
    } else {
      r.sampling.temperature = 0.0f;
    }
    return r;
  };

  EngineConfig c = test::config_with_blocks(*m.model, tc.num_blocks, tc.block_size);
  c.enable_prefix_caching = tc.prefix_caching;
  c.max_num_batched_tokens = tc.token_budget;
  c.preemption_mode = tc.preemption;
  c.swap_space = tc.swap_blocks * static_cast<int64_t>(KvArena::bytes_per_block(
                                      m.model->config(), tc.block_size, DType::F16));
  EngineCore core(*m.model, *m.tokenizer, c);

  // Requests arrive at random steps while others are running.
  std::mt19937_64 rng(99);
  std::map<int64_t, test::RequestResult> results;
  size_t next = 0;
  int64_t steps = 0;
  while (next < prompts.size() || core.has_unfinished()) {
    const size_t arrivals = next < prompts.size() ? rng() % 5 : 0;
    for (size_t a = 0; a < arrivals && next < prompts.size(); ++a, ++next)
      core.add_request(static_cast<int64_t>(next), request(next));
    test::collect(core.step(), results);
    core.kv_cache().check_consistency();
    ASSERT_LT(++steps, 100000) << "no progress";
  }
  EXPECT_TRUE(core.kv_cache().all_blocks_free());
  if (tc.expect_preemption) {
    EXPECT_GT(core.stats().num_preemptions, 0);
  }

  // Alone runs use block size 16 whatever the batched case uses: block layout must not matter
  // either. They depend only on (model, sampling), so they are computed once per pair (each
  // test below runs its cases in one process).
  static std::map<std::pair<bool, bool>, std::vector<test::RequestResult>> alone_runs;
  auto& alone_results = alone_runs[{tc.synthetic, tc.sampled}];
  if (alone_results.empty())
    for (size_t i = 0; i < prompts.size(); ++i)
      alone_results.push_back(test::run_alone(*m.model, *m.tokenizer, request(i)));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const test::RequestResult& alone = alone_results[i];
    const test::RequestResult& batched = results.at(static_cast<int64_t>(i));
    ASSERT_FALSE(batched.error) << *batched.error;
    ASSERT_EQ(batched.completions.size(), 1u);
    EXPECT_EQ(batched.completions[0].token_ids.size(), static_cast<size_t>(max_tokens));
    EXPECT_EQ(batched.completions[0].token_ids, alone.completions[0].token_ids)
        << "prompt " << i << " (" << prompts[i].size() << " tokens)";
    EXPECT_EQ(batched.completions[0].text, alone.completions[0].text);
  }
}

std::vector<InvarianceCase> cases() {
  std::vector<InvarianceCase> v;
  for (int64_t bs : {8, 16, 32})
    for (bool pc : {true, false})
      v.push_back(
          {"stories_bs" + std::to_string(bs) + (pc ? "_prefix" : "_noprefix"), false, bs, pc, 40});
  // Tiny caches: recompute and swap preemption (with and without prefix caching).
  v.push_back({"stories_preempt_recompute", false, 16, true, 64, 24, PreemptionMode::kRecompute, 0,
               false, true});
  v.push_back({"stories_preempt_recompute_noprefix", false, 8, false, 64, 40,
               PreemptionMode::kRecompute, 0, false, true});
  v.push_back(
      {"stories_preempt_swap", false, 16, true, 64, 24, PreemptionMode::kSwap, 64, false, true});
  v.push_back({"stories_preempt_swap_noprefix", false, 32, false, 48, 14, PreemptionMode::kSwap, 64,
               false, true});
  v.push_back(
      {"stories_sampled", false, 16, true, 40, 24, PreemptionMode::kRecompute, 0, true, true});
  v.push_back({"synthetic_bs16", true, 16, true, 32});
  v.push_back(
      {"synthetic_preempt_swap", true, 8, true, 32, 30, PreemptionMode::kSwap, 64, false, true});
  v.push_back({"synthetic_sampled_noprefix", true, 32, false, 24, 512, PreemptionMode::kRecompute,
               0, true});
  return v;
}

TEST(BatchInvariance, StoriesGreedyChunkedPrefillPrefixCachingBlockSizes) {
  for (const auto& tc : cases())
    if (!tc.synthetic && !tc.sampled && !tc.expect_preemption) check_invariance(tc);
}

TEST(BatchInvariance, StoriesGreedyPreemptionByRecomputeAndSwap) {
  for (const auto& tc : cases())
    if (!tc.synthetic && !tc.sampled && tc.expect_preemption) check_invariance(tc);
}

TEST(BatchInvariance, StoriesSeededSampling) {
  for (const auto& tc : cases())
    if (!tc.synthetic && tc.sampled) check_invariance(tc);
}

TEST(BatchInvariance, SyntheticModel) {
  for (const auto& tc : cases())
    if (tc.synthetic) check_invariance(tc);
}

}  // namespace
}  // namespace pareto
