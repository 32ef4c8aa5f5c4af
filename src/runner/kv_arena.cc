#include "runner/kv_arena.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
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
  try {
    memory_ = HugePageBuffer(bytes_);
  } catch (const Error& e) {
    fail("cannot allocate {} bytes for the KV cache: {}", bytes_, e.what());
  }
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
  // Huge pages, committed ahead of use rather than as blocks are first written. A decode step
  // reads every running sequence's K/V rows from blocks scattered over the arena; on 4 KiB
  // pages those reads missed the TLB (llama-135m Q8_0, 32 sequences: 1130 -> 1330 tok/s on
  // huge pages). First touches can be slow (THP compaction; on this project's VM the host
  // faults memory in at ~0.25 GB/s): left to requests they put 0.3-0.5 s on the first one's
  // TTFT, and committing a 9 GiB arena before serving took 40 s. So the first blocks, which the
  // block pool hands out first, are committed here and the rest by a background thread.
  const int64_t sync_blocks =
      std::min<int64_t>(num_blocks, std::max<int64_t>(1, kSyncCommitBytes / block_bytes()));
  if (!populate_blocks(0, sync_blocks)) {
    memory_.populate();  // an old kernel: touch every page now, before anything is written
    return;
  }
  // Last, so that nothing after it can throw with the thread running.
  if (sync_blocks < num_blocks)
    populator_ = std::thread([this, sync_blocks] {
      const auto start = std::chrono::steady_clock::now();
      int64_t b = sync_blocks;
      for (; b < num_blocks_ && !stop_populating_.load(); b += 64)
        if (!populate_blocks(b, std::min(num_blocks_, b + 64))) break;
      // Benchmarks wait for this line: until then the thread takes CPU time and memory
      // bandwidth from the requests being served.
      if (b >= num_blocks_)
        spdlog::info(
            "KV cache: all {} MiB committed in {:.1f} s", bytes_ >> 20,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    });
}

KvArena::~KvArena() {
  stop_populating_.store(true);
  if (populator_.joinable()) populator_.join();
}

void KvArena::wait_committed() {
  if (populator_.joinable()) populator_.join();
}

bool KvArena::populate_blocks(int64_t begin, int64_t end) {
  const size_t bytes = layer_block_bytes_ * static_cast<size_t>(end - begin);
  for (size_t l = 0; l < layer_views_.size(); ++l) {
    const auto layer = static_cast<int64_t>(l);
    const auto b = static_cast<int32_t>(begin);
    if (!memory_.populate(static_cast<size_t>(k_block(layer, b) - memory_.data()), bytes) ||
        !memory_.populate(static_cast<size_t>(v_block(layer, b) - memory_.data()), bytes))
      return false;
  }
  return true;
}

uint8_t* KvArena::k_block(int64_t layer, int32_t block_id) const {
  const size_t layer_bytes = layer_block_bytes_ * static_cast<size_t>(num_blocks_);
  return memory_.data() + static_cast<size_t>(layer) * 2 * layer_bytes +
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
