// The CPU's peak arithmetic rates, measured (`pareto bench peak`, and the compute roofline of
// `pareto bench model --peak`): each thread of a ThreadPool runs a loop of one instruction on
// registers only, with enough independent accumulators to hide its latency, so the rate is the
// issue rate of the execution units at whatever clock the machine runs now. This is what the
// kernels' "fraction of peak" is taken against; a datasheet figure is no use on a shared VM
// whose hosts differ from day to day (one day's host did two 512-bit FMAs per cycle per core,
// another's one).
//
// Ops, at the best SIMD level the CPU has (FLOP = one multiply or one add):
//   f32_fma   vfmadd231ps: 2 FLOP per F32 lane (what F32/F16/BF16 matmuls run: 16-bit
//             weights are widened to F32)
//   bf16_dot  vdpbf16ps (AVX-512 BF16): 4 FLOP per F32 lane (two products and their sum)
//   int8_dot  vpdpbusd (AVX-512 VNNI): 8 ops per int32 lane; AVX2 without VNNI: vpmaddubsw +
//             vpmaddwd + vpaddd, the sequence the quantized AVX2 kernels use, 64 ops per triple
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/thread_pool.h"

namespace pareto::bench {

enum class PeakOp { kF32Fma, kBf16Dot, kInt8Dot };

struct ComputePeakOptions {
  int64_t iterations = int64_t{1} << 22;  // loop iterations per chunk (12 instructions each)
  int reps = 5;                           // timed runs (after one untimed warm-up)
};

struct PeakRate {
  std::string op;           // "f32_fma", "bf16_dot", "int8_dot"
  std::string instruction;  // e.g. "vfmadd231ps zmm"
  int threads = 0;
  double best_gflops = 0;    // fastest rep, 1e9 FLOP (or int8 ops) per second, all threads
  double median_gflops = 0;  // median rep
};

const char* peak_op_name(PeakOp op);
// Can this CPU run op at all (f32_fma and int8_dot need AVX2, bf16_dot AVX-512 BF16)? Ops
// run at the kernels' SIMD level, active_simd_isa(): $PARETO_SIMD=avx2 measures the AVX2 loops,
// =scalar none.
bool peak_op_supported(PeakOp op);

// Runs op on every thread of the pool (4 chunks per thread, each `iterations` loop
// iterations), reps times after a warm-up. Throws pareto::Error when the CPU cannot run op, for
// iterations < 1 or reps < 1.
PeakRate measure_compute_peak(PeakOp op, const ComputePeakOptions& options, ThreadPool& pool);

// Every op the CPU supports, in the order f32_fma, bf16_dot, int8_dot.
std::vector<PeakRate> measure_compute_peaks(const ComputePeakOptions& options, ThreadPool& pool);

}  // namespace pareto::bench
