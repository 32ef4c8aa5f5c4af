// Decode attention: one new token per sequence attending over its whole context, F16 KV in
// 16-slot blocks, for real model shapes.
//   build-*/bench/attention_bench --benchmark_filter=tinyllama
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "base/half.h"
#include "base/huge_page_buffer.h"
#include "ops/attention.h"

namespace pareto {
namespace {

struct HeadShape {
  const char* name;
  int64_t num_heads, num_kv_heads, head_dim;
};

constexpr HeadShape kShapes[] = {{"llama-135m", 9, 3, 64}, {"tinyllama", 32, 4, 64}};
constexpr int64_t kBlockSize = 16;

// Args: context length, threads, sequences in the batch (each decodes one token), layers. Each
// call attends over the next layer's cache, as a model step does: with enough layers, K/V come
// from memory rather than from a cache that the previous call left warm.
void BM_DecodeAttention(benchmark::State& state, HeadShape shape) {
  const int64_t ctx = state.range(0);
  ThreadPool pool(static_cast<int>(state.range(1)));
  const int64_t num_seqs = state.range(2);
  const int64_t num_layers = state.range(3);
  const int64_t blocks_per_seq = (ctx + kBlockSize - 1) / kBlockSize;
  const size_t layer_elems = static_cast<size_t>(num_seqs * blocks_per_seq * kBlockSize *
                                                 shape.num_kv_heads * shape.head_dim);
  const size_t kv_elems = layer_elems * static_cast<size_t>(num_layers);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  // Huge pages, as the engine's KV arena: 4 KiB pages would add a TLB miss per block.
  HugePageBuffer k_buffer(kv_elems * sizeof(uint16_t)), v_buffer(kv_elems * sizeof(uint16_t));
  auto* k = reinterpret_cast<uint16_t*>(k_buffer.data());
  auto* v = reinterpret_cast<uint16_t*>(v_buffer.data());
  // Random values for one layer, repeated: drawing 100M normals would dominate the run.
  for (size_t i = 0; i < kv_elems; ++i) {
    k[i] = i < layer_elems ? f32_to_fp16(normal(rng)) : k[i % layer_elems];
    v[i] = i < layer_elems ? f32_to_fp16(normal(rng)) : v[i % layer_elems];
  }
  std::vector<int32_t> table(static_cast<size_t>(num_seqs * blocks_per_seq));
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int32_t>(i);
  std::vector<AttentionSlice> slices;
  for (int64_t s = 0; s < num_seqs; ++s)
    slices.push_back({s, 1, ctx - 1, table.data() + s * blocks_per_seq});
  std::vector<float> q(static_cast<size_t>(num_seqs * shape.num_heads * shape.head_dim));
  for (auto& e : q) e = normal(rng);
  std::vector<float> out(q.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim));
  int64_t layer = 0;
  for (auto _ : state) {
    const size_t base = layer_elems * static_cast<size_t>(layer);
    const KvLayerView kv{DType::F16, k + base,           v + base,
                         kBlockSize, shape.num_kv_heads, shape.head_dim};
    paged_attention(q.data(), slices, shape.num_heads, kv, scale, out.data(), pool);
    benchmark::DoNotOptimize(out.data());
    layer = (layer + 1) % num_layers;
  }
  // K and V bytes read per call: the floor for a memory-bound kernel.
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(num_seqs * ctx) *
                          shape.num_kv_heads * shape.head_dim * 2 * 2);
}

int register_all() {
  for (const HeadShape& shape : kShapes) {
    auto* b = benchmark::RegisterBenchmark((std::string("DecodeAttention/") + shape.name).c_str(),
                                           BM_DecodeAttention, shape);
    b->ArgNames({"ctx", "threads", "seqs", "layers"})->UseRealTime();
    for (int64_t ctx : {128, 512, 2048})
      for (int64_t threads : {1, 2}) b->Args({ctx, threads, 1, 1});
    for (int64_t threads : {1, 2}) b->Args({512, threads, 8, 1});  // a decode batch
    // A lone decode of `bench model -p 512 -n 128`'s mean context, cache cold.
    for (int64_t threads : {1, 2}) b->Args({576, threads, 1, 30});
    // A 32-sequence decode step of bench offline's shape (128 + 128 tokens), cache cold.
    for (int64_t threads : {1, 2}) b->Args({192, threads, 32, 30});
    b->Args({192, 1, 4, 1});
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace pareto
