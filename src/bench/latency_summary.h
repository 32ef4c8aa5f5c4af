// Per-request outcomes of a serving benchmark and their summary (latency percentiles,
// throughput, goodput), with the JSON form `pareto bench serve --result-file` writes and
// `pareto bench sweep` / `pareto plan --validate` read back. Definitions: docs/bench_workloads.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pareto::bench {

struct RequestRecord {  // one request's outcome; times in seconds
  bool success = false;
  std::string error;          // non-empty when !success
  int64_t prompt_len = 0;     // usage.prompt_tokens from the server (0 if not reported)
  int64_t output_len = 0;     // usage.completion_tokens from the server (else chunks counted)
  int64_t cached_tokens = 0;  // usage.prompt_tokens_details.cached_tokens when given
  double start_s = 0;         // send time relative to benchmark start
  double ttft_s = 0;          // first content token
  double e2e_s = 0;           // last byte
  std::vector<double> itl_s;  // gaps between successive content chunks
};

struct LatencyStats {
  double mean_ms = 0, median_ms = 0, p90_ms = 0, p99_ms = 0, std_ms = 0;
};

// Service-level objectives for goodput, in milliseconds; unset = not constrained.
struct SloTargets {
  std::optional<double> ttft_ms, tpot_ms, e2e_ms;
};

// "ttft=500,tpot=50,e2e=2000" (milliseconds, any subset, any order; e2el = e2e). An empty spec
// gives no targets. Unknown key, bad or negative number, missing '=' -> pareto::Error.
SloTargets parse_slo(const std::string& spec);

// The p-th percentile (p in [0,100]) with linear interpolation between closest ranks, as numpy's
// default: index (n-1)*p/100. Empty input -> 0. p outside [0,100] -> pareto::Error.
double percentile(std::vector<double> values, double p);

struct BenchSummary {
  int64_t completed = 0, failed = 0;
  double duration_s = 0;
  int64_t total_input_tokens = 0, total_output_tokens = 0;
  double request_throughput = 0, output_throughput = 0, total_token_throughput = 0;  // per second
  double request_goodput = 0;  // completed requests meeting every SLO, per second
  // tpot per request = (e2e - ttft)/(output_len - 1), requests with output_len > 1.
  LatencyStats ttft, tpot, itl, e2el;
  std::optional<double> energy_joules;  // nullopt = unavailable
  std::optional<double> joules_per_output_token;
  std::string energy_source = "unavailable";  // "rapl", "nvml" or "unavailable: <reason>"
};

// Statistics over the successful records; failed ones count only in `failed`. Energy fields are
// left unavailable (the driver fills them).
BenchSummary summarize(const std::vector<RequestRecord>& records, double duration_s,
                       const SloTargets& slo);

// vLLM bench-style flat keys: completed, failed, duration, total_input_tokens,
// total_output_tokens, request_throughput, output_throughput, total_token_throughput,
// request_goodput, {mean,median,p90,p99,std}_{ttft,tpot,itl,e2el}_ms, energy_joules (null when
// unavailable), joules_per_output_token (null when unavailable), energy_source.
nlohmann::json to_json(const BenchSummary& s);
// Inverse of to_json (sweep and plan --validate read files). Missing keys or wrong types ->
// pareto::Error naming the key.
BenchSummary summary_from_json(const nlohmann::json& j);

}  // namespace pareto::bench
