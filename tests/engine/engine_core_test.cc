// EngineCore behaviour: reference output through the engine, prefix caching, admission,
// aborts, parallel sampling (n > 1, copy-on-write), stop strings, block accounting.
#include "engine/engine_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "engine/engine_test_util.h"

namespace pareto {
namespace {

GenerationRequest greedy_request(std::vector<int32_t> prompt, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt_token_ids = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.stop.max_tokens = max_tokens;
  r.stop.ignore_eos = true;
  return r;
}

std::vector<int32_t> random_tokens(int n, uint64_t seed, int32_t vocab = 512) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(3 + static_cast<int32_t>(rng() % (vocab - 3)));
  return v;
}

// One output as text, to compare outputs whole.
std::string describe(const RequestOutput& out) {
  std::ostringstream s;
  s << "request " << out.request_id << (out.finished ? " finished" : "");
  if (out.error) s << " error: " << *out.error;
  for (const CompletionDelta& d : out.completions) {
    s << " | " << d.index << ":";
    for (int32_t t : d.token_ids) s << " " << t;
    s << " '" << d.text << "'";
    if (d.finish_reason) s << " " << finish_reason_name(*d.finish_reason);
  }
  return s.str();
}

TEST(EngineCore, StepWithASinkHandsOverTheSameOutputsAsTheyComplete) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  EngineCore plain(*m.model, *m.tokenizer, c), sunk(*m.model, *m.tokenizer, c);
  for (EngineCore* core : {&plain, &sunk}) {
    for (int64_t i = 0; i < 5; ++i)
      core->add_request(
          i, greedy_request(random_tokens(9 + 4 * static_cast<int>(i), 30 + i), 5 + 3 * i));
    GenerationRequest sampled = greedy_request(random_tokens(21, 40), 9);
    sampled.n = 3;  // one output for three sequences
    sampled.sampling.temperature = 1.0f;
    sampled.sampling.seed = 7;
    core->add_request(5, sampled);
    core->add_request(6, greedy_request(random_tokens(600, 41), 4));  // rejected: too long
  }
  for (int step = 0; step < 100 && (plain.has_unfinished() || sunk.has_unfinished()); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    if (step == 3) {
      plain.abort_request(4);
      sunk.abort_request(4);
    }
    std::vector<std::string> expected, got, returned;
    for (const RequestOutput& out : plain.step()) expected.push_back(describe(out));
    std::vector<int64_t> sunk_ids;
    for (const RequestOutput& out : sunk.step([&](RequestOutput&& out) {
           sunk_ids.push_back(out.request_id);
           got.push_back(describe(out));
         })) {
      // Only what no batch sequence produced comes back: rejections and aborts.
      EXPECT_TRUE(out.error || (!out.completions.empty() &&
                                out.completions[0].finish_reason == FinishReason::kAbort))
          << describe(out);
      returned.push_back(describe(out));
    }
    // Each request at most once a step, and nothing lost or changed.
    std::set<int64_t> distinct(sunk_ids.begin(), sunk_ids.end());
    EXPECT_EQ(distinct.size(), sunk_ids.size());
    got.insert(got.begin(), returned.begin(), returned.end());
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected);
  }
  EXPECT_FALSE(sunk.has_unfinished());
  EXPECT_EQ(sunk.stats().num_requests_finished, plain.stats().num_requests_finished);
  EXPECT_EQ(sunk.stats().num_requests_finished, 7);
  EXPECT_TRUE(sunk.kv_cache().all_blocks_free());
}

TEST(EngineCore, GreedyMatchesReferenceWithF32Kv) {
  auto m = test::load_test_model(test::stories_model());
  for (const char* name : {"case1.json", "case2.json", "case3.json", "case4.json"}) {
    std::ifstream in(test::reference_dir() + "/stories260K/" + name);
    if (!in) continue;
    const auto ref = nlohmann::json::parse(in);
    if (!ref.contains("greedy_tokens")) continue;
    SCOPED_TRACE(name);
    const auto expected = ref["greedy_tokens"].get<std::vector<int32_t>>();
    EngineConfig c = test::config_with_blocks(*m.model, 64, 16, DType::F32);
    EngineCore core(*m.model, *m.tokenizer, c);
    core.add_request(0, greedy_request(ref["prompt_tokens"].get<std::vector<int32_t>>(),
                                       static_cast<int64_t>(expected.size())));
    std::map<int64_t, test::RequestResult> results;
    test::run_to_completion(core, results);
    EXPECT_EQ(results.at(0).completions.at(0).token_ids, expected);
    if (ref.contains("greedy_text")) {
      EXPECT_EQ(results.at(0).completions[0].text, ref["greedy_text"].get<std::string>());
    }
  }
}

TEST(EngineCore, SharedPrefixComputesOnlyNewTokens) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  EngineCore core(*m.model, *m.tokenizer, c);
  const std::vector<int32_t> prefix = random_tokens(48, 1);  // exactly 3 blocks
  std::vector<int32_t> a = prefix, b = prefix;
  for (int32_t t : random_tokens(7, 2)) a.push_back(t);
  for (int32_t t : random_tokens(5, 3)) b.push_back(t);
  const int64_t max_tokens = 6;

  core.add_request(0, greedy_request(a, max_tokens));
  std::map<int64_t, test::RequestResult> results;
  test::run_to_completion(core, results);
  const int64_t before = core.stats().num_computed_tokens;
  EXPECT_EQ(before, 55 + max_tokens - 1);

  core.add_request(1, greedy_request(b, max_tokens));
  test::run_to_completion(core, results);
  // Only the 5 new prompt tokens and the decodes run; the 3 shared blocks come from the cache.
  EXPECT_EQ(core.stats().num_computed_tokens - before, 5 + max_tokens - 1);
  EXPECT_EQ(results.at(1).num_cached_tokens, 48);
  EXPECT_GE(core.stats().prefix_hit_tokens, 48);

  const test::RequestResult alone =
      test::run_alone(*m.model, *m.tokenizer, greedy_request(b, max_tokens));
  EXPECT_EQ(results.at(1).completions[0].token_ids, alone.completions[0].token_ids);
  EXPECT_TRUE(core.kv_cache().all_blocks_free());
}

TEST(EngineCore, NoPrefixCachingRecomputesEverything) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  c.enable_prefix_caching = false;
  EngineCore core(*m.model, *m.tokenizer, c);
  const std::vector<int32_t> p = random_tokens(50, 4);
  std::map<int64_t, test::RequestResult> results;
  core.add_request(0, greedy_request(p, 4));
  test::run_to_completion(core, results);
  core.add_request(1, greedy_request(p, 4));
  test::run_to_completion(core, results);
  EXPECT_EQ(core.stats().num_computed_tokens, 2 * (50 + 3));
  EXPECT_EQ(results.at(1).num_cached_tokens, 0);
  EXPECT_EQ(results.at(0).completions[0].token_ids, results.at(1).completions[0].token_ids);
}

TEST(EngineCore, OverlongPromptIsRejectedWhileOthersComplete) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 8, 16);  // 128 tokens in all
  EngineCore core(*m.model, *m.tokenizer, c);
  core.add_request(0, greedy_request(random_tokens(20, 5), 8));
  core.add_request(1, greedy_request(random_tokens(200, 6), 8));  // more than the whole cache
  core.add_request(2, greedy_request(random_tokens(600, 7), 8));  // more than the context
  core.add_request(3, greedy_request(random_tokens(30, 8), 8));
  GenerationRequest bad = greedy_request({1, 9999}, 4);  // token outside the vocabulary
  core.add_request(4, bad);
  std::map<int64_t, test::RequestResult> results;
  test::run_to_completion(core, results);
  for (int64_t id : {1, 2, 4}) {
    ASSERT_TRUE(results.at(id).error) << id;
    EXPECT_TRUE(results.at(id).finished);
  }
  EXPECT_NE(results.at(2).error->find("600"), std::string::npos) << *results.at(2).error;
  for (int64_t id : {0, 3}) {
    EXPECT_FALSE(results.at(id).error);
    EXPECT_EQ(results.at(id).completions[0].token_ids.size(), 8u);
  }
  EXPECT_TRUE(core.kv_cache().all_blocks_free());
  EXPECT_EQ(core.stats().num_requests_rejected, 3);
}

TEST(EngineCore, AbortMidPrefillAndMidDecodeFreesEveryBlock) {
  auto m = test::load_test_model(test::stories_model());
  for (bool prefix : {true, false}) {
    EngineConfig c = test::config_with_blocks(*m.model, 40, 8);
    c.enable_prefix_caching = prefix;
    c.max_num_batched_tokens = 16;  // long prompts take several steps
    c.preemption_mode = PreemptionMode::kSwap;
    c.swap_space =
        16 * static_cast<int64_t>(KvArena::bytes_per_block(m.model->config(), 8, DType::F16));
    EngineCore core(*m.model, *m.tokenizer, c);
    std::map<int64_t, test::RequestResult> results;
    for (int64_t i = 0; i < 12; ++i)
      core.add_request(i, greedy_request(random_tokens(20 + 7 * static_cast<int>(i), 10 + i), 30));
    for (int step = 0; step < 6; ++step) test::collect(core.step(), results);
    core.abort_request(11);  // still waiting or mid-prefill
    core.abort_request(0);   // decoding
    for (int step = 0; step < 5; ++step) test::collect(core.step(), results);
    core.abort_request(5);
    core.abort_request(5);   // twice: ignored
    core.abort_request(77);  // unknown: ignored
    test::run_to_completion(core, results);
    for (int64_t id : {0, 5, 11}) {
      EXPECT_TRUE(results.at(id).finished);
      EXPECT_EQ(results.at(id).completions.at(0).finish_reason, FinishReason::kAbort);
    }
    for (int64_t id : {1, 2, 3}) EXPECT_EQ(results.at(id).completions[0].token_ids.size(), 30u);
    EXPECT_TRUE(core.kv_cache().all_blocks_free());
    core.kv_cache().check_consistency();
  }
}

TEST(EngineCore, ParallelSamplingSharesThePromptAndMatchesSeparateSeeds) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  EngineCore core(*m.model, *m.tokenizer, c);
  GenerationRequest r;
  r.prompt_token_ids = random_tokens(37, 20);  // 2 full blocks and a shared partial one
  r.n = 4;
  r.sampling.temperature = 1.0f;
  r.sampling.seed = 500;
  r.stop.max_tokens = 20;
  r.stop.ignore_eos = true;
  core.add_request(0, r);
  std::map<int64_t, test::RequestResult> results;
  test::run_to_completion(core, results);
  // The prompt ran once; each completion then decoded on its own (copy-on-write of the shared
  // partial block when they first append).
  EXPECT_EQ(core.stats().num_computed_tokens, 37 + 4 * 19);
  ASSERT_EQ(results.at(0).completions.size(), 4u);
  for (int32_t i = 0; i < 4; ++i) {
    GenerationRequest single = r;
    single.n = 1;
    single.sampling.seed = 500 + i;
    const auto alone = test::run_alone(*m.model, *m.tokenizer, single);
    EXPECT_EQ(results.at(0).completions[static_cast<size_t>(i)].token_ids,
              alone.completions[0].token_ids)
        << "completion " << i;
  }
  EXPECT_NE(results.at(0).completions[0].token_ids, results.at(0).completions[1].token_ids);
  EXPECT_TRUE(core.kv_cache().all_blocks_free());
}

TEST(EngineCore, StopStringsAndMaxTokens) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  EngineCore core(*m.model, *m.tokenizer, c);
  GenerationRequest full;
  full.prompt_text = "Once upon a time";
  full.sampling.temperature = 0.0f;
  full.stop.max_tokens = 60;
  GenerationRequest stopped = full;
  stopped.stop.stop = {"little girl"};
  GenerationRequest zero = full;
  zero.stop.max_tokens = 0;
  core.add_request(0, full);
  core.add_request(1, stopped);
  core.add_request(2, zero);
  std::map<int64_t, test::RequestResult> results;
  test::run_to_completion(core, results);
  const std::string& text = results.at(0).completions[0].text;
  const size_t at = text.find("little girl");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(results.at(1).completions[0].text, text.substr(0, at));
  EXPECT_EQ(results.at(1).completions[0].finish_reason, FinishReason::kStop);
  EXPECT_EQ(results.at(0).completions[0].finish_reason, FinishReason::kLength);
  EXPECT_TRUE(results.at(2).finished);
  EXPECT_TRUE(results.at(2).completions.at(0).token_ids.empty());
  EXPECT_TRUE(core.kv_cache().all_blocks_free());
}

// Before min_tokens, stop tokens and EOS are masked out of sampling: the greedy first token,
// made a stop token, stops at once without min_tokens and is never sampled with it.
TEST(EngineCore, MinTokensMasksStopTokens) {
  auto m = test::load_test_model(test::stories_model());
  GenerationRequest base;
  base.prompt_text = "Once upon a time";
  base.sampling.temperature = 0.0f;
  base.stop.max_tokens = 8;
  const int32_t first = test::run_alone(*m.model, *m.tokenizer, base).completions[0].token_ids[0];
  GenerationRequest stop_now = base;
  stop_now.stop.stop_token_ids = {first};
  const auto a = test::run_alone(*m.model, *m.tokenizer, stop_now).completions[0];
  EXPECT_EQ(a.token_ids, std::vector<int32_t>{first});
  EXPECT_EQ(a.finish_reason, FinishReason::kStop);
  GenerationRequest masked = stop_now;
  masked.stop.min_tokens = 4;
  const auto b = test::run_alone(*m.model, *m.tokenizer, masked).completions[0];
  ASSERT_GE(b.token_ids.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NE(b.token_ids[i], first) << i;
    EXPECT_FALSE(m.tokenizer->is_eog(b.token_ids[i])) << i;
  }
}

TEST(EngineCore, ContextLimitFinishesWithLength) {
  auto m = test::load_test_model(test::stories_model());
  EngineConfig c = test::config_with_blocks(*m.model, 64, 16);
  c.max_model_len = 40;
  EngineCore core(*m.model, *m.tokenizer, c);
  core.add_request(0, greedy_request(random_tokens(30, 30), 100));
  // "As many as fit": no overflow in the admission arithmetic.
  core.add_request(1, greedy_request(random_tokens(12, 31), std::numeric_limits<int64_t>::max()));
  std::map<int64_t, test::RequestResult> results;
  test::run_to_completion(core, results);
  EXPECT_EQ(results.at(0).completions[0].token_ids.size(), 10u);
  EXPECT_EQ(results.at(0).completions[0].finish_reason, FinishReason::kLength);
  ASSERT_FALSE(results.at(1).error) << *results.at(1).error;
  EXPECT_EQ(results.at(1).completions[0].token_ids.size(), 28u);
}

}  // namespace
}  // namespace pareto
