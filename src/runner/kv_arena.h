// The memory of the paged KV cache: one preallocated arena of fixed-size blocks per layer,
//   k, v of layer l: [num_blocks, num_kv_heads, block_size, head_dim] in F16 or F32.
// Block ids are the plain integers the KV cache manager hands out; this class only stores,
// copies (copy-on-write) and moves (swap to a host tier) their contents.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "base/dtype.h"
#include "base/huge_page_buffer.h"
#include "model/model_config.h"
#include "ops/attention.h"

namespace pareto {

class KvArena {
 public:
  // Throws pareto::Error for a dtype other than F16/F32, a non-positive size, or when the
  // arena cannot be allocated.
  KvArena(const ModelConfig& config, int64_t num_blocks, int64_t block_size, DType dtype);
  ~KvArena();  // stops the background commit of the arena's pages
  KvArena(const KvArena&) = delete;
  KvArena& operator=(const KvArena&) = delete;

  // Bytes one block takes across all layers, K and V.
  static size_t bytes_per_block(const ModelConfig& config, int64_t block_size, DType dtype);

  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  DType dtype() const { return dtype_; }
  size_t num_bytes() const { return bytes_; }
  size_t block_bytes() const { return 2 * layer_block_bytes_ * layer_views_.size(); }

  // Blocks until the background thread has committed the arena's pages (the constructor
  // commits the first kSyncCommitBytes itself): benchmarks call it to time the steady state.
  void wait_committed();

  // [num_layers] views for Model::forward.
  std::span<const KvLayerView> layer_views() const { return layer_views_; }

  // Copies every layer's K/V of block src into block dst (copy-on-write of a shared block).
  void copy_block(int32_t src, int32_t dst);
  // Moves a block's contents (all layers, K and V; block_bytes() bytes) out to / in from host
  // memory, for preemption by swapping.
  void save_block(int32_t block_id, uint8_t* dst) const;
  void load_block(int32_t block_id, const uint8_t* src);

 private:
  // Bytes of blocks committed before the constructor returns (the rest: in the background).
  static constexpr int64_t kSyncCommitBytes = int64_t{256} << 20;
  // Commits the pages of blocks [begin, end) in every layer; false when the kernel cannot.
  bool populate_blocks(int64_t begin, int64_t end);
  uint8_t* k_block(int64_t layer, int32_t block_id) const;
  uint8_t* v_block(int64_t layer, int32_t block_id) const;
  void check_block(int32_t block_id) const;

  DType dtype_;
  int64_t num_blocks_;
  int64_t block_size_;
  size_t layer_block_bytes_;  // one block of one layer, K or V
  size_t bytes_;
  HugePageBuffer memory_;  // [num_layers][K, V][num_blocks][block]
  std::vector<KvLayerView> layer_views_;
  std::atomic<bool> stop_populating_{false};
  std::thread populator_;  // declared last: it reads the members above
};

// Host-memory tier for swapped-out blocks: num_blocks slots of the arena's block size.
class HostKvPool {
 public:
  HostKvPool(int64_t num_blocks, size_t block_bytes);
  int64_t num_blocks() const { return num_blocks_; }
  uint8_t* block(int32_t host_block_id);

 private:
  int64_t num_blocks_;
  size_t block_bytes_;
  std::unique_ptr<uint8_t[]> memory_;
};

}  // namespace pareto
