// The KV cache manager: per-sequence block tables over the BlockPool, automatic prefix caching,
// copy-on-write of shared partial blocks, and the host tier for swapping. Pure bookkeeping on
// block ids and token counts; the runner moves the bytes.
//
// Block tables: a sequence holding num_computed tokens of K/V has a table of
// ceil(num_computed / block_size) device block ids; position p lives in slot
// table[p / block_size] * block_size + p % block_size. Full blocks are immutable (they may be
// shared through the prefix cache or a fork); only the last, partly filled block is written, and
// when it is shared (after a fork) the writer first gets a private copy (copy-on-write).
//
// Prefix cache: a full block whose tokens have all been computed is registered under its chained
// hash (prefix_hash.h; including the sequence's cache_key). At admission the longest run of
// registered leading blocks is reused (at most num_tokens - 1 tokens, so the last prompt token is
// always computed and gives logits). Freed blocks keep their hash in the free queue until
// allocation evicts them, least recently freed first.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/block_pool.h"
#include "kv/host_block_pool.h"
#include "kv/prefix_hash.h"

namespace pareto {

struct KvCacheConfig {
  int64_t num_blocks = 0;
  int64_t block_size = 16;
  int64_t num_host_blocks = 0;  // swap space; 0 = preemption by recompute only
  bool enable_prefix_caching = true;
};

struct KvCacheStats {
  int64_t num_blocks = 0;
  int64_t num_free_blocks = 0;    // free, including cached blocks nobody references
  int64_t num_cached_blocks = 0;  // blocks holding a prefix hash (referenced or not)
  int64_t num_used_blocks = 0;    // ref_count > 0
  int64_t num_host_blocks = 0;
  int64_t num_free_host_blocks = 0;
  // Prefix cache effectiveness, in tokens: looked up at admission, and found cached.
  int64_t prefix_query_tokens = 0;
  int64_t prefix_hit_tokens = 0;
};

// The cached leading blocks found for a sequence at admission.
struct PrefixHit {
  std::vector<int32_t> block_ids;  // [num_blocks] device blocks holding the prefix
  std::vector<BlockHash> hashes;   // [num_blocks] their chained hashes
  int64_t num_tokens = 0;          // block_ids.size() * block_size
  int64_t num_query_tokens = 0;    // the sequence's length when looked up
};

// A block to copy or move before the next forward pass: (source, destination). For swap out the
// source is a device block and the destination a host block; for swap in the reverse; for
// copy-on-write both are device blocks.
using BlockPair = std::pair<int32_t, int32_t>;

class KvCacheManager {
 public:
  // Throws pareto::Error for a non-positive num_blocks or block_size or negative host blocks.
  explicit KvCacheManager(const KvCacheConfig& config);

  const KvCacheConfig& config() const { return config_; }
  KvCacheStats stats() const;
  // Drops every device block's prefix hash (BlockPool::reset_prefix_cache); returns how many.
  int64_t reset_prefix_cache() { return pool_.reset_prefix_cache(); }
  int64_t num_free_blocks() const { return pool_.num_free_blocks(); }
  int64_t num_free_host_blocks() const { return host_.num_free_blocks(); }
  int64_t blocks_for_tokens(int64_t num_tokens) const {
    return (num_tokens + config_.block_size - 1) / config_.block_size;
  }

  // Throws pareto::Error if any invariant is broken (ref count < 0, a block both free and
  // referenced, reference counts not matching the block tables, host accounting off...). Costs
  // O(blocks + table entries); tests and debug builds call it.
  void check_consistency() const;
  // True when no sequence holds a block: every device block is free (possibly cached) and
  // every host block free.
  bool all_blocks_free() const;

  // --- Admission (a sequence with no blocks: new, or preempted by recompute).
  // Longest cached prefix of tokens (full blocks, at most tokens.size() - 1 tokens). Empty when
  // prefix caching is off.
  PrefixHit find_cached_prefix(std::span<const int32_t> tokens, uint64_t cache_key) const;
  // Whether admit(hit) followed by append(.., hit.num_tokens, num_new_tokens) fits in the free
  // blocks (cached blocks taken back from the free queue count against them).
  bool can_admit(const PrefixHit& hit, int64_t num_new_tokens) const;
  // Starts seq_id's table with the hit's blocks (references taken) and counts the lookup in the
  // prefix statistics. Throws pareto::Error if seq_id already has blocks.
  void admit(int64_t seq_id, uint64_t cache_key, const PrefixHit& hit);

  // --- Growth.
  // Device blocks that append(seq_id, .., num_computed, num_new_tokens) would take.
  int64_t num_blocks_to_append(int64_t seq_id, int64_t num_computed, int64_t num_new_tokens) const;
  bool can_append(int64_t seq_id, int64_t num_computed, int64_t num_new_tokens) const {
    return num_blocks_to_append(seq_id, num_computed, num_new_tokens) <= num_free_blocks();
  }
  // The most new tokens append() could take with the blocks free now (0 if none).
  int64_t max_appendable_tokens(int64_t seq_id, int64_t num_computed) const;
  // Makes the table cover num_computed + num_new_tokens positions. First registers in the prefix
  // cache the blocks that tokens[0, num_computed) fill (those were computed by earlier steps).
  // If the block receiving position num_computed is shared, it is replaced by a fresh copy:
  // (old, new) is appended to copies. Throws pareto::Error when blocks run out (check first).
  void append(int64_t seq_id, std::span<const int32_t> tokens, int64_t num_computed,
              int64_t num_new_tokens, std::vector<BlockPair>& copies);
  // Registers the full blocks among tokens[0, num_computed) in the prefix cache (no-op when
  // caching is off). Call before freeing a sequence whose last step has executed.
  void cache_computed_blocks(int64_t seq_id, std::span<const int32_t> tokens, int64_t num_computed);

  // child gets parent's table, sharing every block (ref counts up). Throws pareto::Error if the
  // parent has no device blocks or the child has blocks.
  void fork(int64_t parent_seq_id, int64_t child_seq_id);
  // Releases every device and host block of seq_id (last block first, so a prefix's head
  // outlives its tail in the eviction order). Unknown ids are ignored.
  void free(int64_t seq_id);

  // --- Swapping (host tier).
  bool can_swap_out(int64_t seq_id) const;
  // Copies every device block of seq_id to a new host block ((device, host) pairs appended to
  // swaps) and releases the device blocks. Throws pareto::Error without enough host blocks.
  void swap_out(int64_t seq_id, std::vector<BlockPair>& swaps);
  // Whether swap_in followed by append(.., num_computed, num_new_tokens) fits.
  bool can_swap_in(int64_t seq_id, int64_t num_computed, int64_t num_new_tokens) const;
  // Moves seq_id back to fresh device blocks ((host, device) pairs appended to swaps) and frees
  // its host blocks.
  void swap_in(int64_t seq_id, std::vector<BlockPair>& swaps);

  // [num blocks] device block ids of seq_id (empty when it has none or is swapped out).
  const std::vector<int32_t>& block_table(int64_t seq_id) const;
  bool is_swapped(int64_t seq_id) const;
  const BlockPool& block_pool() const { return pool_; }

 private:
  struct SeqBlocks {
    uint64_t cache_key = 0;
    std::vector<int32_t> table;       // device blocks; empty while swapped
    std::vector<int32_t> host_table;  // host blocks while swapped
    // Chained hashes of the leading full computed blocks, all offered to the prefix cache.
    std::vector<BlockHash> hashes;
  };
  SeqBlocks& seq(int64_t seq_id);
  const SeqBlocks* find_seq(int64_t seq_id) const;
  bool needs_copy_on_write(const SeqBlocks& s, int64_t num_computed) const;

  KvCacheConfig config_;
  BlockPool pool_;
  HostBlockPool host_;
  std::unordered_map<int64_t, SeqBlocks> seqs_;
  int64_t prefix_query_tokens_ = 0;
  int64_t prefix_hit_tokens_ = 0;
};

}  // namespace pareto
