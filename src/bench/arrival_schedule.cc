#include "bench/arrival_schedule.h"

#include <cmath>
#include <limits>
#include <random>

#include "base/error.h"

namespace pareto::bench {

std::vector<double> arrival_times(int64_t n, double request_rate, double burstiness,
                                  uint64_t seed) {
  if (n < 0) fail("arrival schedule: the number of requests must be >= 0, got {}", n);
  // Written so that NaN fails too.
  if (!(request_rate > 0)) fail("--request-rate must be > 0 (or inf), got {}", request_rate);
  if (!(burstiness > 0) || std::isinf(burstiness)) {
    fail("--burstiness must be a finite number > 0, got {}", burstiness);
  }
  std::vector<double> times(static_cast<size_t>(n), 0.0);
  if (std::isinf(request_rate)) return times;
  // Gamma(shape k, scale theta) has mean k*theta and variance k*theta^2; with k = burstiness and
  // theta = 1/(rate*k) the mean gap is 1/rate and the variance 1/(rate^2 * k).
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> gap(burstiness, 1.0 / (request_rate * burstiness));
  double t = 0;
  for (auto& time : times) {
    t += gap(rng);
    time = t;
  }
  return times;
}

double parse_request_rate(const std::string& text) {
  if (text == "inf" || text == "Inf" || text == "infinity")
    return std::numeric_limits<double>::infinity();
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v > 0))
    fail("--request-rate must be a positive number of requests per second or 'inf', got '{}'",
         text);
  return v;
}

}  // namespace pareto::bench
