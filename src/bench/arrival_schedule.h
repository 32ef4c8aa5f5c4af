// When `pareto bench serve` sends each request: an open-loop arrival process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pareto::bench {

// Send times (seconds from start, non-decreasing) for n requests: rate = inf -> all 0; otherwise
// gamma-distributed gaps with mean 1/rate and shape = burstiness (burstiness 1 = Poisson process;
// < 1 burstier, > 1 more regular; the gap variance is 1/(rate^2 * burstiness)). The first request
// is sent after one gap, as in vLLM. Deterministic for a seed. rate <= 0 or NaN, or burstiness
// <= 0 -> pareto::Error.
std::vector<double> arrival_times(int64_t n, double request_rate, double burstiness, uint64_t seed);

// A --request-rate value: "inf" (also "Inf", "infinity") or a positive number of requests
// per second; anything else throws pareto::Error naming the flag and the value.
double parse_request_rate(const std::string& text);

}  // namespace pareto::bench
