#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/half.h"

namespace pareto {
namespace {

void load_row(const KvLayerView& kv, const void* base, size_t offset, float* dst) {
  const auto* p = static_cast<const uint8_t*>(base) + offset;
  if (kv.dtype == DType::F16) {
    const auto* h = reinterpret_cast<const uint16_t*>(p);
    for (int64_t i = 0; i < kv.head_dim; ++i) dst[i] = fp16_to_f32(h[i]);
  } else {
    std::memcpy(dst, p, static_cast<size_t>(kv.head_dim) * sizeof(float));
  }
}

void store_row(const KvLayerView& kv, void* base, size_t offset, const float* src) {
  auto* p = static_cast<uint8_t*>(base) + offset;
  if (kv.dtype == DType::F16) {
    auto* h = reinterpret_cast<uint16_t*>(p);
    for (int64_t i = 0; i < kv.head_dim; ++i) h[i] = f32_to_fp16(src[i]);
  } else {
    std::memcpy(p, src, static_cast<size_t>(kv.head_dim) * sizeof(float));
  }
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

void paged_attention(const float* q, std::span<const AttentionSlice> slices, int64_t num_heads,
                     const KvLayerView& kv, float scale, float* out, ThreadPool& pool) {
  const int64_t head_dim = kv.head_dim;
  const int64_t group = num_heads / kv.num_kv_heads;
  // Items are (slice, token, kv head); item_start[i] is the first item of slice i.
  std::vector<int64_t> item_start(slices.size() + 1, 0);
  int64_t max_ctx = 1, total_ctx = 0;
  for (size_t i = 0; i < slices.size(); ++i) {
    item_start[i + 1] = item_start[i] + slices[i].num_tokens * kv.num_kv_heads;
    max_ctx = std::max(max_ctx, slices[i].start_pos + slices[i].num_tokens);
    total_ctx += slices[i].num_tokens * (slices[i].start_pos + slices[i].num_tokens);
  }
  const int64_t num_items = item_start.back();
  if (num_items == 0) return;
  // Group items so that a thread's share is worth waking it for (~64K multiply-adds).
  const int64_t macs_per_item =
      std::max<int64_t>(1, 2 * total_ctx * group * head_dim / std::max<int64_t>(1, num_items));
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / macs_per_item);
  pool.parallel_for(
      num_items,
      [&](int64_t begin, int64_t end, int) {
        std::vector<float> scores(static_cast<size_t>(group * max_ctx));
        std::vector<float> row(static_cast<size_t>(head_dim));
        std::vector<float> acc(static_cast<size_t>(group * head_dim));
        std::vector<float> inv_sum(static_cast<size_t>(group));
        size_t si = static_cast<size_t>(
            std::upper_bound(item_start.begin(), item_start.end(), begin) - item_start.begin() - 1);
        for (int64_t item = begin; item < end; ++item) {
          while (item >= item_start[si + 1]) ++si;
          const AttentionSlice& sl = slices[si];
          const int32_t* block_table = sl.block_table;
          const int64_t local = item - item_start[si];
          const int64_t t = local / kv.num_kv_heads;
          const int64_t kvh = local % kv.num_kv_heads;
          const int64_t row_idx = sl.token_offset + t;
          const int64_t ctx = sl.start_pos + t + 1;  // causal: positions 0..start_pos+t
          const float* qg = q + (row_idx * num_heads + kvh * group) * head_dim;
          for (int64_t p = 0; p < ctx; ++p) {
            load_row(kv, kv.k, kv.offset(block_table[p / kv.block_size], p % kv.block_size, kvh),
                     row.data());
            for (int64_t g = 0; g < group; ++g) {
              const float* qh = qg + g * head_dim;
              float dot = 0.0f;
              for (int64_t i = 0; i < head_dim; ++i) dot += qh[i] * row[static_cast<size_t>(i)];
              scores[static_cast<size_t>(g * max_ctx + p)] = dot * scale;
            }
          }
          for (int64_t g = 0; g < group; ++g) {
            float* s = scores.data() + g * max_ctx;
            const float mx = *std::max_element(s, s + ctx);
            double sum = 0.0;
            for (int64_t p = 0; p < ctx; ++p) {
              s[p] = std::exp(s[p] - mx);
              sum += s[p];
            }
            inv_sum[static_cast<size_t>(g)] = static_cast<float>(1.0 / sum);
          }
          std::fill(acc.begin(), acc.end(), 0.0f);
          for (int64_t p = 0; p < ctx; ++p) {
            load_row(kv, kv.v, kv.offset(block_table[p / kv.block_size], p % kv.block_size, kvh),
                     row.data());
            for (int64_t g = 0; g < group; ++g) {
              const float w = scores[static_cast<size_t>(g * max_ctx + p)];
              float* a = acc.data() + g * head_dim;
              for (int64_t i = 0; i < head_dim; ++i) a[i] += w * row[static_cast<size_t>(i)];
            }
          }
          for (int64_t g = 0; g < group; ++g) {
            float* o = out + (row_idx * num_heads + kvh * group + g) * head_dim;
            const float inv = inv_sum[static_cast<size_t>(g)];
            for (int64_t i = 0; i < head_dim; ++i)
              o[i] = acc[static_cast<size_t>(g * head_dim + i)] * inv;
          }
        }
      },
      grain);
}

}  // namespace pareto
