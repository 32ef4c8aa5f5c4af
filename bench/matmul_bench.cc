// Kernel benchmarks: row dequantization and matmul for each weight type and SIMD level.
//   build-*/bench/matmul_bench --benchmark_filter='Matmul/q4_k'
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "ops/matmul_isa.h"
#include "weights/dequantize.h"
#include "weights/quantize.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

constexpr int64_t kIn = 4096;   // K
constexpr int64_t kOut = 1024;  // N

struct Weights {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

// Random N(0, 1) weights of type t, built once per type.
const Weights& weights(DType t) {
  static std::vector<std::pair<DType, Weights>> cache;
  for (const auto& [type, ws] : cache)
    if (type == t) return ws;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> row(kIn);
  Weights ws;
  ws.bytes.resize(row_bytes(t, kIn) * kOut);
  for (int64_t r = 0; r < kOut; ++r) {
    for (auto& v : row) v = normal(rng);
    quantize_row(t, row.data(), ws.bytes.data() + r * row_bytes(t, kIn), kIn);
  }
  ws.w = {t, kIn, kOut, nullptr};
  cache.emplace_back(t, std::move(ws));
  cache.back().second.w.data = cache.back().second.bytes.data();
  return cache.back().second;
}

void BM_Dequantize(benchmark::State& state, DType t, SimdIsa isa) {
  if (!cpu_supports(isa)) return state.SkipWithError("ISA not supported");
  const Weights& ws = weights(t);
  std::vector<float> out(kIn);
  int64_t r = 0;
  for (auto _ : state) {
    dequantize_row_isa(isa, t, ws.w.row(r), out.data(), kIn);
    benchmark::DoNotOptimize(out.data());
    r = (r + 1) % kOut;
  }
  state.SetItemsProcessed(state.iterations() * kIn);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(row_bytes(t, kIn)));
}

// Args: tokens, threads.
void BM_Matmul(benchmark::State& state, DType t, SimdIsa isa) {
  if (!cpu_supports(isa)) return state.SkipWithError("ISA not supported");
  const int64_t tokens = state.range(0);
  ThreadPool pool(static_cast<int>(state.range(1)));
  const Weights& ws = weights(t);
  std::vector<float> x(tokens * kIn, 0.5f), y(tokens * kOut);
  for (auto _ : state) {
    matmul_isa(isa, ws.w, x.data(), tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["flops"] = benchmark::Counter(
      static_cast<double>(2 * kIn * kOut * tokens) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(ws.bytes.size()));
}

int register_all() {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                  DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    for (SimdIsa isa : {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512}) {
      const std::string suffix = std::string(dtype_name(t)) + "/" + simd_isa_name(isa);
      benchmark::RegisterBenchmark(("Dequantize/" + suffix).c_str(), BM_Dequantize, t, isa);
      benchmark::RegisterBenchmark(("Matmul/" + suffix).c_str(), BM_Matmul, t, isa)
          ->ArgNames({"tokens", "threads"})
          ->ArgsProduct({{1, 16, 64}, {1, 2}})
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace pareto
