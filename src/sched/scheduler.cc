#include "sched/scheduler.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "base/error.h"

namespace pareto {

namespace {

// Queue order: more important (lower priority value) first, then earlier arrival. A sequence
// preempted by recompute keeps its arrival index, so it goes back ahead of later arrivals.
struct QueueKey {
  int32_t priority = 0;
  int64_t arrival_idx = 0;
  int64_t seq_id = 0;
  auto operator<=>(const QueueKey&) const = default;
};

QueueKey key_of(const Sequence& seq) {
  return {seq.priority, seq.arrival_idx, seq.seq_id};
}

}  // namespace

struct Scheduler::State {
  // Node-based map: Sequence references stay valid while other sequences come and go.
  std::unordered_map<int64_t, Sequence> seqs;
  std::set<QueueKey> waiting;
  std::set<QueueKey> running;
  std::set<QueueKey> swapped;
  int64_t next_arrival_idx = 0;
  int64_t num_preemptions = 0;
};

struct Scheduler::Step {
  int64_t budget = 0;
  std::unordered_set<int64_t> scheduled;
  bool preempted = false;
  std::vector<BlockPair> pairs;  // scratch for the manager's (src, dst) lists
};

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager& kv)
    : config_(config), kv_(kv), state_(std::make_unique<State>()) {
  if (config.max_num_batched_tokens <= 0) {
    fail("scheduler: max_num_batched_tokens must be positive, got {}",
         config.max_num_batched_tokens);
  }
  if (config.max_num_seqs <= 0) {
    fail("scheduler: max_num_seqs must be positive, got {}", config.max_num_seqs);
  }
  if (config.max_model_len < 0) {
    fail("scheduler: max_model_len must not be negative, got {}", config.max_model_len);
  }
}

Scheduler::~Scheduler() = default;

std::optional<std::string> Scheduler::admission_error(int64_t num_prompt_tokens,
                                                      int64_t max_total_tokens) const {
  const int64_t max_len = config_.max_model_len;
  if (max_len > 0 && num_prompt_tokens > max_len) {
    return fmt::format("the prompt has {} tokens, more than the model's context of {}",
                       num_prompt_tokens, max_len);
  }
  if (max_len > 0 && max_total_tokens > max_len) {
    return fmt::format("prompt and output may reach {} tokens, more than the model's context of {}",
                       max_total_tokens, max_len);
  }
  // K/V is stored for every token but the last sampled one, which is never fed back.
  const int64_t stored = std::max(num_prompt_tokens, max_total_tokens - 1);
  const int64_t capacity = kv_.config().num_blocks * kv_.config().block_size;
  if (stored > capacity) {
    return fmt::format("the sequence may need K/V for {} tokens, more than the whole KV cache ({})",
                       stored, capacity);
  }
  return std::nullopt;
}

void Scheduler::add_sequence(Sequence seq) {
  if (seq.token_ids.empty()) fail("scheduler: sequence {} has an empty prompt", seq.seq_id);
  if (state_->seqs.contains(seq.seq_id)) fail("scheduler: duplicate sequence id {}", seq.seq_id);
  if (seq.num_prompt_tokens <= 0 || seq.num_prompt_tokens > seq.num_tokens()) {
    seq.num_prompt_tokens = seq.num_tokens();
  }
  // Enforced here too: a sequence that can never fit would block the waiting queue forever.
  if (auto error = admission_error(seq.num_tokens(), seq.num_tokens())) {
    fail("scheduler: sequence {} cannot run: {}", seq.seq_id, *error);
  }
  seq.arrival_idx = state_->next_arrival_idx++;
  seq.num_computed_tokens = 0;
  seq.num_cached_tokens = 0;
  seq.status = SequenceStatus::kWaiting;
  state_->waiting.insert(key_of(seq));
  state_->seqs.emplace(seq.seq_id, std::move(seq));
}

Sequence& Scheduler::get(int64_t seq_id) {
  auto it = state_->seqs.find(seq_id);
  if (it == state_->seqs.end()) fail("scheduler: unknown sequence {}", seq_id);
  return it->second;
}

const Sequence* Scheduler::find(int64_t seq_id) const {
  auto it = state_->seqs.find(seq_id);
  return it == state_->seqs.end() ? nullptr : &it->second;
}

void Scheduler::fork_sequence(int64_t parent_seq_id, int64_t child_seq_id) {
  const Sequence& parent = get(parent_seq_id);
  if (parent.status != SequenceStatus::kRunning ||
      parent.num_computed_tokens < parent.num_prompt_tokens) {
    fail("scheduler: cannot fork sequence {}: its prompt is not computed on the device",
         parent_seq_id);
  }
  if (state_->seqs.contains(child_seq_id))
    fail("scheduler: duplicate sequence id {}", child_seq_id);
  Sequence child = parent;
  child.seq_id = child_seq_id;
  child.arrival_idx = state_->next_arrival_idx++;
  child.num_preemptions = 0;
  kv_.fork(parent_seq_id, child_seq_id);
  state_->running.insert(key_of(child));
  state_->seqs.emplace(child_seq_id, std::move(child));
}

void Scheduler::append_token(int64_t seq_id, int32_t token_id) {
  Sequence& seq = get(seq_id);
  if (seq.status != SequenceStatus::kRunning) {
    fail("scheduler: token appended to sequence {} which is not running", seq_id);
  }
  seq.token_ids.push_back(token_id);
}

void Scheduler::finish_sequence(int64_t seq_id) {
  auto it = state_->seqs.find(seq_id);
  if (it == state_->seqs.end()) return;
  Sequence& seq = it->second;
  switch (seq.status) {
    case SequenceStatus::kWaiting:
      state_->waiting.erase(key_of(seq));
      break;
    case SequenceStatus::kRunning:
      state_->running.erase(key_of(seq));
      // Its last step has executed: its full blocks are worth keeping for later prefixes.
      kv_.cache_computed_blocks(seq_id, seq.token_ids, seq.num_computed_tokens);
      break;
    case SequenceStatus::kSwapped:
      state_->swapped.erase(key_of(seq));
      break;
    case SequenceStatus::kFinished:
      break;
  }
  kv_.free(seq_id);
  state_->seqs.erase(it);
}

bool Scheduler::has_unfinished() const {
  return !state_->seqs.empty();
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  s.num_waiting = static_cast<int64_t>(state_->waiting.size());
  s.num_running = static_cast<int64_t>(state_->running.size());
  s.num_swapped = static_cast<int64_t>(state_->swapped.size());
  s.num_preemptions = state_->num_preemptions;
  for (const QueueKey& key : state_->running) {
    s.num_kv_tokens += state_->seqs.at(key.seq_id).num_computed_tokens;
    s.num_kv_slots +=
        static_cast<int64_t>(kv_.block_table(key.seq_id).size()) * kv_.config().block_size;
  }
  return s;
}

int64_t Scheduler::tokens_to_run(const Sequence& seq, int64_t budget) const {
  int64_t n = seq.num_tokens() - seq.num_computed_tokens;
  if (config_.max_model_len > 0) n = std::min(n, config_.max_model_len - seq.num_computed_tokens);
  return std::max<int64_t>(0, std::min(n, budget));
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  Step step;
  step.budget = config_.max_num_batched_tokens;
  // Decodes first so that long prefills never starve them of budget, then the rest of the
  // running sequences' prefills, then swapped sequences, then new ones.
  schedule_running(step, /*decodes=*/true, out);
  schedule_running(step, /*decodes=*/false, out);
  schedule_swapped(step, out);
  schedule_waiting(step, out);
#ifndef NDEBUG
  // O(blocks + table entries) per step: debug builds only.
  kv_.check_consistency();
#endif
  return out;
}

void Scheduler::schedule_running(Step& step, bool decodes, SchedulerOutput& out) {
  std::vector<int64_t> order;
  order.reserve(state_->running.size());
  for (const QueueKey& key : state_->running) order.push_back(key.seq_id);
  for (int64_t seq_id : order) {
    if (step.budget <= 0 || static_cast<int64_t>(out.sequences.size()) >= config_.max_num_seqs) {
      return;
    }
    Sequence& seq = get(seq_id);
    if (seq.status != SequenceStatus::kRunning || step.scheduled.contains(seq_id)) continue;
    const bool is_decode = seq.num_tokens() - seq.num_computed_tokens == 1;
    if (is_decode != decodes) continue;
    int64_t n = tokens_to_run(seq, step.budget);
    if (n == 0) continue;
    if (kv_.blocks_for_tokens(seq.num_computed_tokens + n) > kv_.config().num_blocks) {
      fail("scheduler: sequence {} outgrew the whole KV cache ({} tokens)", seq_id,
           seq.num_computed_tokens + n);
    }
    bool preempted_self = false;
    while (!kv_.can_append(seq_id, seq.num_computed_tokens, n)) {
      if (Sequence* victim = find_victim(seq, step)) {
        preempt(*victim, step, out);
        continue;
      }
      // Nothing less important left to take from: a prefill runs the chunk that fits (a decode
      // is never split), otherwise the sequence steps back itself and retries later.
      const int64_t fit =
          is_decode ? 0 : kv_.max_appendable_tokens(seq_id, seq.num_computed_tokens);
      if (fit > 0) {
        n = std::min(n, fit);
        continue;
      }
      preempt(seq, step, out);
      preempted_self = true;
      break;
    }
    if (!preempted_self) run(seq, n, step, out);
  }
}

Sequence* Scheduler::find_victim(const Sequence& seq, const Step& step) {
  const QueueKey self = key_of(seq);
  for (auto it = state_->running.rbegin(); it != state_->running.rend() && self < *it; ++it) {
    if (!step.scheduled.contains(it->seq_id)) return &get(it->seq_id);
  }
  return nullptr;
}

void Scheduler::preempt(Sequence& seq, Step& step, SchedulerOutput& out) {
  state_->running.erase(key_of(seq));
  // Every computed token of seq has executed (it is not scheduled in this step), so its full
  // blocks can serve its own re-admission, or anyone sharing the prefix.
  kv_.cache_computed_blocks(seq.seq_id, seq.token_ids, seq.num_computed_tokens);
  if (config_.preemption_mode == PreemptionMode::kSwap && kv_.can_swap_out(seq.seq_id)) {
    step.pairs.clear();
    kv_.swap_out(seq.seq_id, step.pairs);
    for (const auto& [device_id, host_id] : step.pairs)
      out.swap_out.push_back({device_id, host_id});
    seq.status = SequenceStatus::kSwapped;
    state_->swapped.insert(key_of(seq));
  } else {
    kv_.free(seq.seq_id);
    seq.num_computed_tokens = 0;
    seq.num_cached_tokens = 0;
    seq.status = SequenceStatus::kWaiting;
    state_->waiting.insert(key_of(seq));
  }
  ++seq.num_preemptions;
  ++state_->num_preemptions;
  out.preempted_seq_ids.push_back(seq.seq_id);
  step.preempted = true;
}

void Scheduler::schedule_swapped(Step& step, SchedulerOutput& out) {
  // Swapping back in right after swapping out in the same step would only thrash.
  if (step.preempted) return;
  while (!state_->swapped.empty()) {
    if (step.budget <= 0 || static_cast<int64_t>(state_->running.size()) >= config_.max_num_seqs) {
      return;
    }
    Sequence& seq = get(state_->swapped.begin()->seq_id);
    const int64_t n = tokens_to_run(seq, step.budget);
    // In order: a sequence that does not fit yet blocks the later ones (no starvation).
    if (n == 0 || !kv_.can_swap_in(seq.seq_id, seq.num_computed_tokens, n)) return;
    step.pairs.clear();
    kv_.swap_in(seq.seq_id, step.pairs);
    for (const auto& [host_id, device_id] : step.pairs) out.swap_in.push_back({device_id, host_id});
    state_->swapped.erase(state_->swapped.begin());
    seq.status = SequenceStatus::kRunning;
    state_->running.insert(key_of(seq));
    run(seq, n, step, out);
  }
}

void Scheduler::schedule_waiting(Step& step, SchedulerOutput& out) {
  // Swapped sequences go first; and right after a preemption there is no room to spare.
  if (step.preempted || !state_->swapped.empty()) return;
  while (!state_->waiting.empty()) {
    if (step.budget <= 0 || static_cast<int64_t>(state_->running.size()) >= config_.max_num_seqs) {
      return;
    }
    Sequence& seq = get(state_->waiting.begin()->seq_id);
    PrefixHit hit = kv_.find_cached_prefix(seq.token_ids, seq.cache_key);
    seq.num_computed_tokens = hit.num_tokens;  // tokens_to_run counts from here
    const int64_t n = tokens_to_run(seq, step.budget);
    if (n == 0 || !kv_.can_admit(hit, n)) {
      seq.num_computed_tokens = 0;
      return;  // later arrivals wait behind it
    }
    kv_.admit(seq.seq_id, seq.cache_key, hit);
    seq.num_cached_tokens = hit.num_tokens;
    out.num_cached_tokens += hit.num_tokens;
    state_->waiting.erase(state_->waiting.begin());
    seq.status = SequenceStatus::kRunning;
    state_->running.insert(key_of(seq));
    run(seq, n, step, out);
  }
}

void Scheduler::run(Sequence& seq, int64_t num_tokens, Step& step, SchedulerOutput& out) {
  step.pairs.clear();
  kv_.append(seq.seq_id, seq.token_ids, seq.num_computed_tokens, num_tokens, step.pairs);
  for (const auto& [src, dst] : step.pairs) out.copies.push_back({src, dst});
  ScheduledSequence& s = out.sequences.emplace_back();
  s.seq_id = seq.seq_id;
  s.start_pos = seq.num_computed_tokens;
  s.token_ids.assign(seq.token_ids.begin() + s.start_pos,
                     seq.token_ids.begin() + s.start_pos + num_tokens);
  s.block_table = kv_.block_table(seq.seq_id);
  seq.num_computed_tokens += num_tokens;
  s.sample = seq.num_computed_tokens == seq.num_tokens();
  out.num_batched_tokens += num_tokens;
  step.budget -= num_tokens;
  step.scheduled.insert(seq.seq_id);
}

}  // namespace pareto
