// The host-memory tier's slots for swapped-out blocks, as bookkeeping (ids only; the runner's
// HostKvPool holds the bytes). Each host block belongs to at most one swapped sequence.
#pragma once

#include <cstdint>
#include <vector>

namespace pareto {

class HostBlockPool {
 public:
  // num_blocks may be 0 (no swap space). Throws pareto::Error if negative.
  explicit HostBlockPool(int64_t num_blocks);

  int64_t num_blocks() const { return static_cast<int64_t>(in_use_.size()); }
  int64_t num_free_blocks() const { return static_cast<int64_t>(free_ids_.size()); }
  // Throws pareto::Error when none is free.
  int32_t allocate();
  // Throws pareto::Error for an id that is not in use.
  void free(int32_t host_block_id);
  bool in_use(int32_t host_block_id) const;

 private:
  std::vector<int32_t> free_ids_;  // a stack: the next allocation pops the back
  std::vector<bool> in_use_;
};

}  // namespace pareto
