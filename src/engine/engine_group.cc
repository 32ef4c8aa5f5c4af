#include "engine/engine_group.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>

#include "base/error.h"

namespace pareto {

ReplicaRouting parse_replica_routing(const std::string& name) {
  if (name == "least-loaded") return ReplicaRouting::kLeastLoaded;
  if (name == "prefix") return ReplicaRouting::kPrefixAffinity;
  fail("unknown routing '{}' (expected least-loaded or prefix)", name);
}

const char* replica_routing_name(ReplicaRouting routing) {
  return routing == ReplicaRouting::kPrefixAffinity ? "prefix" : "least-loaded";
}

namespace {

// Chained hashes of the prompt's leading chunks: hashes[i] covers chunks 0..i, so a match at
// depth i means the first i+1 chunks are equal. Token prompts are chunked by tokens; text
// prompts (tokenized later by the engine) by bytes, about 4 per token.
std::vector<uint64_t> prefix_chunk_hashes(const GenerationRequest& request, int64_t chunk_tokens,
                                          int64_t max_chunks) {
  std::vector<uint64_t> hashes;
  uint64_t h = 0x9e3779b97f4a7c15ull;
  auto chain = [&](const void* data, size_t bytes) {
    h = XXH3_64bits_withSeed(data, bytes, h);
    hashes.push_back(h);
  };
  if (!request.prompt_token_ids.empty()) {
    const auto& ids = request.prompt_token_ids;
    const auto chunk = static_cast<size_t>(chunk_tokens);
    for (size_t off = 0; off + chunk <= ids.size() && std::ssize(hashes) < max_chunks; off += chunk)
      chain(ids.data() + off, chunk * sizeof(int32_t));
  } else if (request.prompt_text) {
    const std::string& text = *request.prompt_text;
    const auto chunk = static_cast<size_t>(chunk_tokens) * 4;
    for (size_t off = 0; off + chunk <= text.size() && std::ssize(hashes) < max_chunks;
         off += chunk)
      chain(text.data() + off, chunk);
  }
  // The salt separates tenants' caches in the engine; keep them apart here too.
  if (request.cache_salt != 0)
    for (uint64_t& x : hashes) x ^= request.cache_salt * 0xbf58476d1ce4e5b9ull;
  return hashes;
}

}  // namespace

EngineGroup::EngineGroup(std::vector<Engine*> engines, EngineGroupOptions options)
    : engines_(std::move(engines)), options_(options), routed_(engines_.size(), 0) {
  if (engines_.empty()) fail("engine group: no engines");
  for (Engine* e : engines_)
    if (e == nullptr) fail("engine group: null engine");
  options_.affinity_chunk_tokens = std::max<int64_t>(1, options_.affinity_chunk_tokens);
  options_.affinity_max_chunks = std::max<int64_t>(1, options_.affinity_max_chunks);
}

size_t EngineGroup::least_loaded(const std::vector<int64_t>& loads) const {
  return static_cast<size_t>(std::min_element(loads.begin(), loads.end()) - loads.begin());
}

size_t EngineGroup::pick_replica(const GenerationRequest& request) {
  if (engines_.size() == 1) return 0;
  std::vector<int64_t> loads(engines_.size());
  for (size_t r = 0; r < engines_.size(); ++r) loads[r] = engines_[r]->num_unfinished_requests();
  const size_t fallback = least_loaded(loads);
  if (options_.routing == ReplicaRouting::kLeastLoaded) return fallback;

  const std::vector<uint64_t> hashes =
      prefix_chunk_hashes(request, options_.affinity_chunk_tokens, options_.affinity_max_chunks);
  size_t chosen = fallback;
  // Deepest remembered prefix whose replica is not overloaded.
  for (size_t i = hashes.size(); i-- > 0;) {
    auto it = affinity_.find(hashes[i]);
    if (it == affinity_.end()) continue;
    if (loads[it->second] <= loads[fallback] + options_.affinity_slack) chosen = it->second;
    break;
  }
  for (uint64_t h : hashes) {
    auto [it, inserted] = affinity_.insert_or_assign(h, chosen);
    if (inserted) affinity_order_.push_back(h);
  }
  while (affinity_.size() > options_.affinity_capacity && !affinity_order_.empty()) {
    affinity_.erase(affinity_order_.front());
    affinity_order_.pop_front();
  }
  return chosen;
}

std::shared_ptr<RequestStream> EngineGroup::add_request(GenerationRequest request) {
  size_t r;
  {
    std::lock_guard lock(mutex_);
    r = pick_replica(request);
    ++routed_[r];
  }
  return engines_[r]->add_request(std::move(request));
}

void EngineGroup::abort(int64_t request_id) {
  if (request_id < 0) return;
  engines_[static_cast<size_t>(request_id % std::ssize(engines_))]->abort(request_id);
}

int64_t EngineGroup::reset_prefix_cache() {
  int64_t dropped = 0;
  for (Engine* e : engines_) dropped += e->reset_prefix_cache();
  std::lock_guard lock(mutex_);
  affinity_.clear();
  affinity_order_.clear();
  return dropped;
}

EngineStats EngineGroup::stats() const {
  EngineStats total = engines_[0]->stats();
  for (size_t r = 1; r < engines_.size(); ++r) {
    const EngineStats s = engines_[r]->stats();
    total.num_steps += s.num_steps;
    total.num_requests_added += s.num_requests_added;
    total.num_requests_finished += s.num_requests_finished;
    total.num_requests_rejected += s.num_requests_rejected;
    total.num_waiting += s.num_waiting;
    total.num_running += s.num_running;
    total.num_swapped += s.num_swapped;
    total.num_preemptions += s.num_preemptions;
    total.num_computed_tokens += s.num_computed_tokens;
    total.num_generated_tokens += s.num_generated_tokens;
    total.num_prompt_tokens += s.num_prompt_tokens;
    total.prefix_query_tokens += s.prefix_query_tokens;
    total.prefix_hit_tokens += s.prefix_hit_tokens;
    total.num_kv_blocks += s.num_kv_blocks;
    total.num_used_kv_blocks += s.num_used_kv_blocks;
    total.peak_used_kv_blocks += s.peak_used_kv_blocks;
    total.num_kv_tokens += s.num_kv_tokens;
    total.num_kv_slots += s.num_kv_slots;
    total.sum_kv_tokens += s.sum_kv_tokens;
    total.sum_kv_slots += s.sum_kv_slots;
    total.kv_capacity_tokens += s.kv_capacity_tokens;
    total.max_model_len = std::min(total.max_model_len, s.max_model_len);
  }
  return total;
}

int64_t EngineGroup::total_max_num_seqs() const {
  int64_t total = 0;
  for (Engine* e : engines_) total += e->config().max_num_seqs;
  return total;
}

std::vector<int64_t> EngineGroup::routed_counts() const {
  std::lock_guard lock(mutex_);
  return routed_;
}

}  // namespace pareto
