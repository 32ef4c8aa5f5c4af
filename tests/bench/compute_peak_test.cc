#include "bench/compute_peak.h"

#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"

namespace pareto::bench {
namespace {

// Rates depend on the machine; what holds everywhere is the structure and the errors.
TEST(ComputePeak, MeasuresEverySupportedOp) {
  ThreadPool pool(2);
  ComputePeakOptions o;
  o.iterations = 1000;
  o.reps = 3;
  // x86-64 machines that run the test suite have AVX2 at least (the kernels' fallback level).
  ASSERT_TRUE(peak_op_supported(PeakOp::kF32Fma));
  ASSERT_TRUE(peak_op_supported(PeakOp::kInt8Dot));
  const std::vector<PeakRate> rates = measure_compute_peaks(o, pool);
  ASSERT_EQ(rates.size(), peak_op_supported(PeakOp::kBf16Dot) ? 3u : 2u);
  EXPECT_EQ(rates.front().op, "f32_fma");
  EXPECT_EQ(rates.back().op, "int8_dot");
  for (const PeakRate& r : rates) {
    EXPECT_FALSE(r.instruction.empty()) << r.op;
    EXPECT_EQ(r.threads, 2);
    EXPECT_TRUE(std::isfinite(r.best_gflops) && r.best_gflops > 0) << r.op;
    EXPECT_GE(r.best_gflops, r.median_gflops) << r.op;
  }
}

TEST(ComputePeak, OpNames) {
  EXPECT_STREQ(peak_op_name(PeakOp::kF32Fma), "f32_fma");
  EXPECT_STREQ(peak_op_name(PeakOp::kBf16Dot), "bf16_dot");
  EXPECT_STREQ(peak_op_name(PeakOp::kInt8Dot), "int8_dot");
}

TEST(ComputePeak, RejectsBadOptions) {
  ThreadPool pool(1);
  ComputePeakOptions o;
  o.iterations = 0;  // the loop counts down to zero: 0 iterations would never end
  EXPECT_THROW(measure_compute_peak(PeakOp::kF32Fma, o, pool), Error);
  o.iterations = 10;
  o.reps = 0;
  EXPECT_THROW(measure_compute_peak(PeakOp::kF32Fma, o, pool), Error);
  if (!peak_op_supported(PeakOp::kBf16Dot)) {
    o.reps = 1;
    EXPECT_THROW(measure_compute_peak(PeakOp::kBf16Dot, o, pool), Error);
  }
}

}  // namespace
}  // namespace pareto::bench
