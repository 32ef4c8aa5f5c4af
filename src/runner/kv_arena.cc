#include "runner/kv_arena.h"

#include <cstring>
#include <new>

#include "base/error.h"

namespace pareto {

size_t KvArena::bytes_per_block(const ModelConfig& config, int64_t block_size, DType dtype) {
  const size_t elem = dtype == DType::F16 ? 2 : 4;
  return 2 *
         static_cast<size_t>(config.num_layers * block_size * config.num_kv_heads *
                             config.head_dim) *
         elem;
}

KvArena::KvArena(const ModelConfig& config, int64_t num_blocks, int64_t block_size, DType dtype)
    : dtype_(dtype), num_blocks_(num_blocks), block_size_(block_size) {
  if (dtype != DType::F32 && dtype != DType::F16)
    fail("KV cache type must be f32 or f16, not {}", dtype_name(dtype));
  if (num_blocks <= 0 || block_size <= 0)
    fail("KV cache needs a positive number of blocks and block size, got {} blocks of {}",
         num_blocks, block_size);
  const size_t elem = dtype == DType::F16 ? 2 : 4;
  layer_block_bytes_ =
      static_cast<size_t>(block_size * config.num_kv_heads * config.head_dim) * elem;
  bytes_ = 2 * layer_block_bytes_ * static_cast<size_t>(num_blocks * config.num_layers);
  memory_.reset(new (std::nothrow) uint8_t[bytes_]);
  if (!memory_) fail("cannot allocate {} bytes for the KV cache", bytes_);
  // Touch nothing here: pages are committed as blocks are first written. Plain pages, not
  // transparent huge ones (HugePageBuffer): with THP's default "madvise" defrag, each first
  // touch of a 2 MiB page may compact memory synchronously, which put ~0.3-0.5 s on the first
  // request's time to first token and would stall later steps as the cache grows.
  for (int64_t l = 0; l < config.num_layers; ++l) {
    KvLayerView view;
    view.dtype = dtype;
    view.k = k_block(l, 0);
    view.v = v_block(l, 0);
    view.block_size = block_size;
    view.num_kv_heads = config.num_kv_heads;
    view.head_dim = config.head_dim;
    layer_views_.push_back(view);
  }
}

uint8_t* KvArena::k_block(int64_t layer, int32_t block_id) const {
  const size_t layer_bytes = layer_block_bytes_ * static_cast<size_t>(num_blocks_);
  return memory_.get() + static_cast<size_t>(layer) * 2 * layer_bytes +
         static_cast<size_t>(block_id) * layer_block_bytes_;
}

uint8_t* KvArena::v_block(int64_t layer, int32_t block_id) const {
  return k_block(layer, block_id) + layer_block_bytes_ * static_cast<size_t>(num_blocks_);
}

void KvArena::check_block(int32_t block_id) const {
  if (block_id < 0 || block_id >= num_blocks_)
    fail("KV block id {} is outside the arena of {} blocks", block_id, num_blocks_);
}

void KvArena::copy_block(int32_t src, int32_t dst) {
  check_block(src);
  check_block(dst);
  for (size_t l = 0; l < layer_views_.size(); ++l) {
    std::memcpy(k_block(static_cast<int64_t>(l), dst), k_block(static_cast<int64_t>(l), src),
                layer_block_bytes_);
    std::memcpy(v_block(static_cast<int64_t>(l), dst), v_block(static_cast<int64_t>(l), src),
                layer_block_bytes_);
  }
}

void KvArena::save_block(int32_t block_id, uint8_t* dst) const {
  check_block(block_id);
  for (size_t l = 0; l < layer_views_.size(); ++l) {
    std::memcpy(dst, k_block(static_cast<int64_t>(l), block_id), layer_block_bytes_);
    std::memcpy(dst + layer_block_bytes_, v_block(static_cast<int64_t>(l), block_id),
                layer_block_bytes_);
    dst += 2 * layer_block_bytes_;
  }
}

void KvArena::load_block(int32_t block_id, const uint8_t* src) {
  check_block(block_id);
  for (size_t l = 0; l < layer_views_.size(); ++l) {
    std::memcpy(k_block(static_cast<int64_t>(l), block_id), src, layer_block_bytes_);
    std::memcpy(v_block(static_cast<int64_t>(l), block_id), src + layer_block_bytes_,
                layer_block_bytes_);
    src += 2 * layer_block_bytes_;
  }
}

HostKvPool::HostKvPool(int64_t num_blocks, size_t block_bytes)
    : num_blocks_(num_blocks), block_bytes_(block_bytes) {
  if (num_blocks < 0) fail("swap space cannot be negative");
  if (num_blocks > 0) {
    memory_.reset(new (std::nothrow) uint8_t[static_cast<size_t>(num_blocks) * block_bytes]);
    if (!memory_) fail("cannot allocate {} blocks of swap space", num_blocks);
  }
}

uint8_t* HostKvPool::block(int32_t host_block_id) {
  if (host_block_id < 0 || host_block_id >= num_blocks_)
    fail("host KV block id {} is outside the swap space of {} blocks", host_block_id, num_blocks_);
  return memory_.get() + static_cast<size_t>(host_block_id) * block_bytes_;
}

}  // namespace pareto
