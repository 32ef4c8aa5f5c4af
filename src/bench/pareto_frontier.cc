#include "bench/pareto_frontier.h"

#include <algorithm>
#include <cmath>

namespace pareto::bench {
namespace {

// How much better a is than b on an axis (> 0: a better), in a direction-free form.
double gain(double a, double b, Goal goal) {
  return goal == Goal::kMaximize ? a - b : b - a;
}

bool dominates(const FrontierPoint& a, const FrontierPoint& b, Goal xg, Goal yg) {
  const double dx = gain(a.x, b.x, xg), dy = gain(a.y, b.y, yg);
  return dx >= 0 && dy >= 0 && (dx > 0 || dy > 0);
}

}  // namespace

std::vector<size_t> pareto_frontier(const std::vector<FrontierPoint>& points, Goal x_goal,
                                    Goal y_goal) {
  // Quadratic on purpose: sweeps have tens of points, and the plain definition is easy to trust.
  std::vector<size_t> frontier;
  for (size_t i = 0; i < points.size(); ++i) {
    const FrontierPoint& p = points[i];
    if (std::isnan(p.x) || std::isnan(p.y)) continue;
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      const FrontierPoint& q = points[j];
      if (j == i || std::isnan(q.x) || std::isnan(q.y)) continue;
      dominated = dominates(q, p, x_goal, y_goal);
    }
    if (!dominated) frontier.push_back(i);
  }
  std::sort(frontier.begin(), frontier.end(), [&](size_t a, size_t b) {
    if (points[a].x != points[b].x) return points[a].x < points[b].x;
    if (points[a].y != points[b].y) return gain(points[a].y, points[b].y, y_goal) > 0;
    return a < b;
  });
  return frontier;
}

std::vector<size_t> latency_throughput_frontier(const std::vector<FrontierPoint>& points) {
  return pareto_frontier(points, Goal::kMinimize, Goal::kMaximize);
}

std::vector<size_t> maximize_both_frontier(const std::vector<FrontierPoint>& points) {
  return pareto_frontier(points, Goal::kMaximize, Goal::kMaximize);
}

}  // namespace pareto::bench
