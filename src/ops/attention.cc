// Flash-style paged attention: each (slice, token, kv head) item walks its context in tiles of
// kTile positions, keeping a running max / sum / output per query head (online softmax), so
// no context-length buffer exists and each K/V row is loaded and converted once per tile for
// the whole group of query heads that share it.
//
// Determinism: an item's result depends only on its query rows, its K/V values and its
// context length. Tiles are fixed position ranges [i * kTile, (i + 1) * kTile) whatever the
// block size, the batch or the thread split, and every reduction runs in a fixed order, so a
// (sequence, token, head) gives the same bits alone or in any batch, on any thread count.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "base/error.h"
#include "ops/activations.h"
#include "ops/attention.h"
#include "ops/attention_kernels.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

using attention_detail::kDimAlign;
using attention_detail::Kernels;
using attention_detail::kernels_for;
using attention_detail::kTile;

// Query tokens of a prefill chunk that share each converted K/V tile.
constexpr int64_t kQueryBlock = 16;
// Positions per segment: the online softmax restarts at every segment boundary and the
// segments' states are merged in order (merge_segment). A lone decode can then spread one
// head's context over threads (llama-135m's 3 KV heads kept one of 2 threads idle a third of
// the time), and every path, sequential or split, computes the same segments the same way.
constexpr int64_t kSegment = 128;
static_assert(kSegment % kTile == 0);

// Calls fn(p, n, src) for each run of positions [p, p + n) within [p0, p0 + count) whose rows
// of one head lie back to back (the slots of one block).
template <typename Fn>
void for_each_run(const KvLayerView& kv, const void* base, const int32_t* block_table,
                  int64_t kv_head, int64_t p0, int64_t count, Fn&& fn) {
  for (int64_t p = p0; p < p0 + count;) {
    const int64_t slot = p % kv.block_size;
    const int64_t n = std::min(kv.block_size - slot, p0 + count - p);
    fn(p, n,
       static_cast<const uint8_t*>(base) +
           kv.offset(block_table[p / kv.block_size], slot, kv_head));
    p += n;
  }
}

// Asks for the K/V rows of positions [p0, p0 + count) of one head ahead of their use: runs
// are scattered (blocks anywhere), so the hardware prefetcher cannot run ahead across them.
void prefetch_rows(const KvLayerView& kv, const void* base, const int32_t* block_table,
                   int64_t kv_head, int64_t p0, int64_t count) {
  const size_t row_bytes = static_cast<size_t>(kv.head_dim) * kv.elem_bytes();
  for_each_run(kv, base, block_table, kv_head, p0, count,
               [&](int64_t, int64_t n, const uint8_t* src) {
                 const size_t bytes = row_bytes * static_cast<size_t>(n);
                 for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(src + off, _MM_HINT_T0);
               });
}

// K/V rows of kTile positions, converted to F32 and zero-padded to padded_dim.
void load_tile(const KvLayerView& kv, const void* base, const int32_t* block_table, int64_t kv_head,
               int64_t p0, int64_t count, int64_t padded_dim, const Kernels& kernels, float* dst) {
  const int64_t dim = kv.head_dim;
  for_each_run(
      kv, base, block_table, kv_head, p0, count, [&](int64_t p, int64_t n, const uint8_t* src) {
        float* out = dst + (p - p0) * padded_dim;
        // Unpadded rows are contiguous on both sides: one conversion for the run.
        const int64_t rows = padded_dim == dim ? 1 : n;
        const int64_t len = padded_dim == dim ? n * dim : dim;
        for (int64_t r = 0; r < rows; ++r) {
          const uint8_t* in = src + static_cast<size_t>(r * dim) * kv.elem_bytes();
          if (kv.dtype == DType::F16)
            kernels.f16_to_f32(reinterpret_cast<const uint16_t*>(in), out + r * padded_dim, len);
          else
            std::memcpy(out + r * padded_dim, in, static_cast<size_t>(len) * sizeof(float));
        }
      });
}

// Buffers of one thread's attention items, kept across calls.
struct Scratch {
  std::vector<float> q, k, v, scores, acc, max, sum;
  std::vector<float> merged_acc, merged_max, merged_sum;  // the segments before the current
  void reserve(int64_t rows, int64_t padded_dim) {
    auto fit = [](std::vector<float>& b, int64_t n) {
      if (b.size() < static_cast<size_t>(n)) b.resize(static_cast<size_t>(n));
    };
    fit(q, rows * padded_dim);
    fit(k, kTile * padded_dim);
    fit(v, kTile * padded_dim);
    fit(scores, rows * kTile);
    fit(acc, rows * padded_dim);
    fit(max, rows);
    fit(sum, rows);
    fit(merged_acc, rows * padded_dim);
    fit(merged_max, rows);
    fit(merged_sum, rows);
  }
};

// One tile, positions [p0, p0 + count), for `group` query rows: scores, then each row's running
// max, sum and output (the online softmax). first: the tile opens a segment (nothing to
// rescale). max, sum: [group]; acc: [group, padded].
void tile_step(const Kernels& kr, const float* q, const float* k, const float* v, int64_t group,
               int64_t count, int64_t padded, float scale, bool first, float* scores, float* max,
               float* sum, float* acc) {
  kr.scores(q, k, group, count, padded, scale, scores);
  for (int64_t g = 0; g < group; ++g) {
    float* sc = scores + g * kTile;
    float tile_max = sc[0];
    for (int64_t j = 1; j < count; ++j) tile_max = std::max(tile_max, sc[j]);
    const float old_max = max[g];
    const float new_max = std::max(old_max, tile_max);
    const float correction = first ? 0.0f : std::exp(old_max - new_max);
    const float tile_sum = exp_shifted_isa(kr.isa, sc, count, new_max);
    sum[g] = sum[g] * correction + tile_sum;
    max[g] = new_max;
    kr.accumulate(sc, v, count, padded, correction, acc + g * padded);
  }
}

// Folds one segment's state (m2, s2, acc2) into the merged state of the segments before it
// (m, s, acc), in position order. An empty merged state (s == 0: a segment's sum is >= 1)
// takes the segment's exactly, so a context of one segment gets the unsegmented bits.
void merge_segment(float& m, float& s, float* acc, float m2, float s2, const float* acc2,
                   int64_t padded) {
  if (s == 0.0f) {
    m = m2;
    s = s2;
    std::memcpy(acc, acc2, static_cast<size_t>(padded) * sizeof(float));
    return;
  }
  const float nm = std::max(m, m2);
  const float c1 = std::exp(m - nm), c2 = std::exp(m2 - nm);
  s = s * c1 + s2 * c2;
  for (int64_t i = 0; i < padded; ++i) acc[i] = acc[i] * c1 + acc2[i] * c2;
  m = nm;
}

// Starts `rows` query rows (row r at q + r / group * q_stride + r % group * dim) on the
// scratch: padded copies, so the kernels run whole vectors with zeros in the tail lanes, which
// add nothing to dot products or outputs; K/V tails zeroed once (rows only ever get dim values
// written); each row's online-softmax state empty.
void begin_rows(Scratch& s, const float* q, int64_t rows, int64_t group, int64_t q_stride,
                int64_t dim, int64_t padded) {
  s.reserve(rows, padded);
  std::fill(s.q.begin(), s.q.begin() + rows * padded, 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(&s.q[static_cast<size_t>(r * padded)], q + r / group * q_stride + r % group * dim,
                static_cast<size_t>(dim) * sizeof(float));
  if (padded != dim) {
    std::fill(s.k.begin(), s.k.begin() + kTile * padded, 0.0f);
    std::fill(s.v.begin(), s.v.begin() + kTile * padded, 0.0f);
  }
  std::fill(s.acc.begin(), s.acc.begin() + rows * padded, 0.0f);
  std::fill(s.max.begin(), s.max.begin() + rows, -std::numeric_limits<float>::infinity());
  std::fill(s.sum.begin(), s.sum.begin() + rows, 0.0f);
}

// Loads and converts K and V of positions [p0, min(p0 + kTile, end)) into the scratch, after
// asking for the next tile's rows below end. Returns the tile's position count.
int64_t load_kv_tile(const Kernels& kr, const KvLayerView& kv, const int32_t* block_table,
                     int64_t kv_head, int64_t p0, int64_t end, int64_t padded, Scratch& s) {
  if (p0 + kTile < end) {
    const int64_t next = std::min(kTile, end - p0 - kTile);
    prefetch_rows(kv, kv.k, block_table, kv_head, p0 + kTile, next);
    prefetch_rows(kv, kv.v, block_table, kv_head, p0 + kTile, next);
  }
  const int64_t count = std::min(kTile, end - p0);
  load_tile(kv, kv.k, block_table, kv_head, p0, count, padded, kr, s.k.data());
  load_tile(kv, kv.v, block_table, kv_head, p0, count, padded, kr, s.v.data());
  return count;
}

// out[i] = acc[i] / sum for i < dim: one output row from its merged state.
void write_row(const float* acc, float sum, int64_t dim, float* out) {
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < dim; ++i) out[i] = acc[i] * inv;
}

// Per-thread buffers of the attention items (pool workers live as long as the pool).
Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Consecutive query tokens of one sequence, [first_ctx - 1, first_ctx - 1 + num_queries) in
// positions, and one KV head: out rows of the group's query heads for each token. Query t sees
// first_ctx + t positions. Each K/V tile is loaded and converted once for all the tokens (a
// prefill chunk re-read every tile once per token before); each token then runs exactly the
// steps it runs alone (same tiles, same counts, same kernels), so its bits do not depend on
// which tokens share its item. q_stride: floats from one token's rows to the next's.
void attend_block(const Kernels& kr, const KvLayerView& kv, const int32_t* block_table,
                  int64_t first_ctx, int64_t num_queries, int64_t kv_head, int64_t group,
                  const float* q, int64_t q_stride, float scale, float* out, Scratch& s) {
  const int64_t dim = kv.head_dim;
  const int64_t padded = (dim + kDimAlign - 1) / kDimAlign * kDimAlign;
  const int64_t rows = num_queries * group;  // row r: token r / group, head r % group
  begin_rows(s, q, rows, group, q_stride, dim, padded);
  std::fill(s.merged_sum.begin(), s.merged_sum.begin() + rows, 0.0f);

  const int64_t last_ctx = first_ctx + num_queries - 1;
  for (int64_t p0 = 0; p0 < last_ctx; p0 += kTile) {
    load_kv_tile(kr, kv, block_table, kv_head, p0, last_ctx, padded, s);
    // Tokens whose context ends before this tile are done (contexts grow with t).
    for (int64_t t = std::max<int64_t>(0, p0 + 1 - first_ctx); t < num_queries; ++t) {
      const int64_t ctx = first_ctx + t;
      const int64_t count = std::min(kTile, ctx - p0);
      const size_t r0 = static_cast<size_t>(t * group);
      tile_step(kr, &s.q[r0 * padded], s.k.data(), s.v.data(), group, count, padded, scale,
                p0 % kSegment == 0, &s.scores[r0 * kTile], &s.max[r0], &s.sum[r0],
                &s.acc[r0 * padded]);
      if ((p0 + kTile) % kSegment != 0 && p0 + kTile < ctx) continue;
      // The segment (or the token's context) ends here: fold it in and start afresh.
      for (size_t r = r0; r < r0 + static_cast<size_t>(group); ++r) {
        merge_segment(s.merged_max[r], s.merged_sum[r], &s.merged_acc[r * padded], s.max[r],
                      s.sum[r], &s.acc[r * padded], padded);
        s.max[r] = -std::numeric_limits<float>::infinity();
        s.sum[r] = 0.0f;
        std::fill_n(&s.acc[r * padded], padded, 0.0f);
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    write_row(&s.merged_acc[static_cast<size_t>(r * padded)], s.merged_sum[static_cast<size_t>(r)],
              dim, out + r / group * q_stride + r % group * dim);
}

// One segment of one decode token's context, [seg_begin, min(seg_begin + kSegment, ctx)), for
// one KV head's group of query rows: the same tiles and steps as attend_block, left
// unnormalized in state = [group rows of (max, sum, acc[padded])] for merge_segment.
void attend_segment(const Kernels& kr, const KvLayerView& kv, const int32_t* block_table,
                    int64_t ctx, int64_t seg_begin, int64_t kv_head, int64_t group, const float* q,
                    float scale, float* state, Scratch& s) {
  const int64_t dim = kv.head_dim;
  const int64_t padded = (dim + kDimAlign - 1) / kDimAlign * kDimAlign;
  begin_rows(s, q, group, group, 0, dim, padded);  // one token: its rows are back to back
  const int64_t seg_end = std::min(seg_begin + kSegment, ctx);
  for (int64_t p0 = seg_begin; p0 < seg_end; p0 += kTile) {
    const int64_t count = load_kv_tile(kr, kv, block_table, kv_head, p0, seg_end, padded, s);
    tile_step(kr, s.q.data(), s.k.data(), s.v.data(), group, count, padded, scale, p0 == seg_begin,
              s.scores.data(), s.max.data(), s.sum.data(), s.acc.data());
  }
  for (int64_t g = 0; g < group; ++g) {
    float* st = state + g * (padded + 2);
    st[0] = s.max[static_cast<size_t>(g)];
    st[1] = s.sum[static_cast<size_t>(g)];
    std::memcpy(st + 2, &s.acc[static_cast<size_t>(g * padded)],
                static_cast<size_t>(padded) * sizeof(float));
  }
}

// Lone decode tokens with long contexts (every slice one token): one item per (token, KV head,
// segment), so a few heads' contexts spread over all threads; the segments' states are then
// merged in order exactly as attend_block merges them, so the bits are the same.
void attend_split(const Kernels& kr, const float* q, std::span<const AttentionSlice> slices,
                  int64_t num_heads, const KvLayerView& kv, int64_t group, float scale, float* out,
                  ThreadPool& pool) {
  const int64_t dim = kv.head_dim;
  const int64_t padded = (dim + kDimAlign - 1) / kDimAlign * kDimAlign;
  const int64_t state_floats = group * (padded + 2);
  const int64_t num_pairs = static_cast<int64_t>(slices.size()) * kv.num_kv_heads;
  // first_item[p]: the first segment item of (slice p / kv heads, KV head p % kv heads).
  thread_local std::vector<int64_t> first_item;
  first_item.assign(static_cast<size_t>(num_pairs + 1), 0);
  for (int64_t p = 0; p < num_pairs; ++p) {
    const int64_t ctx = slices[static_cast<size_t>(p / kv.num_kv_heads)].start_pos + 1;
    first_item[static_cast<size_t>(p + 1)] =
        first_item[static_cast<size_t>(p)] + (ctx + kSegment - 1) / kSegment;
  }
  const int64_t num_items = first_item.back();
  thread_local std::vector<float> states;
  states.resize(static_cast<size_t>(num_items * state_floats));
  const int64_t* firsts = first_item.data();
  float* st = states.data();
  pool.parallel_for(num_items, [&](int64_t begin, int64_t end, int) {
    Scratch& scratch = thread_scratch();
    int64_t p = std::upper_bound(firsts, firsts + num_pairs + 1, begin) - firsts - 1;
    for (int64_t item = begin; item < end; ++item) {
      while (item >= firsts[p + 1]) ++p;
      const AttentionSlice& sl = slices[static_cast<size_t>(p / kv.num_kv_heads)];
      const int64_t kvh = p % kv.num_kv_heads;
      attend_segment(kr, kv, sl.block_table, sl.start_pos + 1, (item - firsts[p]) * kSegment, kvh,
                     group, q + (sl.token_offset * num_heads + kvh * group) * dim, scale,
                     st + item * state_floats, scratch);
    }
  });
  thread_local std::vector<float> acc;
  acc.resize(static_cast<size_t>(padded));
  for (int64_t p = 0; p < num_pairs; ++p) {
    const AttentionSlice& sl = slices[static_cast<size_t>(p / kv.num_kv_heads)];
    const int64_t kvh = p % kv.num_kv_heads;
    for (int64_t g = 0; g < group; ++g) {
      float m = -std::numeric_limits<float>::infinity(), sum = 0.0f;
      for (int64_t item = firsts[p]; item < firsts[p + 1]; ++item) {
        const float* seg = st + item * state_floats + g * (padded + 2);
        merge_segment(m, sum, acc.data(), seg[0], seg[1], seg + 2, padded);
      }
      write_row(acc.data(), sum, dim, out + (sl.token_offset * num_heads + kvh * group + g) * dim);
    }
  }
}

void store_row(const KvLayerView& kv, void* base, size_t offset, const float* src) {
  auto* p = static_cast<uint8_t*>(base) + offset;
  if (kv.dtype == DType::F16) {
    attention_detail::f32_to_f16_row(src, reinterpret_cast<uint16_t*>(p), kv.head_dim);
  } else {
    std::memcpy(p, src, static_cast<size_t>(kv.head_dim) * sizeof(float));
  }
}

void check_view(const KvLayerView& kv, int64_t num_heads) {
  if (kv.dtype != DType::F32 && kv.dtype != DType::F16)
    fail("attention: KV type {} is not F32 or F16", dtype_name(kv.dtype));
  if (kv.num_kv_heads <= 0 || kv.head_dim <= 0 || kv.block_size <= 0)
    fail("attention: bad KV shape (kv heads {}, head dim {}, block size {})", kv.num_kv_heads,
         kv.head_dim, kv.block_size);
  if (num_heads % kv.num_kv_heads != 0)
    fail("attention: {} query heads are not a multiple of {} KV heads", num_heads, kv.num_kv_heads);
}

}  // namespace

void kv_store(const KvLayerView& kv, const int32_t* block_table, int64_t start_pos,
              int64_t num_tokens, const float* k_new, const float* v_new) {
  for (int64_t t = 0; t < num_tokens; ++t) {
    const int64_t pos = start_pos + t;
    const int64_t block_id = block_table[pos / kv.block_size];
    const int64_t slot = pos % kv.block_size;
    for (int64_t h = 0; h < kv.num_kv_heads; ++h) {
      const size_t off = kv.offset(block_id, slot, h);
      const int64_t src = (t * kv.num_kv_heads + h) * kv.head_dim;
      store_row(kv, kv.k, off, k_new + src);
      store_row(kv, kv.v, off, v_new + src);
    }
  }
}

void kv_store_slots(const KvLayerView& kv, const int64_t* slot_mapping, int64_t num_tokens,
                    const float* k_new, const float* v_new) {
  for (int64_t t = 0; t < num_tokens; ++t) {
    const int64_t block_id = slot_mapping[t] / kv.block_size;
    const int64_t slot = slot_mapping[t] % kv.block_size;
    for (int64_t h = 0; h < kv.num_kv_heads; ++h) {
      const size_t off = kv.offset(block_id, slot, h);
      const int64_t src = (t * kv.num_kv_heads + h) * kv.head_dim;
      store_row(kv, kv.k, off, k_new + src);
      store_row(kv, kv.v, off, v_new + src);
    }
  }
}

void attention(const float* q, int64_t num_tokens, int64_t start_pos, int64_t num_heads,
               const KvLayerView& kv, const int32_t* block_table, float scale, float* out,
               ThreadPool& pool) {
  const AttentionSlice slice{0, num_tokens, start_pos, block_table};
  paged_attention(q, {&slice, 1}, num_heads, kv, scale, out, pool);
}

// paged_attention with a pinned SIMD level (tests hold every level to the reference). Declared
// in the test until an ops/attention_isa.h exists.
void paged_attention_isa(SimdIsa isa, const float* q, std::span<const AttentionSlice> slices,
                         int64_t num_heads, const KvLayerView& kv, float scale, float* out,
                         ThreadPool& pool) {
  if (!cpu_supports(isa)) fail("attention: this CPU cannot run {} code", simd_isa_name(isa));
  check_view(kv, num_heads);
  const Kernels kernels = kernels_for(isa);
  const int64_t group = num_heads / kv.num_kv_heads;
  // A slice's tokens are taken kQueryBlock at a time (one at a time for a decode): each K/V
  // tile is then converted once per block instead of once per token.
  auto block_tokens = [](const AttentionSlice& sl) { return sl.num_tokens > 1 ? kQueryBlock : 1; };
  auto blocks_of = [&](const AttentionSlice& sl) {
    return (sl.num_tokens + block_tokens(sl) - 1) / block_tokens(sl);
  };
  int64_t num_blocks = 0, total_ctx = 0;
  for (const AttentionSlice& sl : slices) {
    num_blocks += blocks_of(sl);
    total_ctx += sl.num_tokens * (sl.start_pos + sl.num_tokens);
  }
  if (num_blocks == 0) return;
  // Items are (slice, query block, run of heads_per_item KV heads). With enough blocks to
  // share out, an item takes all of a block's heads: a KV block keeps them back to back, so
  // the item reads each block's K and V as one run that the hardware prefetcher follows. Few
  // blocks (a single decode) split by head instead, so every thread has work. Either way each
  // (token, head) is computed alone, in the same order.
  const int64_t heads_per_item = num_blocks >= 4 * pool.num_threads() ? kv.num_kv_heads : 1;
  // Still few items, all lone decodes, and a context past one segment: split by segment too.
  if (heads_per_item == 1 && pool.num_threads() > 1) {
    bool decodes = true;
    int64_t max_ctx = 0;
    for (const AttentionSlice& sl : slices) {
      decodes = decodes && sl.num_tokens == 1;
      max_ctx = std::max(max_ctx, sl.start_pos + 1);
    }
    if (decodes && max_ctx > kSegment) {
      attend_split(kernels, q, slices, num_heads, kv, group, scale, out, pool);
      return;
    }
  }
  const int64_t items_per_block = kv.num_kv_heads / heads_per_item;
  // item_start[i] is the first item of slice i.
  thread_local std::vector<int64_t> item_start;
  item_start.assign(slices.size() + 1, 0);
  for (size_t i = 0; i < slices.size(); ++i)
    item_start[i + 1] = item_start[i] + blocks_of(slices[i]) * items_per_block;
  const int64_t num_items = item_start.back();
  // Group items so that a thread's share is worth waking it for (~64K multiply-adds).
  const int64_t macs_per_item =
      std::max<int64_t>(1, 2 * total_ctx * group * heads_per_item * kv.head_dim / num_blocks);
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / macs_per_item);
  const int64_t* starts = item_start.data();
  const size_t num_slices = slices.size();
  // An item's tokens: [first, first + count) of its slice, and its first KV head.
  struct ItemPlace {
    int64_t first, count, kvh0;
  };
  auto place = [&](const AttentionSlice& sl, int64_t local) {
    const int64_t bt = block_tokens(sl);
    const int64_t first = local / items_per_block * bt;
    return ItemPlace{first, std::min(bt, sl.num_tokens - first),
                     local % items_per_block * heads_per_item};
  };
  pool.parallel_for(
      num_items,
      [&](int64_t begin, int64_t end, int) {
        Scratch& scratch = thread_scratch();
        size_t si = static_cast<size_t>(std::upper_bound(starts, starts + num_slices + 1, begin) -
                                        starts - 1);
        // An item's first tiles are requested while the item before it runs (and the first
        // item's at once), so no item starts by waiting for memory.
        size_t next_si = si;
        auto prefetch_first_tile = [&](int64_t item) {
          while (item >= starts[next_si + 1]) ++next_si;
          const AttentionSlice& sl = slices[next_si];
          const ItemPlace at = place(sl, item - starts[next_si]);
          const int64_t last_ctx = sl.start_pos + at.first + at.count;
          for (int64_t kvh = at.kvh0; kvh < at.kvh0 + heads_per_item; ++kvh) {
            prefetch_rows(kv, kv.k, sl.block_table, kvh, 0, std::min(kTile, last_ctx));
            prefetch_rows(kv, kv.v, sl.block_table, kvh, 0, std::min(kTile, last_ctx));
          }
        };
        prefetch_first_tile(begin);
        for (int64_t item = begin; item < end; ++item) {
          if (item + 1 < end) prefetch_first_tile(item + 1);
          while (item >= starts[si + 1]) ++si;
          const AttentionSlice& sl = slices[si];
          const ItemPlace at = place(sl, item - starts[si]);
          const int64_t row = sl.token_offset + at.first;
          for (int64_t kvh = at.kvh0; kvh < at.kvh0 + heads_per_item; ++kvh) {
            const int64_t offset = (row * num_heads + kvh * group) * kv.head_dim;
            attend_block(kernels, kv, sl.block_table, sl.start_pos + at.first + 1, at.count, kvh,
                         group, q + offset, num_heads * kv.head_dim, scale, out + offset, scratch);
          }
        }
      },
      grain);
}

void paged_attention(const float* q, std::span<const AttentionSlice> slices, int64_t num_heads,
                     const KvLayerView& kv, float scale, float* out, ThreadPool& pool) {
  paged_attention_isa(active_simd_isa(), q, slices, num_heads, kv, scale, out, pool);
}

}  // namespace pareto
