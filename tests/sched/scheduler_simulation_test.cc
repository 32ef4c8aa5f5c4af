// A randomized simulation of the engine loop over the scheduler with a fake model and a fake KV
// arena: every slot stores a fingerprint of the whole prefix up to its position, so a block
// table that points at the wrong block (a bad prefix hit, a missed copy-on-write, a swap gone
// wrong, a block reused while still referenced) shows up as a wrong fingerprint when a later
// step reads it. Many seeds, tiny caches, recompute and swap.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "kv/kv_cache_manager.h"
#include "sched/scheduler.h"

namespace pareto {
namespace {

constexpr uint64_t kEmptySlot = ~0ull;

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}

// fp[p] identifies (cache_key, tokens[0..p]): what K/V at position p depends on.
std::vector<uint64_t> fingerprints(const Sequence& seq) {
  std::vector<uint64_t> fp(seq.token_ids.size());
  uint64_t h = mix(1, seq.cache_key);
  for (size_t p = 0; p < fp.size(); ++p)
    fp[p] = h = mix(h, static_cast<uint64_t>(seq.token_ids[p]));
  return fp;
}

struct SimConfig {
  uint32_t seed = 0;
  PreemptionMode mode = PreemptionMode::kRecompute;
};

struct Planned {
  Sequence seq;
  int64_t arrival_step = 0;
  int64_t max_tokens = 0;
  bool fork = false;
  int64_t child_max_tokens = 0;
};

class Simulation {
 public:
  explicit Simulation(const SimConfig& sim) : rng_(sim.seed) {
    KvCacheConfig kv_config;
    kv_config.block_size = pick({1, 2, 4, 16});
    kv_config.num_blocks = pick({2, 3, 5, 8, 16});
    if (kv_config.block_size == 1) kv_config.num_blocks *= 4;
    kv_config.num_host_blocks = sim.mode == PreemptionMode::kSwap ? pick({0, 2, 8, 64}) : 0;
    kv_config.enable_prefix_caching = uniform(0, 3) != 0;
    kv_ = std::make_unique<KvCacheManager>(kv_config);
    capacity_ = kv_config.num_blocks * kv_config.block_size;
    SchedulerConfig config;
    config.max_num_batched_tokens = pick({1, 2, 3, 7, 16, 64});
    config.max_num_seqs = pick({1, 2, 4, 256});
    config.max_model_len = uniform(0, 1) ? 0 : capacity_ + 1;
    config.preemption_mode = sim.mode;
    sched_ = std::make_unique<Scheduler>(config, *kv_);
    device_.assign(static_cast<size_t>(capacity_), kEmptySlot);
    host_.assign(static_cast<size_t>(kv_config.num_host_blocks * kv_config.block_size), kEmptySlot);
    plan_requests();
  }

  void run() {
    const int64_t max_steps = 20000;
    int64_t step = 0;
    for (; step < max_steps && (!pending_.empty() || sched_->has_unfinished()); ++step) {
      while (!pending_.empty() && pending_.begin()->first <= step) {
        auto node = pending_.extract(pending_.begin());
        add(std::move(node.mapped()));
      }
      SchedulerOutput out = sched_->schedule();
      if (out.sequences.empty() && pending_.empty() && sched_->has_unfinished()) {
        FAIL() << "no progress at step " << step << " with unfinished sequences (deadlock)";
      }
      execute(out);
      if (testing::Test::HasFatalFailure()) return;
      maybe_abort();
      kv_->check_consistency();
      check_states();
      if (testing::Test::HasFatalFailure()) return;
    }
    ASSERT_LT(step, max_steps) << "did not finish";
    EXPECT_TRUE(kv_->all_blocks_free());
    EXPECT_EQ(finished_, expected_finished_);
    EXPECT_GT(finished_, 0);
  }

  int64_t num_preemptions() const { return sched_->stats().num_preemptions; }

 private:
  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  int64_t pick(std::initializer_list<int64_t> values) {
    return *(values.begin() + uniform(0, static_cast<int64_t>(values.size()) - 1));
  }

  void plan_requests() {
    // A few base texts so that prompts share prefixes of various lengths.
    std::vector<std::vector<int32_t>> bases(3);
    for (auto& base : bases) {
      for (int64_t i = 0; i < capacity_; ++i) base.push_back(static_cast<int32_t>(uniform(0, 50)));
    }
    const int64_t num_seqs = uniform(4, 16);
    for (int64_t i = 0; i < num_seqs; ++i) {
      Planned p;
      p.seq.seq_id = i * 10;
      p.seq.priority = static_cast<int32_t>(uniform(0, 2));
      p.seq.cache_key = static_cast<uint64_t>(uniform(0, 1));
      const int64_t max_total = uniform(2, capacity_ + 1);
      const int64_t prompt_len = uniform(1, max_total - 1);
      const auto& base = bases[uniform(0, 2)];
      const int64_t shared = uniform(0, prompt_len);
      p.seq.token_ids.assign(base.begin(), base.begin() + shared);
      while (static_cast<int64_t>(p.seq.token_ids.size()) < prompt_len) {
        p.seq.token_ids.push_back(static_cast<int32_t>(uniform(0, 50)));
      }
      p.seq.num_prompt_tokens = prompt_len;
      p.max_tokens = max_total - prompt_len;
      p.fork = uniform(0, 4) == 0;
      p.child_max_tokens = uniform(1, p.max_tokens);
      EXPECT_FALSE(sched_->admission_error(prompt_len, max_total).has_value());
      expected_finished_ += p.fork ? 2 : 1;
      const int64_t arrival = uniform(0, 1) ? 0 : uniform(0, 40);
      pending_.emplace(arrival, std::move(p));
    }
  }

  void add(Planned p) {
    const int64_t id = p.seq.seq_id;
    max_tokens_[id] = p.max_tokens;
    if (p.fork) fork_plan_[id] = p.child_max_tokens;
    sched_->add_sequence(std::move(p.seq));
  }

  int64_t slot(const std::vector<int32_t>& table, int64_t pos) const {
    const int64_t bs = kv_->config().block_size;
    return table[pos / bs] * bs + pos % bs;
  }

  void execute(const SchedulerOutput& out) {
    const int64_t bs = kv_->config().block_size;
    // Block movements first, in the runner's order.
    for (const BlockSwap& s : out.swap_out) {
      for (int64_t i = 0; i < bs; ++i)
        host_[s.host_block_id * bs + i] = device_[s.device_block_id * bs + i];
    }
    for (const BlockSwap& s : out.swap_in) {
      for (int64_t i = 0; i < bs; ++i)
        device_[s.device_block_id * bs + i] = host_[s.host_block_id * bs + i];
    }
    for (const BlockCopy& c : out.copies) {
      for (int64_t i = 0; i < bs; ++i)
        device_[c.dst_block_id * bs + i] = device_[c.src_block_id * bs + i];
    }
    ASSERT_LE(out.num_batched_tokens, sched_->config().max_num_batched_tokens);
    ASSERT_LE(static_cast<int64_t>(out.sequences.size()), sched_->config().max_num_seqs);
    int64_t total = 0;
    std::map<int64_t, int64_t> writer;  // slot -> seq written this step
    // Every sequence reads its prefix before anyone writes (one forward pass).
    for (const ScheduledSequence& s : out.sequences) {
      const Sequence* seq = sched_->find(s.seq_id);
      ASSERT_NE(seq, nullptr);
      ASSERT_EQ(seq->status, SequenceStatus::kRunning);
      const int64_t end = s.start_pos + static_cast<int64_t>(s.token_ids.size());
      ASSERT_GE(s.token_ids.size(), 1u);
      ASSERT_EQ(seq->num_computed_tokens, end);
      ASSERT_EQ(static_cast<int64_t>(s.block_table.size()), kv_->blocks_for_tokens(end));
      ASSERT_EQ(s.sample, end == seq->num_tokens());
      const std::vector<uint64_t> fp = fingerprints(*seq);
      for (int64_t p = 0; p < s.start_pos; ++p) {
        ASSERT_EQ(device_[slot(s.block_table, p)], fp[p])
            << "seq " << s.seq_id << " reads wrong K/V at position " << p;
      }
      for (int64_t p = s.start_pos; p < end; ++p) {
        ASSERT_EQ(s.token_ids[p - s.start_pos], seq->token_ids[p]);
        auto [it, fresh] = writer.emplace(slot(s.block_table, p), s.seq_id);
        ASSERT_TRUE(fresh) << "two sequences write slot " << it->first;
      }
      total += end - s.start_pos;
    }
    ASSERT_EQ(total, out.num_batched_tokens);
    for (const ScheduledSequence& s : out.sequences) {
      const std::vector<uint64_t> fp = fingerprints(*sched_->find(s.seq_id));
      for (int64_t p = s.start_pos; p < s.start_pos + static_cast<int64_t>(s.token_ids.size());
           ++p) {
        device_[slot(s.block_table, p)] = fp[p];
      }
    }
    // Sampling: the fake model's next token depends only on the sequence and its length.
    for (const ScheduledSequence& s : out.sequences) {
      if (!s.sample) continue;
      auto fork_it = fork_plan_.find(s.seq_id);
      if (fork_it != fork_plan_.end()) {
        const int64_t child = s.seq_id + 1;
        sched_->fork_sequence(s.seq_id, child);
        max_tokens_[child] = fork_it->second;
        fork_plan_.erase(fork_it);
        sample(child);
      }
      sample(s.seq_id);
    }
  }

  void sample(int64_t seq_id) {
    const Sequence* seq = sched_->find(seq_id);
    const int64_t generated = ++generated_[seq_id];
    if (generated == max_tokens_.at(seq_id)) {
      ASSERT_EQ(seq->num_output_tokens() + 1, max_tokens_.at(seq_id));
      finish(seq_id);
      return;
    }
    sched_->append_token(seq_id,
                         static_cast<int32_t>((seq_id * 7919 + seq->num_tokens() * 31) % 50));
  }

  void finish(int64_t seq_id) {
    sched_->finish_sequence(seq_id);
    fork_plan_.erase(seq_id);
    ++finished_;
  }

  void maybe_abort() {
    if (uniform(0, 99) != 0) return;
    // Abort a random unfinished sequence in whatever state it is in.
    std::vector<int64_t> live;
    for (const auto& [id, n] : max_tokens_) {
      if (sched_->find(id) != nullptr) live.push_back(id);
    }
    if (live.empty()) return;
    const int64_t id = live[uniform(0, static_cast<int64_t>(live.size()) - 1)];
    if (fork_plan_.contains(id)) --expected_finished_;  // its child will never exist
    finish(id);
  }

  void check_states() {
    SchedulerStats stats = sched_->stats();
    int64_t kv_tokens = 0;
    for (const auto& [id, n] : max_tokens_) {
      const Sequence* seq = sched_->find(id);
      if (seq == nullptr) continue;
      const auto& table = kv_->block_table(id);
      switch (seq->status) {
        case SequenceStatus::kWaiting:
          ASSERT_EQ(seq->num_computed_tokens, 0);
          ASSERT_TRUE(table.empty());
          break;
        case SequenceStatus::kRunning:
          ASSERT_EQ(static_cast<int64_t>(table.size()),
                    kv_->blocks_for_tokens(seq->num_computed_tokens));
          kv_tokens += seq->num_computed_tokens;
          break;
        case SequenceStatus::kSwapped:
          ASSERT_TRUE(table.empty());
          ASSERT_TRUE(kv_->is_swapped(id) || seq->num_computed_tokens == 0);
          break;
        case SequenceStatus::kFinished:
          FAIL() << "finished sequence still known";
      }
    }
    ASSERT_EQ(stats.num_kv_tokens, kv_tokens);
  }

  std::mt19937 rng_;
  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Scheduler> sched_;
  int64_t capacity_ = 0;
  std::vector<uint64_t> device_, host_;
  std::multimap<int64_t, Planned> pending_;
  std::map<int64_t, int64_t> max_tokens_, generated_, fork_plan_;
  int64_t finished_ = 0, expected_finished_ = 0;
};

void run_seeds(PreemptionMode mode, int64_t& preemptions) {
  for (uint32_t seed = 1; seed <= 250; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Simulation sim({seed, mode});
    sim.run();
    if (testing::Test::HasFatalFailure() || testing::Test::HasFailure()) return;
    preemptions += sim.num_preemptions();
  }
}

TEST(SchedulerSimulation, RecomputeFinishesEverySequence) {
  int64_t preemptions = 0;
  run_seeds(PreemptionMode::kRecompute, preemptions);
  EXPECT_GT(preemptions, 0);  // the caches are small enough that preemption is exercised
}

TEST(SchedulerSimulation, SwapFinishesEverySequence) {
  int64_t preemptions = 0;
  run_seeds(PreemptionMode::kSwap, preemptions);
  EXPECT_GT(preemptions, 0);
}

}  // namespace
}  // namespace pareto
