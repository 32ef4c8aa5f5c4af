#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "base/error.h"

namespace pareto {
namespace {

std::vector<int32_t> iota_tokens(int64_t n, int32_t first = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

Sequence make_seq(int64_t seq_id, std::vector<int32_t> prompt, int32_t priority = 0) {
  Sequence s;
  s.seq_id = seq_id;
  s.priority = priority;
  s.num_prompt_tokens = static_cast<int64_t>(prompt.size());
  s.token_ids = std::move(prompt);
  return s;
}

KvCacheConfig kv_config(int64_t num_blocks, int64_t block_size, int64_t num_host_blocks = 0) {
  KvCacheConfig c;
  c.num_blocks = num_blocks;
  c.block_size = block_size;
  c.num_host_blocks = num_host_blocks;
  return c;
}

SchedulerConfig sched_config(int64_t budget, int64_t max_seqs = 256) {
  SchedulerConfig c;
  c.max_num_batched_tokens = budget;
  c.max_num_seqs = max_seqs;
  return c;
}

const ScheduledSequence* find_in(const SchedulerOutput& out, int64_t seq_id) {
  for (const auto& s : out.sequences) {
    if (s.seq_id == seq_id) return &s;
  }
  return nullptr;
}

// Appends a token to every sequence that sampled, as the engine does.
void sample_all(Scheduler& sched, const SchedulerOutput& out, int32_t token = 1) {
  for (const auto& s : out.sequences) {
    if (s.sample) sched.append_token(s.seq_id, token);
  }
}

TEST(Scheduler, RejectsBadConfigAndSequences) {
  KvCacheManager kv(kv_config(4, 4));
  EXPECT_THROW(Scheduler(sched_config(0), kv), Error);
  EXPECT_THROW(Scheduler(sched_config(8, 0), kv), Error);
  Scheduler sched(sched_config(8), kv);
  EXPECT_THROW(sched.add_sequence(make_seq(1, {})), Error);
  sched.add_sequence(make_seq(1, {5}));
  EXPECT_THROW(sched.add_sequence(make_seq(1, {5})), Error);
  EXPECT_THROW(sched.add_sequence(make_seq(2, iota_tokens(17))), Error);  // > 16 slots
}

TEST(Scheduler, AdmissionErrors) {
  KvCacheManager kv(kv_config(4, 4));  // 16 token slots
  SchedulerConfig c = sched_config(8);
  c.max_model_len = 12;
  Scheduler sched(c, kv);
  EXPECT_FALSE(sched.admission_error(12, 12).has_value());
  EXPECT_TRUE(sched.admission_error(13, 13).has_value());  // prompt past the context
  EXPECT_TRUE(sched.admission_error(5, 13).has_value());   // output would pass it
  c.max_model_len = 0;
  Scheduler unlimited(c, kv);
  EXPECT_FALSE(unlimited.admission_error(16, 17).has_value());  // the 17th token is not stored
  EXPECT_TRUE(unlimited.admission_error(16, 18).has_value());   // more than the whole cache
  EXPECT_TRUE(unlimited.admission_error(17, 17).has_value());
}

TEST(Scheduler, ChunkedPrefillRespectsTheBudgetExactly) {
  KvCacheManager kv(kv_config(16, 4));
  Scheduler sched(sched_config(8), kv);
  sched.add_sequence(make_seq(1, iota_tokens(20)));
  sched.add_sequence(make_seq(2, iota_tokens(5, 900)));

  SchedulerOutput out = sched.schedule();  // A 0..7; no budget left for B
  ASSERT_EQ(out.sequences.size(), 1u);
  EXPECT_EQ(out.sequences[0].start_pos, 0);
  EXPECT_EQ(out.sequences[0].token_ids.size(), 8u);
  EXPECT_EQ(out.sequences[0].block_table.size(), 2u);
  EXPECT_FALSE(out.sequences[0].sample);
  EXPECT_EQ(out.num_batched_tokens, 8);
  EXPECT_EQ(sched.find(2)->status, SequenceStatus::kWaiting);

  out = sched.schedule();  // A 8..15
  ASSERT_EQ(out.sequences.size(), 1u);
  EXPECT_EQ(out.sequences[0].start_pos, 8);
  EXPECT_EQ(out.num_batched_tokens, 8);

  out = sched.schedule();  // A 16..19 (samples), B 0..3
  ASSERT_EQ(out.sequences.size(), 2u);
  EXPECT_EQ(out.sequences[0].seq_id, 1);
  EXPECT_EQ(out.sequences[0].token_ids.size(), 4u);
  EXPECT_TRUE(out.sequences[0].sample);
  EXPECT_EQ(out.sequences[1].seq_id, 2);
  EXPECT_EQ(out.sequences[1].token_ids, iota_tokens(4, 900));
  EXPECT_FALSE(out.sequences[1].sample);
  EXPECT_EQ(out.num_batched_tokens, 8);
  sample_all(sched, out);

  out = sched.schedule();  // decode A first, then B's last prompt token
  ASSERT_EQ(out.sequences.size(), 2u);
  EXPECT_EQ(out.sequences[0].seq_id, 1);
  EXPECT_EQ(out.sequences[0].start_pos, 20);
  EXPECT_EQ(out.sequences[0].token_ids, std::vector<int32_t>{1});
  EXPECT_EQ(out.sequences[1].seq_id, 2);
  EXPECT_EQ(out.sequences[1].start_pos, 4);
  EXPECT_TRUE(out.sequences[1].sample);
  EXPECT_EQ(out.num_batched_tokens, 2);
  kv.check_consistency();
}

TEST(Scheduler, DecodesGoBeforePrefillsAndAreNeverSplit) {
  KvCacheManager kv(kv_config(16, 4));
  Scheduler sched(sched_config(3), kv);
  sched.add_sequence(make_seq(1, iota_tokens(2)));
  SchedulerOutput out = sched.schedule();
  sample_all(sched, out);
  sched.add_sequence(make_seq(2, iota_tokens(9, 500)));
  out = sched.schedule();
  ASSERT_EQ(out.sequences.size(), 2u);
  EXPECT_EQ(out.sequences[0].seq_id, 1);
  EXPECT_EQ(out.sequences[0].token_ids.size(), 1u);
  EXPECT_EQ(out.sequences[1].seq_id, 2);
  EXPECT_EQ(out.sequences[1].token_ids.size(), 2u);
  EXPECT_EQ(out.num_batched_tokens, 3);
}

TEST(Scheduler, SecondSequenceRunsOnlyTheTokensAfterACachedThreeBlockPrefix) {
  KvCacheManager kv(kv_config(16, 4));
  Scheduler sched(sched_config(64), kv);
  const auto prefix = iota_tokens(12);
  auto a = prefix;
  a.push_back(7);
  sched.add_sequence(make_seq(1, a));
  SchedulerOutput out = sched.schedule();
  EXPECT_EQ(out.num_batched_tokens, 13);
  EXPECT_EQ(out.num_cached_tokens, 0);
  sample_all(sched, out);

  auto b = prefix;
  b.insert(b.end(), {40, 41, 42});
  sched.add_sequence(make_seq(2, b));
  out = sched.schedule();  // A's decode registers its full blocks before B looks them up
  const ScheduledSequence* sb = find_in(out, 2);
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->start_pos, 12);
  EXPECT_EQ(sb->token_ids, (std::vector<int32_t>{40, 41, 42}));
  EXPECT_TRUE(sb->sample);
  EXPECT_EQ(out.num_cached_tokens, 12);
  EXPECT_EQ(out.num_batched_tokens, 1 + 3);  // A's decode + B's new tokens
  EXPECT_EQ(sched.find(2)->num_cached_tokens, 12);
  const ScheduledSequence* sa = find_in(out, 1);
  ASSERT_NE(sa, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sb->block_table[i], sa->block_table[i]);
  EXPECT_EQ(kv.stats().prefix_hit_tokens, 12);
  EXPECT_EQ(kv.stats().prefix_query_tokens, 13 + 15);

  // After A finishes its blocks stay cached for a third sequence.
  sched.finish_sequence(1);
  sched.finish_sequence(2);
  EXPECT_TRUE(kv.all_blocks_free());
  sched.add_sequence(make_seq(3, b));
  out = sched.schedule();
  EXPECT_EQ(out.num_cached_tokens, 12);
  EXPECT_EQ(out.num_batched_tokens, 3);
  kv.check_consistency();
}

TEST(Scheduler, ForkedSequencesCopyTheSharedPartialBlockOnWrite) {
  KvCacheManager kv(kv_config(16, 4));
  Scheduler sched(sched_config(64), kv);
  sched.add_sequence(make_seq(1, iota_tokens(6)));
  SchedulerOutput out = sched.schedule();
  ASSERT_TRUE(out.sequences[0].sample);
  EXPECT_THROW(sched.fork_sequence(5, 6), Error);
  sched.fork_sequence(1, 2);
  EXPECT_EQ(sched.find(2)->num_computed_tokens, 6);
  EXPECT_EQ(sched.stats().num_running, 2);
  sched.append_token(1, 11);
  sched.append_token(2, 22);
  out = sched.schedule();
  ASSERT_EQ(out.sequences.size(), 2u);
  ASSERT_EQ(out.copies.size(), 1u);
  const auto& t1 = find_in(out, 1)->block_table;
  const auto& t2 = find_in(out, 2)->block_table;
  EXPECT_EQ(t1[0], t2[0]);  // the full block stays shared
  EXPECT_NE(t1[1], t2[1]);
  // One of the two got a fresh copy of the other's block.
  EXPECT_TRUE((out.copies[0].src_block_id == t2[1] && out.copies[0].dst_block_id == t1[1]) ||
              (out.copies[0].src_block_id == t1[1] && out.copies[0].dst_block_id == t2[1]));
  EXPECT_EQ(sched.stats().num_kv_tokens, 14);
  EXPECT_EQ(sched.stats().num_kv_slots, 16);
  kv.check_consistency();
  sched.finish_sequence(2);
  sched.finish_sequence(1);
  EXPECT_TRUE(kv.all_blocks_free());
}

TEST(Scheduler, MoreImportantArrivalIsAdmittedFirst) {
  KvCacheManager kv(kv_config(16, 4));
  Scheduler sched(sched_config(64, 1), kv);
  sched.add_sequence(make_seq(1, iota_tokens(3), 5));
  sched.add_sequence(make_seq(2, iota_tokens(3), 5));
  sched.add_sequence(make_seq(3, iota_tokens(3), 0));
  SchedulerOutput out = sched.schedule();
  ASSERT_EQ(out.sequences.size(), 1u);
  EXPECT_EQ(out.sequences[0].seq_id, 3);
  sched.finish_sequence(3);
  out = sched.schedule();
  ASSERT_EQ(out.sequences.size(), 1u);
  EXPECT_EQ(out.sequences[0].seq_id, 1);  // FCFS among equals
}

// Three one-block sequences in a four-block cache; the next decode of each needs a new block.
struct PreemptionFixture {
  explicit PreemptionFixture(PreemptionMode mode, int64_t host_blocks)
      : kv(kv_config(4, 2, host_blocks)), sched(make_config(mode), kv) {
    sched.add_sequence(make_seq(1, {1, 2}, 0));
    sched.add_sequence(make_seq(2, {3, 4}, 1));
    sched.add_sequence(make_seq(3, {5, 6}, 1));
    SchedulerOutput out = sched.schedule();
    EXPECT_EQ(out.sequences.size(), 3u);
    sample_all(sched, out);
  }
  static SchedulerConfig make_config(PreemptionMode mode) {
    SchedulerConfig c = sched_config(64);
    c.preemption_mode = mode;
    return c;
  }
  KvCacheManager kv;
  Scheduler sched;
};

TEST(Scheduler, RecomputePreemptsTheLeastImportantLatestSequence) {
  PreemptionFixture f(PreemptionMode::kRecompute, 0);
  SchedulerOutput out = f.sched.schedule();
  EXPECT_EQ(out.preempted_seq_ids, std::vector<int64_t>{3});
  ASSERT_EQ(out.sequences.size(), 2u);
  EXPECT_EQ(out.sequences[0].seq_id, 1);
  EXPECT_EQ(out.sequences[1].seq_id, 2);
  const Sequence* s3 = f.sched.find(3);
  EXPECT_EQ(s3->status, SequenceStatus::kWaiting);
  EXPECT_EQ(s3->num_computed_tokens, 0);
  EXPECT_EQ(s3->num_preemptions, 1);
  EXPECT_EQ(s3->num_tokens(), 3);  // keeps its sampled token and recomputes all three
  EXPECT_EQ(f.sched.stats().num_preemptions, 1);
  EXPECT_TRUE(out.swap_out.empty());
  f.kv.check_consistency();

  // Once 1 finishes, 3 comes back and recomputes its prompt and sampled token.
  f.sched.finish_sequence(1);
  out = f.sched.schedule();
  const ScheduledSequence* s = find_in(out, 3);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->start_pos, 0);  // its cached block went to 2 when it was preempted
  EXPECT_EQ(s->token_ids.size(), 3u);
  EXPECT_TRUE(s->sample);
  f.kv.check_consistency();
}

TEST(Scheduler, SwapPreemptsToHostAndBringsBack) {
  PreemptionFixture f(PreemptionMode::kSwap, 4);
  SchedulerOutput out = f.sched.schedule();
  EXPECT_EQ(out.preempted_seq_ids, std::vector<int64_t>{3});
  ASSERT_EQ(out.swap_out.size(), 1u);
  EXPECT_EQ(f.sched.find(3)->status, SequenceStatus::kSwapped);
  EXPECT_EQ(f.sched.find(3)->num_computed_tokens, 2);
  EXPECT_EQ(f.sched.stats().num_swapped, 1);
  f.kv.check_consistency();
  sample_all(f.sched, out);
  f.sched.finish_sequence(1);
  out = f.sched.schedule();
  const ScheduledSequence* s = find_in(out, 3);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->start_pos, 2);  // resumes: only its sampled token runs
  EXPECT_EQ(s->token_ids.size(), 1u);
  // Its full block came back from the prefix cache or from the host copy.
  EXPECT_LE(out.swap_in.size(), 1u);
  EXPECT_EQ(f.kv.stats().num_free_host_blocks, 4);
  f.kv.check_consistency();
}

TEST(Scheduler, SwapFallsBackToRecomputeWithoutHostRoom) {
  PreemptionFixture f(PreemptionMode::kSwap, 0);
  SchedulerOutput out = f.sched.schedule();
  EXPECT_EQ(out.preempted_seq_ids, std::vector<int64_t>{3});
  EXPECT_TRUE(out.swap_out.empty());
  EXPECT_EQ(f.sched.find(3)->status, SequenceStatus::kWaiting);
}

TEST(Scheduler, AbortInEveryStateFreesEveryBlock) {
  for (int state = 0; state < 4; ++state) {
    SCOPED_TRACE(state);
    PreemptionFixture f(PreemptionMode::kSwap, 4);
    f.sched.add_sequence(make_seq(4, iota_tokens(8), 2));  // waiting (no room)
    SchedulerOutput out = f.sched.schedule();              // 3 swapped out
    ASSERT_EQ(f.sched.find(3)->status, SequenceStatus::kSwapped);
    ASSERT_EQ(f.sched.find(4)->status, SequenceStatus::kWaiting);
    sample_all(f.sched, out);
    const int64_t victim = std::vector<int64_t>{1, 2, 3, 4}[state];
    f.sched.finish_sequence(victim);
    f.sched.finish_sequence(victim);  // unknown now: ignored
    f.kv.check_consistency();
    for (int64_t id : {1, 2, 3, 4}) f.sched.finish_sequence(id);
    EXPECT_FALSE(f.sched.has_unfinished());
    EXPECT_TRUE(f.kv.all_blocks_free());
    f.kv.check_consistency();
  }
}

TEST(Scheduler, AbortMidPrefillFreesEveryBlock) {
  KvCacheManager kv(kv_config(8, 4));
  Scheduler sched(sched_config(5), kv);
  sched.add_sequence(make_seq(1, iota_tokens(20)));
  sched.schedule();
  sched.schedule();
  EXPECT_EQ(sched.find(1)->num_computed_tokens, 10);
  sched.finish_sequence(1);
  EXPECT_TRUE(kv.all_blocks_free());
  EXPECT_EQ(kv.stats().num_cached_blocks, 2);  // its computed full blocks stay cached
  kv.check_consistency();
}

TEST(Scheduler, ALoneSequenceFillingTheWholeCacheProgresses) {
  KvCacheManager kv(kv_config(4, 4));
  Scheduler sched(sched_config(3), kv);
  ASSERT_FALSE(sched.admission_error(10, 17).has_value());
  sched.add_sequence(make_seq(1, iota_tokens(10)));
  int64_t steps = 0;
  while (sched.find(1)->num_tokens() < 17) {
    ASSERT_LT(++steps, 100);
    SchedulerOutput out = sched.schedule();
    ASSERT_EQ(out.sequences.size(), 1u);
    EXPECT_TRUE(out.preempted_seq_ids.empty());
    sample_all(sched, out);
  }
  EXPECT_EQ(kv.stats().num_free_blocks, 0);
  sched.finish_sequence(1);
  EXPECT_TRUE(kv.all_blocks_free());
}

}  // namespace
}  // namespace pareto
