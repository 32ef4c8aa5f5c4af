// Pareto frontiers of benchmark points: the configurations no other configuration beats on both
// axes at once (e.g. lower latency AND higher throughput). A sweep reports them as the serving
// setups worth choosing between; every other point is dominated and never the right choice.
#pragma once

#include <cstddef>
#include <vector>

namespace pareto::bench {

struct FrontierPoint {
  double x = 0;
  double y = 0;
};

// Which way is better on an axis.
enum class Goal { kMinimize, kMaximize };

// Indices (into `points`) of the non-dominated points, sorted by x ascending (ties: the better y
// first, then index). A point dominates another when it is at least as good on both axes and
// strictly better on one, so exact duplicates do not dominate each other and are all kept.
// Points with a NaN coordinate are never on the frontier and never dominate another.
std::vector<size_t> pareto_frontier(const std::vector<FrontierPoint>& points, Goal x_goal,
                                    Goal y_goal);

// x = a latency (lower is better), y = a throughput (higher is better).
std::vector<size_t> latency_throughput_frontier(const std::vector<FrontierPoint>& points);

// Both axes higher-is-better, e.g. x = total tokens/s and y = tokens/s per user.
std::vector<size_t> maximize_both_frontier(const std::vector<FrontierPoint>& points);

}  // namespace pareto::bench
