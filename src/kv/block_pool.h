// The device KV blocks as bookkeeping: ids, reference counts, the free queue and the prefix-cache
// map from content hash to block. Holds no K/V (the runner's KvArena does).
//
// A block is either referenced (ref_count > 0, by one or more sequences' block tables) or in the
// free queue. A free block may still hold a prefix hash ("cached"): its contents stay valid and a
// later sequence with the same prefix can take it back out of the queue (from the middle, O(1)).
// The queue order is the eviction order: allocation takes the head and only then drops the
// head's hash. Released blocks that hold a hash go to the tail (least recently used first out);
// blocks without a hash go to the head, since reusing them loses nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "kv/prefix_hash.h"

namespace pareto {

struct KvBlock {
  int32_t block_id = 0;
  int32_t ref_count = 0;
  bool has_hash = false;
  BlockHash hash;
  // Intrusive links of the free queue; meaningful only while in_free_queue.
  KvBlock* prev = nullptr;
  KvBlock* next = nullptr;
  bool in_free_queue = false;
};

// Doubly linked list threaded through KvBlock::prev/next: push at either end, pop the head,
// remove any member, all O(1). Does not own the blocks.
class FreeBlockQueue {
 public:
  void push_back(KvBlock* block);
  void push_front(KvBlock* block);
  // Throws pareto::Error when empty.
  KvBlock* pop_front();
  // Throws pareto::Error when block is not in the queue.
  void remove(KvBlock* block);

  KvBlock* front() const { return head_; }
  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  void link_first(KvBlock* block);
  KvBlock* head_ = nullptr;
  KvBlock* tail_ = nullptr;
  int64_t size_ = 0;
};

class BlockPool {
 public:
  // All num_blocks blocks start free, without hashes. Throws pareto::Error if num_blocks <= 0.
  explicit BlockPool(int64_t num_blocks);
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  int64_t num_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  // Free blocks, including cached ones with no references.
  int64_t num_free_blocks() const { return free_queue_.size(); }
  // Blocks holding a prefix hash (referenced or not).
  int64_t num_cached_blocks() const { return static_cast<int64_t>(cached_.size()); }

  // Takes the head of the free queue (evicting its hash) with ref_count 1. Throws
  // pareto::Error when no block is free.
  int32_t allocate();
  // One more reference; a free (cached) block leaves the free queue.
  void add_ref(int32_t block_id);
  // One reference fewer; at zero the block joins the free queue, keeping its hash. Throws
  // pareto::Error if the block has no reference (a count would go negative).
  void release(int32_t block_id);

  // The block holding this prefix hash, if any (referenced or free).
  std::optional<int32_t> find_cached(const BlockHash& hash) const;
  // Records that a full, computed block holds this hash. No-op when another block holds the same
  // hash already (two sequences computed the same prefix concurrently) or the block has a hash.
  void register_hash(int32_t block_id, const BlockHash& hash);
  // Forgets every prefix hash (POST /reset_prefix_cache, benchmark runs from a cold cache).
  // Referenced blocks keep serving their sequences; they just can no longer be shared by hash.
  // Returns the number of hashes dropped.
  int64_t reset_prefix_cache();

  const KvBlock& block(int32_t block_id) const;

  // Throws pareto::Error on a broken invariant: negative count, free-queue membership not
  // matching ref_count == 0, broken links, hash map out of sync with the blocks.
  void check_consistency() const;

 private:
  KvBlock& at(int32_t block_id);
  void drop_hash(KvBlock& block);

  std::vector<KvBlock> blocks_;
  FreeBlockQueue free_queue_;
  std::unordered_map<BlockHash, int32_t, BlockHashHasher> cached_;
};

}  // namespace pareto
