#include "bench/pareto_frontier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace pareto::bench {
namespace {

using Idx = std::vector<size_t>;

TEST(ParetoFrontier, LatencyThroughputKeepsOnlyNonDominated) {
  // (latency ms, tokens/s)
  const std::vector<FrontierPoint> pts = {
      {100, 50},   // 0: frontier (fastest)
      {200, 120},  // 1: frontier
      {250, 110},  // 2: dominated by 1 (slower and less throughput)
      {400, 300},  // 3: frontier
      {500, 300},  // 4: dominated by 3 (same throughput, slower)
      {150, 40},   // 5: dominated by 0
      {800, 310},  // 6: frontier (most throughput)
  };
  EXPECT_EQ(latency_throughput_frontier(pts), (Idx{0, 1, 3, 6}));
}

TEST(ParetoFrontier, SortedByXWhateverTheInputOrder) {
  const std::vector<FrontierPoint> pts = {{800, 310}, {100, 50}, {400, 300}, {200, 120}};
  EXPECT_EQ(latency_throughput_frontier(pts), (Idx{1, 3, 2, 0}));
}

TEST(ParetoFrontier, ExactDuplicatesAreBothKept) {
  const std::vector<FrontierPoint> pts = {{10, 5}, {10, 5}, {20, 4}};
  EXPECT_EQ(latency_throughput_frontier(pts), (Idx{0, 1}));
}

TEST(ParetoFrontier, TieOnOneAxisIsDecidedByTheOther) {
  // Same latency: only the higher throughput survives. Same throughput: only the lower latency.
  EXPECT_EQ(latency_throughput_frontier({{10, 5}, {10, 7}}), (Idx{1}));
  EXPECT_EQ(latency_throughput_frontier({{12, 7}, {10, 7}}), (Idx{1}));
}

TEST(ParetoFrontier, MaximizeBoth) {
  // (total tokens/s, tokens/s per user)
  const std::vector<FrontierPoint> pts = {
      {50, 40},   // 0: frontier (best per user)
      {100, 30},  // 1: frontier
      {90, 25},   // 2: dominated by 1
      {300, 10},  // 3: frontier (best total)
      {300, 8},   // 4: dominated by 3
      {40, 40},   // 5: dominated by 0
  };
  EXPECT_EQ(maximize_both_frontier(pts), (Idx{0, 1, 3}));
}

TEST(ParetoFrontier, GeneralGoals) {
  const std::vector<FrontierPoint> pts = {{1, 1}, {2, 2}, {3, 0}};
  EXPECT_EQ(pareto_frontier(pts, Goal::kMinimize, Goal::kMinimize), (Idx{0, 2}));
  EXPECT_EQ(pareto_frontier(pts, Goal::kMaximize, Goal::kMinimize), (Idx{2}));
}

TEST(ParetoFrontier, EmptySingleAndNaN) {
  EXPECT_TRUE(latency_throughput_frontier({}).empty());
  EXPECT_EQ(latency_throughput_frontier({{3, 4}}), (Idx{0}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // The NaN point neither joins nor dominates: (5, 1) stays on the frontier.
  EXPECT_EQ(latency_throughput_frontier({{nan, 1000}, {5, 1}, {1, nan}}), (Idx{1}));
}

TEST(ParetoFrontier, InfiniteValuesCompareNormally) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(latency_throughput_frontier({{inf, 100}, {5, 1}}), (Idx{1, 0}));
}

}  // namespace
}  // namespace pareto::bench
