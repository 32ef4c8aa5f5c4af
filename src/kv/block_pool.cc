#include "kv/block_pool.h"

#include "base/error.h"

namespace pareto {

void FreeBlockQueue::link_first(KvBlock* block) {
  block->prev = block->next = nullptr;
  head_ = tail_ = block;
}

void FreeBlockQueue::push_back(KvBlock* block) {
  if (block->in_free_queue) fail("free block queue: block {} is queued twice", block->block_id);
  if (tail_ == nullptr) {
    link_first(block);
  } else {
    block->prev = tail_;
    block->next = nullptr;
    tail_->next = block;
    tail_ = block;
  }
  block->in_free_queue = true;
  ++size_;
}

void FreeBlockQueue::push_front(KvBlock* block) {
  if (block->in_free_queue) fail("free block queue: block {} is queued twice", block->block_id);
  if (head_ == nullptr) {
    link_first(block);
  } else {
    block->next = head_;
    block->prev = nullptr;
    head_->prev = block;
    head_ = block;
  }
  block->in_free_queue = true;
  ++size_;
}

KvBlock* FreeBlockQueue::pop_front() {
  if (head_ == nullptr) fail("free block queue: no free block");
  KvBlock* block = head_;
  remove(block);
  return block;
}

void FreeBlockQueue::remove(KvBlock* block) {
  if (!block->in_free_queue) fail("free block queue: block {} is not queued", block->block_id);
  (block->prev ? block->prev->next : head_) = block->next;
  (block->next ? block->next->prev : tail_) = block->prev;
  block->prev = block->next = nullptr;
  block->in_free_queue = false;
  --size_;
}

BlockPool::BlockPool(int64_t num_blocks) {
  if (num_blocks <= 0 || num_blocks > INT32_MAX) {
    fail("block pool: num_blocks must be in 1..{}, got {}", INT32_MAX, num_blocks);
  }
  blocks_.resize(static_cast<size_t>(num_blocks));
  for (int64_t i = 0; i < num_blocks; ++i) {
    blocks_[i].block_id = static_cast<int32_t>(i);
    free_queue_.push_back(&blocks_[i]);
  }
}

KvBlock& BlockPool::at(int32_t block_id) {
  if (block_id < 0 || block_id >= num_blocks()) {
    fail("block pool: block id {} out of range 0..{}", block_id, num_blocks() - 1);
  }
  return blocks_[block_id];
}

const KvBlock& BlockPool::block(int32_t block_id) const {
  return const_cast<BlockPool*>(this)->at(block_id);
}

void BlockPool::drop_hash(KvBlock& block) {
  if (!block.has_hash) return;
  auto it = cached_.find(block.hash);
  if (it != cached_.end() && it->second == block.block_id) cached_.erase(it);
  block.has_hash = false;
  block.hash = BlockHash{};
}

int32_t BlockPool::allocate() {
  KvBlock* block = free_queue_.pop_front();
  drop_hash(*block);
  block->ref_count = 1;
  return block->block_id;
}

void BlockPool::add_ref(int32_t block_id) {
  KvBlock& block = at(block_id);
  if (block.ref_count == 0) free_queue_.remove(&block);
  ++block.ref_count;
}

void BlockPool::release(int32_t block_id) {
  KvBlock& block = at(block_id);
  if (block.ref_count <= 0) fail("block pool: block {} released with no reference", block_id);
  if (--block.ref_count > 0) return;
  if (block.has_hash) {
    free_queue_.push_back(&block);
  } else {
    free_queue_.push_front(&block);
  }
}

std::optional<int32_t> BlockPool::find_cached(const BlockHash& hash) const {
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::register_hash(int32_t block_id, const BlockHash& hash) {
  KvBlock& block = at(block_id);
  if (block.has_hash || cached_.contains(hash)) return;
  block.has_hash = true;
  block.hash = hash;
  cached_.emplace(hash, block_id);
}

int64_t BlockPool::reset_prefix_cache() {
  const auto dropped = static_cast<int64_t>(cached_.size());
  for (KvBlock& block : blocks_) drop_hash(block);
  return dropped;
}

void BlockPool::check_consistency() const {
  int64_t num_queued = 0;
  int64_t num_hashed = 0;
  for (const KvBlock& block : blocks_) {
    if (block.ref_count < 0)
      fail("block pool: block {} has ref count {}", block.block_id, block.ref_count);
    if (block.in_free_queue != (block.ref_count == 0)) {
      fail("block pool: block {} has ref count {} but is {}in the free queue", block.block_id,
           block.ref_count, block.in_free_queue ? "" : "not ");
    }
    num_queued += block.in_free_queue ? 1 : 0;
    if (block.has_hash) {
      ++num_hashed;
      auto it = cached_.find(block.hash);
      if (it == cached_.end() || it->second != block.block_id) {
        fail("block pool: block {} holds a hash the cache map does not point back from",
             block.block_id);
      }
    }
  }
  if (num_queued != free_queue_.size()) {
    fail("block pool: {} blocks marked free but the queue holds {}", num_queued,
         free_queue_.size());
  }
  if (num_hashed != num_cached_blocks()) {
    fail("block pool: {} blocks hold hashes but the cache map has {}", num_hashed,
         num_cached_blocks());
  }
  // Walk the links both ways: every member reachable, the ends consistent.
  int64_t walked = 0;
  const KvBlock* prev = nullptr;
  for (const KvBlock* b = free_queue_.front(); b != nullptr; b = b->next) {
    if (!b->in_free_queue || b->prev != prev) fail("block pool: free queue links are broken");
    prev = b;
    if (++walked > free_queue_.size()) fail("block pool: free queue has a cycle");
  }
  if (walked != free_queue_.size())
    fail("block pool: free queue walk found {} of {}", walked, free_queue_.size());
}

}  // namespace pareto
