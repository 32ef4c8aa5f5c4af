#include "kv/kv_cache_manager.h"

#include <algorithm>

#include "base/error.h"

namespace pareto {

namespace {

const KvCacheConfig& validated(const KvCacheConfig& config) {
  if (config.num_blocks <= 0)
    fail("kv cache: num_blocks must be positive, got {}", config.num_blocks);
  if (config.block_size <= 0 || config.block_size > (1 << 20)) {
    fail("kv cache: block_size must be in 1..{}, got {}", 1 << 20, config.block_size);
  }
  if (config.num_host_blocks < 0) {
    fail("kv cache: num_host_blocks must not be negative, got {}", config.num_host_blocks);
  }
  return config;
}

const std::vector<int32_t> kEmptyTable;

}  // namespace

KvCacheManager::KvCacheManager(const KvCacheConfig& config)
    : config_(validated(config)), pool_(config.num_blocks), host_(config.num_host_blocks) {}

KvCacheStats KvCacheManager::stats() const {
  KvCacheStats s;
  s.num_blocks = pool_.num_blocks();
  s.num_free_blocks = pool_.num_free_blocks();
  s.num_cached_blocks = pool_.num_cached_blocks();
  s.num_used_blocks = s.num_blocks - s.num_free_blocks;
  s.num_host_blocks = host_.num_blocks();
  s.num_free_host_blocks = host_.num_free_blocks();
  s.prefix_query_tokens = prefix_query_tokens_;
  s.prefix_hit_tokens = prefix_hit_tokens_;
  return s;
}

KvCacheManager::SeqBlocks& KvCacheManager::seq(int64_t seq_id) {
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) fail("kv cache: sequence {} holds no blocks", seq_id);
  return it->second;
}

const KvCacheManager::SeqBlocks* KvCacheManager::find_seq(int64_t seq_id) const {
  auto it = seqs_.find(seq_id);
  return it == seqs_.end() ? nullptr : &it->second;
}

const std::vector<int32_t>& KvCacheManager::block_table(int64_t seq_id) const {
  const SeqBlocks* s = find_seq(seq_id);
  return s ? s->table : kEmptyTable;
}

bool KvCacheManager::is_swapped(int64_t seq_id) const {
  const SeqBlocks* s = find_seq(seq_id);
  return s != nullptr && !s->host_table.empty();
}

bool KvCacheManager::all_blocks_free() const {
  return pool_.num_free_blocks() == pool_.num_blocks() &&
         host_.num_free_blocks() == host_.num_blocks();
}

PrefixHit KvCacheManager::find_cached_prefix(std::span<const int32_t> tokens,
                                             uint64_t cache_key) const {
  PrefixHit hit;
  hit.num_query_tokens = static_cast<int64_t>(tokens.size());
  if (!config_.enable_prefix_caching || tokens.empty()) return hit;
  const int64_t bs = config_.block_size;
  // The last token must run through the model to produce logits, so it is never matched.
  const int64_t max_blocks = (hit.num_query_tokens - 1) / bs;
  for (int64_t i = 0; i < max_blocks; ++i) {
    const BlockHash* parent = i > 0 ? &hit.hashes.back() : nullptr;
    BlockHash h = hash_block(parent, cache_key, tokens.subspan(i * bs, bs));
    std::optional<int32_t> block_id = pool_.find_cached(h);
    if (!block_id) break;
    hit.hashes.push_back(h);
    hit.block_ids.push_back(*block_id);
  }
  hit.num_tokens = static_cast<int64_t>(hit.block_ids.size()) * bs;
  return hit;
}

bool KvCacheManager::can_admit(const PrefixHit& hit, int64_t num_new_tokens) const {
  int64_t num_revived = 0;  // cached blocks that leave the free queue
  for (int32_t id : hit.block_ids) num_revived += pool_.block(id).ref_count == 0 ? 1 : 0;
  const int64_t num_new_blocks = blocks_for_tokens(hit.num_tokens + num_new_tokens) -
                                 static_cast<int64_t>(hit.block_ids.size());
  return num_revived + num_new_blocks <= pool_.num_free_blocks();
}

void KvCacheManager::admit(int64_t seq_id, uint64_t cache_key, const PrefixHit& hit) {
  if (seqs_.contains(seq_id)) fail("kv cache: sequence {} already holds blocks", seq_id);
  SeqBlocks& s = seqs_[seq_id];
  s.cache_key = cache_key;
  for (int32_t id : hit.block_ids) {
    pool_.add_ref(id);
    s.table.push_back(id);
  }
  s.hashes = hit.hashes;
  if (config_.enable_prefix_caching) {
    prefix_query_tokens_ += hit.num_query_tokens;
    prefix_hit_tokens_ += hit.num_tokens;
  }
}

bool KvCacheManager::needs_copy_on_write(const SeqBlocks& s, int64_t num_computed) const {
  // Only the partly filled last block is ever written in place; a full block is immutable.
  const int64_t idx = num_computed / config_.block_size;
  return num_computed % config_.block_size != 0 && idx < static_cast<int64_t>(s.table.size()) &&
         pool_.block(s.table[idx]).ref_count > 1;
}

int64_t KvCacheManager::num_blocks_to_append(int64_t seq_id, int64_t num_computed,
                                             int64_t num_new_tokens) const {
  const SeqBlocks* s = find_seq(seq_id);
  const int64_t have = s ? static_cast<int64_t>(s->table.size()) : 0;
  const int64_t grow =
      std::max<int64_t>(0, blocks_for_tokens(num_computed + num_new_tokens) - have);
  return grow + (s && num_new_tokens > 0 && needs_copy_on_write(*s, num_computed) ? 1 : 0);
}

int64_t KvCacheManager::max_appendable_tokens(int64_t seq_id, int64_t num_computed) const {
  const SeqBlocks* s = find_seq(seq_id);
  const int64_t have = s ? static_cast<int64_t>(s->table.size()) : 0;
  int64_t usable = pool_.num_free_blocks();
  if (s && needs_copy_on_write(*s, num_computed)) --usable;
  if (usable < 0) return 0;
  return std::max<int64_t>(0, (have + usable) * config_.block_size - num_computed);
}

void KvCacheManager::cache_computed_blocks(int64_t seq_id, std::span<const int32_t> tokens,
                                           int64_t num_computed) {
  if (!config_.enable_prefix_caching) return;
  SeqBlocks& s = seq(seq_id);
  const int64_t num_full =
      std::min<int64_t>(num_computed / config_.block_size, static_cast<int64_t>(s.table.size()));
  const int64_t first = static_cast<int64_t>(s.hashes.size());
  if (num_full <= first) return;
  extend_block_hashes(tokens, config_.block_size, s.cache_key, num_full, s.hashes);
  for (int64_t i = first; i < num_full; ++i) pool_.register_hash(s.table[i], s.hashes[i]);
}

void KvCacheManager::append(int64_t seq_id, std::span<const int32_t> tokens, int64_t num_computed,
                            int64_t num_new_tokens, std::vector<BlockPair>& copies) {
  if (num_computed + num_new_tokens > static_cast<int64_t>(tokens.size())) {
    fail("kv cache: sequence {} appends past its {} tokens", seq_id, tokens.size());
  }
  SeqBlocks& s = seq(seq_id);
  if (!s.host_table.empty()) fail("kv cache: sequence {} is swapped out", seq_id);
  const int64_t needed = num_blocks_to_append(seq_id, num_computed, num_new_tokens);
  if (needed > pool_.num_free_blocks()) {
    fail("kv cache: sequence {} needs {} blocks, {} free", seq_id, needed, pool_.num_free_blocks());
  }
  cache_computed_blocks(seq_id, tokens, num_computed);
  if (num_new_tokens > 0 && needs_copy_on_write(s, num_computed)) {
    int32_t& last = s.table[num_computed / config_.block_size];
    const int32_t fresh = pool_.allocate();
    copies.emplace_back(last, fresh);
    pool_.release(last);
    last = fresh;
  }
  const int64_t target = blocks_for_tokens(num_computed + num_new_tokens);
  while (static_cast<int64_t>(s.table.size()) < target) s.table.push_back(pool_.allocate());
}

void KvCacheManager::fork(int64_t parent_seq_id, int64_t child_seq_id) {
  const SeqBlocks* parent = find_seq(parent_seq_id);
  if (parent == nullptr || parent->table.empty()) {
    fail("kv cache: cannot fork sequence {}: it holds no device blocks", parent_seq_id);
  }
  if (seqs_.contains(child_seq_id))
    fail("kv cache: sequence {} already holds blocks", child_seq_id);
  SeqBlocks child = *parent;
  for (int32_t id : child.table) pool_.add_ref(id);
  seqs_.emplace(child_seq_id, std::move(child));
}

void KvCacheManager::free(int64_t seq_id) {
  auto it = seqs_.find(seq_id);
  if (it == seqs_.end()) return;
  SeqBlocks& s = it->second;
  for (auto b = s.table.rbegin(); b != s.table.rend(); ++b) pool_.release(*b);
  for (int32_t h : s.host_table) host_.free(h);
  seqs_.erase(it);
}

bool KvCacheManager::can_swap_out(int64_t seq_id) const {
  const SeqBlocks* s = find_seq(seq_id);
  return s != nullptr && s->host_table.empty() &&
         static_cast<int64_t>(s->table.size()) <= host_.num_free_blocks();
}

void KvCacheManager::swap_out(int64_t seq_id, std::vector<BlockPair>& swaps) {
  if (!can_swap_out(seq_id)) {
    fail("kv cache: cannot swap out sequence {} ({} host blocks free)", seq_id,
         host_.num_free_blocks());
  }
  SeqBlocks& s = seq(seq_id);
  for (int32_t id : s.table) {
    const int32_t host_id = host_.allocate();
    swaps.emplace_back(id, host_id);
    s.host_table.push_back(host_id);
  }
  for (auto b = s.table.rbegin(); b != s.table.rend(); ++b) pool_.release(*b);
  s.table.clear();
}

bool KvCacheManager::can_swap_in(int64_t seq_id, int64_t num_computed,
                                 int64_t num_new_tokens) const {
  const SeqBlocks* s = find_seq(seq_id);
  if (s == nullptr || s->host_table.empty()) return false;
  // Every block comes back private (ref 1), so no copy-on-write follows.
  const int64_t needed = std::max<int64_t>(static_cast<int64_t>(s->host_table.size()),
                                           blocks_for_tokens(num_computed + num_new_tokens));
  return needed <= pool_.num_free_blocks();
}

void KvCacheManager::swap_in(int64_t seq_id, std::vector<BlockPair>& swaps) {
  SeqBlocks& s = seq(seq_id);
  if (s.host_table.empty()) fail("kv cache: sequence {} is not swapped out", seq_id);
  if (static_cast<int64_t>(s.host_table.size()) > pool_.num_free_blocks()) {
    fail("kv cache: cannot swap in sequence {}: {} blocks needed, {} free", seq_id,
         s.host_table.size(), pool_.num_free_blocks());
  }
  for (size_t i = 0; i < s.host_table.size(); ++i) {
    // A full block whose prefix is still cached on the device is shared instead of copied.
    std::optional<int32_t> cached;
    if (config_.enable_prefix_caching && i < s.hashes.size())
      cached = pool_.find_cached(s.hashes[i]);
    if (cached) {
      pool_.add_ref(*cached);
      s.table.push_back(*cached);
    } else {
      const int32_t id = pool_.allocate();
      swaps.emplace_back(s.host_table[i], id);
      s.table.push_back(id);
      if (i < s.hashes.size()) pool_.register_hash(id, s.hashes[i]);
    }
    host_.free(s.host_table[i]);
  }
  s.host_table.clear();
}

void KvCacheManager::check_consistency() const {
  pool_.check_consistency();
  std::vector<int64_t> refs(static_cast<size_t>(pool_.num_blocks()), 0);
  std::vector<bool> host_seen(static_cast<size_t>(host_.num_blocks()), false);
  int64_t num_host_used = 0;
  for (const auto& [seq_id, s] : seqs_) {
    if (!s.table.empty() && !s.host_table.empty()) {
      fail("kv cache: sequence {} holds device and host blocks at once", seq_id);
    }
    for (int32_t id : s.table) {
      if (id < 0 || id >= pool_.num_blocks())
        fail("kv cache: sequence {} has block {}", seq_id, id);
      ++refs[id];
    }
    for (int32_t h : s.host_table) {
      if (!host_.in_use(h) || host_seen[h]) {
        fail("kv cache: sequence {} has host block {} that is free or shared", seq_id, h);
      }
      host_seen[h] = true;
      ++num_host_used;
    }
    const size_t num_blocks = s.table.empty() ? s.host_table.size() : s.table.size();
    if (s.hashes.size() > num_blocks) {
      fail("kv cache: sequence {} has {} block hashes for {} blocks", seq_id, s.hashes.size(),
           num_blocks);
    }
  }
  for (int64_t id = 0; id < pool_.num_blocks(); ++id) {
    const int32_t ref_count = pool_.block(static_cast<int32_t>(id)).ref_count;
    if (ref_count != refs[id]) {
      fail("kv cache: block {} has ref count {} but {} table entries", id, ref_count, refs[id]);
    }
  }
  if (num_host_used + host_.num_free_blocks() != host_.num_blocks()) {
    fail("kv cache: {} host blocks used + {} free != {}", num_host_used, host_.num_free_blocks(),
         host_.num_blocks());
  }
}

}  // namespace pareto
