// Kernel benchmarks: row dequantization, and matmul (GEMV for 1 token, GEMM for more) on real
// model shapes for each weight type, SIMD level and thread count.
//   build-*/bench/matmul_bench --benchmark_filter='Matmul/q8_0/avx512/K=2048'
// Counters: GFLOP/s = 2 K N tokens per second; weight_GB/s = weight bytes read per second (the
// figure to hold against memory bandwidth for GEMV). Each iteration uses the next of several
// copies of the matrix, together over 64 MiB, so weights come from memory as in a forward pass.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ops/matmul_generic.h"
#include "ops/matmul_isa.h"
#include "weights/dequantize.h"
#include "weights/quantize.h"
#include "weights/simd_isa.h"

namespace pareto {
namespace {

constexpr size_t kMinTotalBytes = size_t{64} << 20;

struct Shape {
  const char* model;
  int64_t k, n;
};
constexpr Shape kShapes[] = {
    {"llama-135m", 576, 1536},  // gate/up
    {"llama-135m", 1536, 576},  // down
    {"tinyllama", 2048, 5632},  // gate/up
};

// Copies of one random N(0, 1) matrix of type t and shape [n, k], built once.
struct Weights {
  DType type;
  int64_t k, n;
  bool packed;
  std::vector<uint8_t> bytes;
  size_t matrix_bytes;
  int copies;
  WeightMatrix matrix(int i) const {
    return {type, k, n, bytes.data() + static_cast<size_t>(i) * matrix_bytes, packed};
  }
};

// packed: each copy rewritten by pack_weights (the layout models load into).
const Weights& weights(DType t, int64_t k, int64_t n, bool packed = false) {
  static std::vector<std::unique_ptr<Weights>> cache;
  for (const auto& ws : cache)
    if (ws->type == t && ws->k == k && ws->n == n && ws->packed == packed) return *ws;
  auto ws = std::make_unique<Weights>();
  ws->type = t;
  ws->k = k;
  ws->n = n;
  ws->packed = false;
  ws->matrix_bytes = row_bytes(t, k) * static_cast<size_t>(n);
  ws->copies = static_cast<int>((kMinTotalBytes + ws->matrix_bytes - 1) / ws->matrix_bytes);
  ws->bytes.resize(ws->matrix_bytes * ws->copies);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    for (auto& v : row) v = normal(rng);
    quantize_row(t, row.data(), ws->bytes.data() + r * row_bytes(t, k), k);
  }
  for (int c = 1; c < ws->copies; ++c)
    std::memcpy(ws->bytes.data() + c * ws->matrix_bytes, ws->bytes.data(), ws->matrix_bytes);
  if (packed) {
    for (int c = 0; c < ws->copies; ++c) {
      WeightMatrix w = ws->matrix(c);
      pack_weights(w, ws->bytes.data() + c * ws->matrix_bytes);
    }
    ws->packed = true;
  }
  cache.push_back(std::move(ws));
  return *cache.back();
}

void BM_Dequantize(benchmark::State& state, DType t, SimdIsa isa) {
  if (!cpu_supports(isa)) return state.SkipWithError("ISA not supported");
  constexpr int64_t k = 4096, n = 256;
  const Weights& ws = weights(t, k, n);
  std::vector<float> out(k);
  int64_t r = 0;
  for (auto _ : state) {
    dequantize_row_isa(isa, t, ws.matrix(0).row(r), out.data(), k);
    benchmark::DoNotOptimize(out.data());
    r = (r + 1) % n;
  }
  state.SetItemsProcessed(state.iterations() * k);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(row_bytes(t, k)));
}

// Args: tokens, threads.
// kOld: the dequantize-to-F32 fallback (the only path before the tile kernels), for
// before/after comparisons. kPacked: weights in pack_weights' layout, as models load them.
enum class Path { kTiles, kOld, kPacked };

void BM_Matmul(benchmark::State& state, DType t, SimdIsa isa, Shape shape, Path path) {
  if (!cpu_supports(isa)) return state.SkipWithError("ISA not supported");
  const bool old_path = path == Path::kOld;
  const int64_t tokens = state.range(0);
  ThreadPool pool(static_cast<int>(state.range(1)));
  if (path == Path::kPacked && !can_pack_weights({t, shape.k, shape.n, nullptr}))
    return state.SkipWithError("weights cannot be packed on this CPU");
  const Weights& ws = weights(t, shape.k, shape.n, path == Path::kPacked);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(tokens * shape.k)), y(tokens * shape.n);
  for (auto& v : x) v = normal(rng);
  int copy = 0;
  for (auto _ : state) {
    if (old_path)
      matmul_generic(isa, ws.matrix(copy), x.data(), tokens, y.data(), pool);
    else
      matmul_isa(isa, ws.matrix(copy), x.data(), tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % ws.copies;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2e-9 * static_cast<double>(shape.k * shape.n * tokens) * iters, benchmark::Counter::kIsRate);
  state.counters["weight_GB/s"] = benchmark::Counter(
      1e-9 * static_cast<double>(ws.matrix_bytes) * iters, benchmark::Counter::kIsRate);
}

int register_all() {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                  DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    for (SimdIsa isa : {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512}) {
      const std::string suffix = std::string(dtype_name(t)) + "/" + simd_isa_name(isa);
      benchmark::RegisterBenchmark(("Dequantize/" + suffix).c_str(), BM_Dequantize, t, isa);
    }
  }
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    for (const auto& [isa, path] :
         {std::pair{SimdIsa::kAvx2, Path::kTiles}, std::pair{SimdIsa::kAvx512, Path::kTiles},
          std::pair{SimdIsa::kAvx512, Path::kOld}, std::pair{SimdIsa::kAvx512, Path::kPacked}}) {
      if (path == Path::kPacked && t != DType::Q8_0 && t != DType::Q4_0 && t != DType::Q4_K &&
          t != DType::Q6_K && t != DType::F16 && t != DType::BF16)
        continue;
      for (const Shape& shape : kShapes) {
        if (shape.k % traits(t).block_elems != 0) continue;  // K=576 has no 256-blocks
        const std::string name = "Matmul/" + std::string(dtype_name(t)) + "/" +
                                 (path == Path::kOld ? "old-" : "") + simd_isa_name(isa) +
                                 (path == Path::kPacked ? "-packed" : "") + "/" + shape.model +
                                 "/K=" + std::to_string(shape.k) + "/N=" + std::to_string(shape.n);
        benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, t, isa, shape, path)
            ->ArgNames({"tokens", "threads"})
            ->ArgsProduct({{1, 8, 32, 128, 512}, {1, 2}})
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace pareto
