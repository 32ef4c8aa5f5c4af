#include "kv/host_block_pool.h"

#include "base/error.h"

namespace pareto {

HostBlockPool::HostBlockPool(int64_t num_blocks) {
  if (num_blocks < 0 || num_blocks > INT32_MAX) {
    fail("host block pool: num_blocks must be in 0..{}, got {}", INT32_MAX, num_blocks);
  }
  in_use_.assign(static_cast<size_t>(num_blocks), false);
  free_ids_.reserve(static_cast<size_t>(num_blocks));
  // Reverse so the lowest ids go out first (easier to read in logs and tests).
  for (int64_t i = num_blocks - 1; i >= 0; --i) free_ids_.push_back(static_cast<int32_t>(i));
}

int32_t HostBlockPool::allocate() {
  if (free_ids_.empty()) fail("host block pool: no free host block (of {})", num_blocks());
  int32_t id = free_ids_.back();
  free_ids_.pop_back();
  in_use_[id] = true;
  return id;
}

void HostBlockPool::free(int32_t host_block_id) {
  if (!in_use(host_block_id)) fail("host block pool: host block {} is not in use", host_block_id);
  in_use_[host_block_id] = false;
  free_ids_.push_back(host_block_id);
}

bool HostBlockPool::in_use(int32_t host_block_id) const {
  return host_block_id >= 0 && host_block_id < num_blocks() && in_use_[host_block_id];
}

}  // namespace pareto
