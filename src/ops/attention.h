// Causal multi-head attention with grouped-query heads, reading K/V through a block table.
//
// K and V of one layer live in blocks of `block_size` token slots:
//   k, v: [num_blocks, num_kv_heads, block_size, head_dim] in F32 or F16.
// A sequence's token at position p is in block block_table[p / block_size], slot
// p % block_size. A contiguous per-sequence cache is the special case of an identity block
// table; the paged engine passes its own tables, so this op needs no change for paging.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/dtype.h"
#include "base/thread_pool.h"

namespace pareto {

struct KvLayerView {
  DType dtype = DType::F32;  // F32 or F16
  void* k = nullptr;
  void* v = nullptr;
  int64_t block_size = 16;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;

  size_t elem_bytes() const { return dtype == DType::F16 ? 2 : 4; }
  // Byte offset of (block, slot, kv head) inside k or v. A block holds each head's rows
  // together ([kv head][slot][dim]): attention reads one head at a time, and contiguous rows
  // let the hardware prefetcher stream them instead of skipping the other heads' rows.
  size_t offset(int64_t block_id, int64_t slot, int64_t kv_head) const {
    return static_cast<size_t>(((block_id * num_kv_heads + kv_head) * block_size + slot) *
                               head_dim) *
           elem_bytes();
  }
};

// One sequence's query tokens inside a flattened batch.
struct AttentionSlice {
  int64_t token_offset = 0;  // first row of this sequence in q / out
  int64_t num_tokens = 0;
  int64_t start_pos = 0;                 // position of its first query token
  const int32_t* block_table = nullptr;  // covers positions 0..start_pos+num_tokens-1
};

// Stores K/V rows of num_tokens tokens at absolute slots (block_id * block_size + offset).
// k_new, v_new: [num_tokens, num_kv_heads, head_dim] F32; slot_mapping: [num_tokens].
void kv_store_slots(const KvLayerView& kv, const int64_t* slot_mapping, int64_t num_tokens,
                    const float* k_new, const float* v_new);

// Causal GQA attention of every slice of a flattened batch over its own sequence's K/V (which
// must already hold the slice's own tokens). q, out: [total tokens, num_heads, head_dim].
// Work is spread over (slice, token, kv head) items, so a batch of many single-token decodes
// keeps every thread busy; each KV row is loaded once for its group of query heads.
void paged_attention(const float* q, std::span<const AttentionSlice> slices, int64_t num_heads,
                     const KvLayerView& kv, float scale, float* out, ThreadPool& pool);

// Stores K/V rows of num_tokens new tokens at positions start_pos.. of one sequence.
// k_new, v_new: [num_tokens, num_kv_heads, head_dim] F32.
void kv_store(const KvLayerView& kv, const int32_t* block_table, int64_t start_pos,
              int64_t num_tokens, const float* k_new, const float* v_new);

// paged_attention with one slice: num_tokens query tokens at positions start_pos.. of one sequence
// over that sequence's cached K/V at positions 0..(own position), which must already be stored. q:
// [num_tokens, num_heads, head_dim]; out: [num_tokens, num_heads, head_dim]. Query head h reads KV
// head h / (num_heads / num_kv_heads).
void attention(const float* q, int64_t num_tokens, int64_t start_pos, int64_t num_heads,
               const KvLayerView& kv, const int32_t* block_table, float scale, float* out,
               ThreadPool& pool);

}  // namespace pareto
