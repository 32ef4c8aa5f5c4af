// matmul: argument checks, activation preparation, cache blocking and the thread split. The
// arithmetic lives in the per-ISA tile kernels (matmul_kernels.h) and, for the scalar level and
// the remaining weight types, in the dequantizing fallback (matmul_generic.h).
#include "ops/matmul.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "ops/matmul_generic.h"
#include "ops/matmul_isa.h"
#include "ops/matmul_kernels.h"
#include "ops/matmul_quant_act.h"
#include "weights/dequantize.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

using matmul_detail::ActKind;
using matmul_detail::TileTable;

// Weight rows per cache panel: every token tile of the batch sweeps a panel while it sits in L2,
// so each weight byte is read from memory once per call however many tokens there are.
constexpr int64_t kPanelBytes = 192 * 1024;
// Waking a worker costs microseconds; below ~64K multiply-adds per share a small matmul is
// faster on one thread (tiny models such as stories260K run 5x faster for it).
constexpr int64_t kMinMacsPerShare = 1 << 16;
// Below this many activations, quantizing them is not worth a parallel_for of its own.
constexpr int64_t kMinParallelQuantize = 1 << 15;
// Rows pack_weights packs together: groups of kGroupRows, units of kHalfUnitRows for F16 and
// BF16; and the largest such unit.
int64_t pack_unit_rows(DType t) {
  return t == DType::F16 || t == DType::BF16 ? matmul_detail::kHalfUnitRows
                                             : matmul_detail::kGroupRows;
}
constexpr int64_t kPackUnitRows = matmul_detail::kHalfUnitRows;
// Matrices one matmul_multi call takes (Q/K/V, gate/up).
constexpr int kMaxMulti = 4;

void check_args(const WeightMatrix& w, const float* x, int64_t num_tokens, const float* y) {
  if (!can_dequantize(w.type)) fail("matmul: unsupported weight type {}", dtype_name(w.type));
  if (w.in_features < 0 || w.out_features < 0 || num_tokens < 0)
    fail("matmul: negative size (K={}, N={}, tokens={})", w.in_features, w.out_features,
         num_tokens);
  const int64_t block = traits(w.type).block_elems;
  if (w.in_features % block != 0)
    fail("matmul: K={} is not a multiple of {}'s block of {}", w.in_features, dtype_name(w.type),
         block);
  if (num_tokens > 0 && w.out_features > 0 && w.in_features > 0 &&
      (w.data == nullptr || x == nullptr || y == nullptr))
    fail("matmul: null pointer");
}

const TileTable* tile_table(SimdIsa isa, DType t) {
  switch (isa) {
    case SimdIsa::kAvx512: {
      // SimdIsa::kAvx512 does not promise VNNI; without it the AVX2 kernels do the work.
      static const bool vnni = __builtin_cpu_supports("avx512vnni");
      return vnni ? matmul_detail::tiles_avx512(t) : matmul_detail::tiles_avx2(t);
    }
    case SimdIsa::kAvx2:
      return matmul_detail::tiles_avx2(t);
    case SimdIsa::kScalar:
      break;
  }
  return nullptr;
}

// Activations in the form the kernels read: num_tokens rows, row_bytes apart.
struct PreparedActs {
  const uint8_t* data;
  size_t row_bytes;
  int64_t num_blocks;  // K in units of the weight type's block
};

// How a table wants its activations; tables with equal keys can share one prepared copy.
struct ActKey {
  ActKind act;
  int32_t zero_point;
  matmul_detail::QuantizeFn quantize;
  bool operator==(const ActKey&) const = default;
};

ActKey act_key(const TileTable& tab) {
  return {tab.act, tab.act == ActKind::kF32 ? 0 : tab.zero_point, tab.quantize};
}

// slot: which of the calling thread's buffers to fill (a matmul_multi call prepares up to
// kMaxMulti copies at once).
PreparedActs prepare_acts(const TileTable& tab, int64_t k, const float* x, int64_t num_tokens,
                          ThreadPool& pool, int slot) {
  if (tab.act == ActKind::kF32)
    return {reinterpret_cast<const uint8_t*>(x), static_cast<size_t>(k) * sizeof(float), k};
  int64_t num_blocks = 0;
  size_t row_bytes = 0;
  switch (tab.act) {
    case ActKind::kQ8:
      num_blocks = k / 32;
      row_bytes = static_cast<size_t>(num_blocks) * sizeof(ActQ8);
      break;
    default:
      num_blocks = k / 256;
      row_bytes = static_cast<size_t>(num_blocks) * sizeof(ActQ8K);
      break;
  }
  // Owned by the calling thread and kept across calls (they only grow); the workers read them
  // during this call's parallel_for.
  thread_local std::vector<uint8_t> buffers[kMaxMulti];
  std::vector<uint8_t>& buffer = buffers[slot];
  if (buffer.size() < row_bytes * static_cast<size_t>(num_tokens))
    buffer.resize(row_bytes * static_cast<size_t>(num_tokens));
  uint8_t* out = buffer.data();
  auto quantize = [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      uint8_t* row = out + static_cast<size_t>(t) * row_bytes;
      if (tab.quantize != nullptr)
        tab.quantize(x + t * k, k, tab.zero_point, row);
      else if (tab.act == ActKind::kQ8)
        quantize_act_q8(x + t * k, k, tab.zero_point, reinterpret_cast<ActQ8*>(row));
      else
        quantize_act_q8k(x + t * k, k, reinterpret_cast<ActQ8K*>(row));
    }
  };
  // Each row is quantized on its own, so the split cannot change the result.
  if (num_tokens * k < kMinParallelQuantize)
    quantize(0, num_tokens, 0);
  else
    pool.parallel_for(num_tokens, quantize);
  return {out, row_bytes, num_blocks};
}

// The calling thread's buffer for one group of num_blocks packed blocks, 64-byte aligned.
uint8_t* group_buffer(int64_t num_blocks) {
  const size_t bytes = static_cast<size_t>(num_blocks) * matmul_detail::kPackedBlockBytes;
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < bytes + 64) buffer.resize(bytes + 64);
  return buffer.data() + (-reinterpret_cast<uintptr_t>(buffer.data()) & 63);
}

// tab.group over every token tile of one group of rows (r0 .. r0 + rows) already in `packed`.
void run_group_tiles(const TileTable& tab, const uint8_t* packed, const PreparedActs& acts,
                     int64_t num_tokens, float* y, int64_t n, int64_t r0, int rows) {
  using matmul_detail::kMaxTileTokens;
  for (int64_t t0 = 0; t0 < num_tokens; t0 += kMaxTileTokens) {
    const int64_t tokens = std::min<int64_t>(kMaxTileTokens, num_tokens - t0);
    tab.group[tokens - 1](packed, acts.data + static_cast<size_t>(t0) * acts.row_bytes,
                          acts.row_bytes, acts.num_blocks, y + t0 * n + r0, n, rows);
  }
}

// run_rows for packed-group kernels: each group of rows is packed once, into a buffer of the
// calling thread that stays in cache while every token tile reads it (a single tile packs in
// registers instead).
void run_groups(const TileTable& tab, const WeightMatrix& w, const PreparedActs& acts,
                int64_t num_tokens, float* y, int64_t row_begin, int64_t row_end) {
  using matmul_detail::kGroupRows;
  using matmul_detail::kMaxTileTokens;
  const size_t w_stride = w.row_stride();
  const int64_t n = w.out_features;
  if (num_tokens <= kMaxTileTokens) {
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kGroupRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kGroupRows, row_end - r0));
      tab.direct[num_tokens - 1](w.row(r0), w_stride, rows, acts.data, acts.row_bytes,
                                 acts.num_blocks, y + r0, n);
    }
    return;
  }
  uint8_t* packed = group_buffer(acts.num_blocks);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kGroupRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kGroupRows, row_end - r0));
    tab.pack(w.row(r0), w_stride, rows, acts.num_blocks, packed);
    run_group_tiles(tab, packed, acts, num_tokens, y, n, r0, rows);
  }
}

// The most token tiles of a resident call that prefetch the next group (TileTable::
// prefetch_next_group): up to 64 tokens (at 64 sequences tinyllama Q8_0 measured +3-4% with it;
// at 512-token prefill, with it on all 64 tiles, 2-4% slower).
constexpr int64_t kPrefetchSpreadTiles = 8;

// run_rows for a matrix in the resident packed layout; row_begin and row_end are multiples of
// kGroupRows (matmul_multi_isa aligns the shares).
void run_resident(const TileTable& tab, const WeightMatrix& w, const PreparedActs& acts,
                  int64_t num_tokens, float* y, int64_t row_begin, int64_t row_end) {
  using matmul_detail::kGroupRows;
  using matmul_detail::kMaxTileTokens;
  const size_t group_bytes = w.row_stride() * kGroupRows;
  const int64_t n = w.out_features;
  if (tab.expand == nullptr || num_tokens <= matmul_detail::kExpandTokens) {
    // With a few token tiles (batched decode) only the first reads the group from memory and
    // the rest find it in cache, so memory idles most of the call; where the table asks for it,
    // each tile asks for its share of the next group instead (tinyllama Q8_0 at 32 sequences
    // +7-16%, BENCHMARKS.md). With many tiles (prefill) the first tile's wait is a small share,
    // and the shares' bookkeeping measured slower. A share's first group, and a lone tile,
    // stream their own.
    const int64_t tiles = (num_tokens + kMaxTileTokens - 1) / kMaxTileTokens;
    const int64_t slice = static_cast<int64_t>(group_bytes + tiles - 1) / tiles;
    const bool spread = tab.prefetch_next_group && tiles > 1 && tiles <= kPrefetchSpreadTiles;
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kGroupRows) {
      const uint8_t* group = static_cast<const uint8_t*>(w.data) + (r0 / kGroupRows) * group_bytes;
      const bool has_next = spread && r0 + kGroupRows < row_end;
      for (int64_t i = 0; i < tiles; ++i) {
        const int64_t t0 = i * kMaxTileTokens;
        const int64_t tokens = std::min<int64_t>(kMaxTileTokens, num_tokens - t0);
        const bool own_stream = !has_next || (i == 0 && r0 == row_begin);
        const int64_t ahead_bytes =
            std::min<int64_t>(slice, static_cast<int64_t>(group_bytes) - i * slice);
        tab.resident[tokens - 1](group, acts.data + static_cast<size_t>(t0) * acts.row_bytes,
                                 acts.row_bytes, acts.num_blocks, y + t0 * n + r0, n,
                                 own_stream ? nullptr : group + group_bytes + i * slice,
                                 own_stream ? 0 : ahead_bytes);
      }
    }
    return;
  }
  // Many token tiles (Q4_0): each group is unpacked once into an aligned buffer they all read,
  // instead of each tile splitting the nibbles again. For a few tiles, or for Q8_0 (whose
  // resident layout needs no unpacking), writing the copy costs more than it saves (a third of
  // the matmul time at 32 tokens).
  uint8_t* expanded = group_buffer(acts.num_blocks);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kGroupRows) {
    tab.expand(static_cast<const uint8_t*>(w.data) + (r0 / kGroupRows) * group_bytes,
               acts.num_blocks, expanded);
    run_group_tiles(tab, expanded, acts, num_tokens, y, n, r0, kGroupRows);
  }
}

// run_rows for F16/BF16 matrices in the resident packed layout (row_begin a multiple of
// kHalfUnitRows): every token tile sweeps a panel of units while it sits in L2.
void run_half(const TileTable& tab, const WeightMatrix& w, const PreparedActs& acts,
              int64_t num_tokens, float* y, int64_t row_begin, int64_t row_end) {
  using matmul_detail::kHalfTileTokens;
  using matmul_detail::kHalfUnitRows;
  const size_t unit_bytes = w.row_stride() * kHalfUnitRows;
  const int64_t n = w.out_features;
  const int64_t panel_rows =
      std::max<int64_t>(1, static_cast<int64_t>(kPanelBytes / unit_bytes)) * kHalfUnitRows;
  const uint8_t* units = static_cast<const uint8_t*>(w.data);
  for (int64_t p0 = row_begin; p0 < row_end; p0 += panel_rows) {
    const int64_t p1 = std::min(row_end, p0 + panel_rows);
    for (int64_t t0 = 0; t0 < num_tokens; t0 += kHalfTileTokens) {
      const int64_t tokens = std::min<int64_t>(kHalfTileTokens, num_tokens - t0);
      const uint8_t* act = acts.data + static_cast<size_t>(t0) * acts.row_bytes;
      for (int64_t r = p0; r < p1; r += kHalfUnitRows)
        tab.half[tokens - 1](units + static_cast<size_t>(r / kHalfUnitRows) * unit_bytes, act,
                             acts.row_bytes, acts.num_blocks, y + t0 * n + r, n);
    }
  }
}

// Outputs y[:, row_begin..row_end) for every token.
void run_rows(const TileTable& tab, const WeightMatrix& w, const PreparedActs& acts,
              int64_t num_tokens, float* y, int64_t row_begin, int64_t row_end) {
  if (w.packed && tab.half[0] != nullptr) {
    run_half(tab, w, acts, num_tokens, y, row_begin, row_end);
    return;
  }
  if (w.packed) {
    run_resident(tab, w, acts, num_tokens, y, row_begin, row_end);
    return;
  }
  if (tab.pack != nullptr) {
    run_groups(tab, w, acts, num_tokens, y, row_begin, row_end);
    return;
  }
  const size_t w_stride = w.row_stride();
  const int64_t n = w.out_features;
  const int64_t tr = tab.tile_rows, tt = tab.tile_tokens;
  const int64_t panel_rows =
      std::max<int64_t>(tr, static_cast<int64_t>(kPanelBytes / w_stride) / tr * tr);
  for (int64_t p0 = row_begin; p0 < row_end; p0 += panel_rows) {
    const int64_t p1 = std::min(row_end, p0 + panel_rows);
    for (int64_t t0 = 0; t0 < num_tokens; t0 += tt) {
      const int64_t tokens = std::min(tt, num_tokens - t0);
      const uint8_t* act = acts.data + static_cast<size_t>(t0) * acts.row_bytes;
      for (int64_t r0 = p0; r0 < p1; r0 += tr) {
        const int64_t rows = std::min(tr, p1 - r0);
        tab.fn[rows - 1][tokens - 1](w.row(r0), w_stride, act, acts.row_bytes, acts.num_blocks,
                                     y + t0 * n + r0, n);
      }
    }
  }
}

}  // namespace

void matmul_multi_isa(SimdIsa isa, const MatmulTarget* targets, int count, const float* x,
                      int64_t num_tokens, ThreadPool& pool) {
  if (count < 0 || count > kMaxMulti)
    fail("matmul: {} matrices in one call (at most {})", count, kMaxMulti);
  const int64_t k = count > 0 ? targets[0].w.in_features : 0;
  for (int i = 0; i < count; ++i) {
    check_args(targets[i].w, x, num_tokens, targets[i].y);
    if (targets[i].w.in_features != k)
      fail("matmul: matrices of one call differ in K ({} and {})", k, targets[i].w.in_features);
  }
  if (!cpu_supports(isa)) fail("matmul: this CPU cannot run {} code", simd_isa_name(isa));
  if (num_tokens == 0) return;

  // The matrices the tile kernels take, each with its prepared activations (shared between
  // matrices that want the same form) and its first row in one index space over all of them.
  struct Job {
    const TileTable* tab;
    const MatmulTarget* target;
    PreparedActs acts;
    int64_t row_offset;
  };
  Job jobs[kMaxMulti];
  ActKey keys[kMaxMulti];
  PreparedActs prepared[kMaxMulti];
  int num_jobs = 0, num_prepared = 0;
  int64_t total_rows = 0;
  int64_t packed_unit = 0;  // the largest packing unit (rows) of a packed matrix, if any
  for (int i = 0; i < count; ++i) {
    const MatmulTarget& tg = targets[i];
    if (tg.w.out_features == 0) continue;
    if (k == 0) {
      std::fill(tg.y, tg.y + num_tokens * tg.w.out_features, 0.0f);
      continue;
    }
    const TileTable* tab = tile_table(isa, tg.w.type);
    if (tg.w.packed && (tab == nullptr || tab->repack == nullptr))
      fail("matmul: {} weights packed for AVX-512 VNNI, which {} kernels cannot read",
           dtype_name(tg.w.type), simd_isa_name(isa));
    if (tab == nullptr) {
      matmul_generic(isa, tg.w, x, num_tokens, tg.y, pool);
      continue;
    }
    const ActKey key = act_key(*tab);
    int slot = 0;
    while (slot < num_prepared && !(keys[slot] == key)) ++slot;
    if (slot == num_prepared) {
      keys[slot] = key;
      prepared[slot] = prepare_acts(*tab, k, x, num_tokens, pool, slot);
      ++num_prepared;
    }
    // Each matrix starts on a boundary of the largest packing unit (whole groups either way),
    // so no share splits a packed group or unit.
    total_rows = (total_rows + kPackUnitRows - 1) / kPackUnitRows * kPackUnitRows;
    jobs[num_jobs++] = {tab, &tg, prepared[slot], total_rows};
    if (tg.w.packed) packed_unit = std::max(packed_unit, pack_unit_rows(tg.w.type));
    total_rows += tg.w.out_features;
  }
  if (num_jobs == 0) return;

  // One parallel_for over the rows of all matrices: one wake-up and one wait instead of one
  // per matrix. Every row costs K * num_tokens multiply-adds whatever its matrix.
  const int64_t macs_per_row = k * num_tokens;
  int64_t grain = (kMinMacsPerShare + macs_per_row - 1) / macs_per_row;
  // Shares of whole packing units when a matrix is packed (16 rows; 32 for F16/BF16), and of
  // whole groups for the packed kernels when they pack per call (a multiple of every tile's
  // rows too). A single token tile packs in registers, where a partial group only leaves lanes
  // idle, so finer shares even out the threads of a small matrix (llama-135m's 576 rows in
  // groups of 16 gave shares of 4 and 5 groups: 2-thread GEMV -30%).
  const int64_t align = packed_unit > 0                               ? packed_unit
                        : num_tokens <= matmul_detail::kMaxTileTokens ? matmul_detail::kMaxTileRows
                                                                      : matmul_detail::kGroupRows;
  grain = (grain + align - 1) / align * align;
  pool.parallel_for(
      total_rows,
      [&](int64_t begin, int64_t end, int) {
        for (int j = 0; j < num_jobs; ++j) {
          const Job& job = jobs[j];
          const int64_t lo = std::max(begin, job.row_offset);
          const int64_t hi = std::min(end, job.row_offset + job.target->w.out_features);
          if (lo < hi)
            run_rows(*job.tab, job.target->w, job.acts, num_tokens, job.target->y,
                     lo - job.row_offset, hi - job.row_offset);
        }
      },
      grain);
}

void matmul_isa(SimdIsa isa, const WeightMatrix& w, const float* x, int64_t num_tokens, float* y,
                ThreadPool& pool) {
  const MatmulTarget target{w, y};
  matmul_multi_isa(isa, &target, 1, x, num_tokens, pool);
}

void matmul(const WeightMatrix& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool) {
  matmul_isa(active_simd_isa(), w, x, num_tokens, y, pool);
}

void matmul_multi(const MatmulTarget* targets, int count, const float* x, int64_t num_tokens,
                  ThreadPool& pool) {
  matmul_multi_isa(active_simd_isa(), targets, count, x, num_tokens, pool);
}

bool can_pack_weights(const WeightMatrix& w) {
  if (w.packed || (w.type != DType::Q8_0 && w.type != DType::Q4_0 && w.type != DType::Q4_K &&
                   w.type != DType::Q6_K && w.type != DType::F16 && w.type != DType::BF16))
    return false;
  if (w.out_features % pack_unit_rows(w.type) != 0 ||
      w.in_features % traits(w.type).block_elems != 0)
    return false;
  const TileTable* tab = tile_table(active_simd_isa(), w.type);
  return tab != nullptr && tab->repack != nullptr;
}

void pack_weights(WeightMatrix& w, uint8_t* data) {
  if (!can_pack_weights(w))
    fail("pack_weights: cannot pack {} [{} x {}]{} on this CPU", dtype_name(w.type), w.out_features,
         w.in_features, w.packed ? " (already packed)" : "");
  if (data != w.data) fail("pack_weights: data is not the matrix's bytes");
  const TileTable* tab = tile_table(active_simd_isa(), w.type);
  const size_t stride = w.row_stride();
  const int64_t unit = pack_unit_rows(w.type);
  const size_t group_bytes = stride * static_cast<size_t>(unit);
  const int64_t num_blocks = w.in_features / traits(w.type).block_elems;
  // Each group is rewritten from a copy of its own bytes: the layouts have the same size.
  std::vector<uint8_t> rows(group_bytes);
  for (int64_t g = 0; g < w.out_features / unit; ++g) {
    uint8_t* group = data + static_cast<size_t>(g) * group_bytes;
    std::memcpy(rows.data(), group, group_bytes);
    tab->repack(rows.data(), stride, num_blocks, group);
  }
  w.packed = true;
}

void matmul_ref(const WeightMatrix& w, const float* x, int64_t num_tokens, float* y) {
  check_args(w, x, num_tokens, y);
  if (w.packed) fail("matmul_ref: cannot read packed weights");
  const int64_t k = w.in_features;
  const int64_t n = w.out_features;
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    dequantize_row_ref(w.type, w.row(r), row.data(), k);
    for (int64_t t = 0; t < num_tokens; ++t) {
      double acc = 0.0;
      for (int64_t i = 0; i < k; ++i)
        acc += static_cast<double>(x[t * k + i]) * static_cast<double>(row[i]);
      y[t * n + r] = static_cast<float>(acc);
    }
  }
}

}  // namespace pareto
