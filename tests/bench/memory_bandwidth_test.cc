#include "bench/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"

namespace pareto::bench {
namespace {

void expect_sane(const BandwidthStat& s, int reps) {
  ASSERT_EQ(s.seconds.size(), static_cast<size_t>(reps));
  for (double t : s.seconds) EXPECT_GT(t, 0.0);
  EXPECT_TRUE(std::isfinite(s.best_gb_s));
  EXPECT_GT(s.best_gb_s, 0.0);
  EXPECT_GT(s.median_gb_s, 0.0);
  EXPECT_GE(s.best_gb_s, s.median_gb_s);
}

TEST(MemoryBandwidth, SmallArraysGivePositiveFiniteRates) {
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    MemoryBandwidthOptions o;
    o.array_bytes = (size_t{1} << 20) + 12;  // not whole doubles or pages
    o.reps = 3;
    const MemoryBandwidthResult r = measure_memory_bandwidth(o, pool);
    EXPECT_EQ(r.array_bytes, (size_t{1} << 20) + 8);
    EXPECT_EQ(r.threads, threads);
    EXPECT_EQ(r.reps, 3);
    expect_sane(r.read, 3);
    expect_sane(r.copy, 3);
    expect_sane(r.triad, 3);
  }
}

TEST(MemoryBandwidth, ReadOnlySkipsCopyAndTriad) {
  ThreadPool pool(2);
  MemoryBandwidthOptions o;
  o.array_bytes = 64 << 10;
  o.reps = 2;
  o.read_only = true;
  const MemoryBandwidthResult r = measure_memory_bandwidth(o, pool);
  expect_sane(r.read, 2);
  EXPECT_TRUE(r.copy.seconds.empty());
  EXPECT_EQ(r.triad.best_gb_s, 0.0);
}

TEST(MemoryBandwidth, RejectsBadOptions) {
  ThreadPool pool(1);
  MemoryBandwidthOptions o;
  o.array_bytes = 100;
  EXPECT_THROW(measure_memory_bandwidth(o, pool), Error);
  o.array_bytes = 1 << 20;
  o.reps = 0;
  EXPECT_THROW(measure_memory_bandwidth(o, pool), Error);
}

}  // namespace
}  // namespace pareto::bench
