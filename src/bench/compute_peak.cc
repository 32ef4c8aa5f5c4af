#include "bench/compute_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "base/error.h"
#include "weights/simd_isa.h"

namespace pareto::bench {
namespace {

// The loops are inline assembly: with intrinsics the compiler folds what it can prove (twelve
// identical chains into one, a product of loop-invariant operands out of the loop), and what
// is timed must be exactly these instructions. Each iteration issues 12 independent
// instructions (enough to cover a 4-5 cycle latency at two issues per cycle) into 12
// accumulators that start at zero, so their values stay zero (no denormal paths) and nothing
// depends on them.
// clang-format off
#define PARETO_PEAK_1(OP, SRC, REG, N) OP " " SRC ", %%" REG N "\n\t"
#define PARETO_PEAK_X12(OP, SRC, REG)                                              \
  PARETO_PEAK_1(OP, SRC, REG, "0") PARETO_PEAK_1(OP, SRC, REG, "1")                \
  PARETO_PEAK_1(OP, SRC, REG, "2") PARETO_PEAK_1(OP, SRC, REG, "3")                \
  PARETO_PEAK_1(OP, SRC, REG, "4") PARETO_PEAK_1(OP, SRC, REG, "5")                \
  PARETO_PEAK_1(OP, SRC, REG, "6") PARETO_PEAK_1(OP, SRC, REG, "7")                \
  PARETO_PEAK_1(OP, SRC, REG, "8") PARETO_PEAK_1(OP, SRC, REG, "9")                \
  PARETO_PEAK_1(OP, SRC, REG, "10") PARETO_PEAK_1(OP, SRC, REG, "11")
// clang-format on
#define PARETO_PEAK_CLOBBERS                                                               \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
      "xmm11", "xmm12", "xmm13", "xmm14", "cc"

// Zeroes registers 0-14 (the VEX form zeroes the upper lanes of the zmm/ymm too).
#define PARETO_PEAK_ZERO                                                   \
  "vpxor %%xmm0, %%xmm0, %%xmm0\n\tvpxor %%xmm1, %%xmm1, %%xmm1\n\t"       \
  "vpxor %%xmm2, %%xmm2, %%xmm2\n\tvpxor %%xmm3, %%xmm3, %%xmm3\n\t"       \
  "vpxor %%xmm4, %%xmm4, %%xmm4\n\tvpxor %%xmm5, %%xmm5, %%xmm5\n\t"       \
  "vpxor %%xmm6, %%xmm6, %%xmm6\n\tvpxor %%xmm7, %%xmm7, %%xmm7\n\t"       \
  "vpxor %%xmm8, %%xmm8, %%xmm8\n\tvpxor %%xmm9, %%xmm9, %%xmm9\n\t"       \
  "vpxor %%xmm10, %%xmm10, %%xmm10\n\tvpxor %%xmm11, %%xmm11, %%xmm11\n\t" \
  "vpxor %%xmm12, %%xmm12, %%xmm12\n\tvpxor %%xmm13, %%xmm13, %%xmm13\n\t" \
  "vpxor %%xmm14, %%xmm14, %%xmm14\n\t"

// One loop of an instruction OP with sources SRCS into accumulators of register kind REG,
// in a function NAME compiled for TARGET.
#define PARETO_PEAK_LOOP(NAME, TARGET, OP, SRCS, REG)                                     \
  __attribute__((target(TARGET))) void NAME(int64_t iters) {                              \
    asm volatile(PARETO_PEAK_ZERO                                                         \
                 "1:\n\t" PARETO_PEAK_X12(OP, SRCS, REG) "dec %0\n\tjnz 1b\n\tvzeroupper" \
                 : "+r"(iters)                                                            \
                 :                                                                        \
                 : PARETO_PEAK_CLOBBERS);                                                 \
  }

PARETO_PEAK_LOOP(f32_fma_avx512, "avx512f", "vfmadd231ps", "%%zmm12, %%zmm13", "zmm")
PARETO_PEAK_LOOP(f32_fma_avx2, "avx2,fma", "vfmadd231ps", "%%ymm12, %%ymm13", "ymm")
PARETO_PEAK_LOOP(bf16_dot_avx512, "avx512f,avx512bf16", "vdpbf16ps", "%%zmm12, %%zmm13", "zmm")
PARETO_PEAK_LOOP(int8_dot_avx512, "avx512f,avx512vnni", "vpdpbusd", "%%zmm12, %%zmm13", "zmm")

// AVX2 has no int8 dot product: vpmaddubsw (u8 x s8 pairs to s16), vpmaddwd by ones (to s32),
// vpaddd, as the AVX2 kernels do. 12 such triples per iteration: 6 temporaries (6-11) into 6
// accumulators (0-5), twice.
// clang-format off
#define PARETO_PEAK_TRIPLE(T, A)                      \
  "vpmaddubsw %%ymm13, %%ymm12, %%ymm" T "\n\t"       \
  "vpmaddwd %%ymm14, %%ymm" T ", %%ymm" T "\n\t"      \
  "vpaddd %%ymm" T ", %%ymm" A ", %%ymm" A "\n\t"
#define PARETO_PEAK_TRIPLES_6                                                         \
  PARETO_PEAK_TRIPLE("6", "0") PARETO_PEAK_TRIPLE("7", "1") PARETO_PEAK_TRIPLE("8", "2") \
  PARETO_PEAK_TRIPLE("9", "3") PARETO_PEAK_TRIPLE("10", "4") PARETO_PEAK_TRIPLE("11", "5")
// clang-format on

__attribute__((target("avx2"))) void int8_dot_avx2(int64_t iters) {
  asm volatile(PARETO_PEAK_ZERO "1:\n\t" PARETO_PEAK_TRIPLES_6 PARETO_PEAK_TRIPLES_6
                                "dec %0\n\tjnz 1b\n\tvzeroupper"
               : "+r"(iters)
               :
               : PARETO_PEAK_CLOBBERS);
}

#undef PARETO_PEAK_LOOP
#undef PARETO_PEAK_TRIPLES_6
#undef PARETO_PEAK_TRIPLE
#undef PARETO_PEAK_ZERO
#undef PARETO_PEAK_CLOBBERS
#undef PARETO_PEAK_X12
#undef PARETO_PEAK_1

struct Kernel {
  void (*fn)(int64_t) = nullptr;
  const char* instruction = "";
  double ops_per_iteration = 0;  // 12 instructions (or triples) per loop iteration
};

Kernel kernel_for(PeakOp op) {
  __builtin_cpu_init();
  // __builtin_cpu_supports takes literals only.
#define has(feature) __builtin_cpu_supports(feature)
  // The level the kernels run at ($PARETO_SIMD may cap it), so a kernel is held to the peak of
  // the instructions it can use.
  const SimdIsa level = active_simd_isa();
  const bool avx512 = level >= SimdIsa::kAvx512 && has("avx512f");
  const bool avx2 = level >= SimdIsa::kAvx2;
  switch (op) {
    case PeakOp::kF32Fma:
      if (avx512) return {f32_fma_avx512, "vfmadd231ps zmm", 12 * 32};
      if (avx2) return {f32_fma_avx2, "vfmadd231ps ymm", 12 * 16};
      break;
    case PeakOp::kBf16Dot:
      if (avx512 && has("avx512bf16")) return {bf16_dot_avx512, "vdpbf16ps zmm", 12 * 64};
      break;
    case PeakOp::kInt8Dot:
      if (avx512 && has("avx512vnni")) return {int8_dot_avx512, "vpdpbusd zmm", 12 * 128};
      if (avx2) return {int8_dot_avx2, "vpmaddubsw+vpmaddwd+vpaddd ymm", 12 * 64};
      break;
  }
#undef has
  return {};
}

}  // namespace

const char* peak_op_name(PeakOp op) {
  switch (op) {
    case PeakOp::kF32Fma:
      return "f32_fma";
    case PeakOp::kBf16Dot:
      return "bf16_dot";
    case PeakOp::kInt8Dot:
      return "int8_dot";
  }
  return "?";
}

bool peak_op_supported(PeakOp op) {
  return kernel_for(op).fn != nullptr;
}

PeakRate measure_compute_peak(PeakOp op, const ComputePeakOptions& options, ThreadPool& pool) {
  const Kernel k = kernel_for(op);
  if (k.fn == nullptr) fail("peak: this CPU cannot run {}", peak_op_name(op));
  if (options.iterations < 1) fail("peak: iterations must be >= 1, got {}", options.iterations);
  if (options.reps < 1) fail("peak: reps must be >= 1, got {}", options.reps);
  const int64_t chunks = ThreadPool::kChunksPerThread * pool.num_threads();
  auto run = [&] {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(chunks, [&](int64_t begin, int64_t end, int) {
      for (int64_t c = begin; c < end; ++c) k.fn(options.iterations);
    });
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  run();  // warm-up: wakes the workers and lets the clock settle
  std::vector<double> seconds;
  for (int r = 0; r < options.reps; ++r) seconds.push_back(run());
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const double median_s = n % 2 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
  const double ops =
      k.ops_per_iteration * static_cast<double>(options.iterations) * static_cast<double>(chunks);
  PeakRate r;
  r.op = peak_op_name(op);
  r.instruction = k.instruction;
  r.threads = pool.num_threads();
  r.best_gflops = ops / seconds.front() / 1e9;
  r.median_gflops = ops / median_s / 1e9;
  return r;
}

std::vector<PeakRate> measure_compute_peaks(const ComputePeakOptions& options, ThreadPool& pool) {
  std::vector<PeakRate> rates;
  for (PeakOp op : {PeakOp::kF32Fma, PeakOp::kBf16Dot, PeakOp::kInt8Dot})
    if (peak_op_supported(op)) rates.push_back(measure_compute_peak(op, options, pool));
  return rates;
}

}  // namespace pareto::bench
