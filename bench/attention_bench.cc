// Decode attention: one new token per sequence attending over its whole context, F16 KV in
// 16-slot blocks, for real model shapes.
//   build-*/bench/attention_bench --benchmark_filter=tinyllama
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "base/half.h"
#include "ops/attention.h"

namespace pareto {
namespace {

struct HeadShape {
  const char* name;
  int64_t num_heads, num_kv_heads, head_dim;
};

constexpr HeadShape kShapes[] = {{"llama-135m", 9, 3, 64}, {"tinyllama", 32, 4, 64}};
constexpr int64_t kBlockSize = 16;

// Args: context length, threads, sequences in the batch (each decodes one token).
void BM_DecodeAttention(benchmark::State& state, HeadShape shape) {
  const int64_t ctx = state.range(0);
  ThreadPool pool(static_cast<int>(state.range(1)));
  const int64_t num_seqs = state.range(2);
  const int64_t blocks_per_seq = (ctx + kBlockSize - 1) / kBlockSize;
  const size_t kv_elems = static_cast<size_t>(num_seqs * blocks_per_seq * kBlockSize *
                                              shape.num_kv_heads * shape.head_dim);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<uint16_t> k(kv_elems), v(kv_elems);
  for (auto& e : k) e = f32_to_fp16(normal(rng));
  for (auto& e : v) e = f32_to_fp16(normal(rng));
  std::vector<int32_t> table(static_cast<size_t>(num_seqs * blocks_per_seq));
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int32_t>(i);
  std::vector<AttentionSlice> slices;
  for (int64_t s = 0; s < num_seqs; ++s)
    slices.push_back({s, 1, ctx - 1, table.data() + s * blocks_per_seq});
  std::vector<float> q(static_cast<size_t>(num_seqs * shape.num_heads * shape.head_dim));
  for (auto& e : q) e = normal(rng);
  std::vector<float> out(q.size());
  const KvLayerView kv{DType::F16, k.data(),           v.data(),
                       kBlockSize, shape.num_kv_heads, shape.head_dim};
  const float scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim));
  for (auto _ : state) {
    paged_attention(q.data(), slices, shape.num_heads, kv, scale, out.data(), pool);
    benchmark::DoNotOptimize(out.data());
  }
  // K and V bytes read per call: the floor for a memory-bound kernel.
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(num_seqs * ctx) *
                          shape.num_kv_heads * shape.head_dim * 2 * 2);
}

int register_all() {
  for (const HeadShape& shape : kShapes) {
    auto* b = benchmark::RegisterBenchmark((std::string("DecodeAttention/") + shape.name).c_str(),
                                           BM_DecodeAttention, shape);
    b->ArgNames({"ctx", "threads", "seqs"})->UseRealTime();
    for (int64_t ctx : {128, 512, 2048})
      for (int64_t threads : {1, 2}) b->Args({ctx, threads, 1});
    for (int64_t threads : {1, 2}) b->Args({512, threads, 8});  // a decode batch
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace pareto
