// The server's /metrics: engine gauges and counters read from an EngineStats snapshot at scrape
// time, plus per-request latency histograms and finish-reason counts recorded by the OpenAI
// routes. Names follow vLLM's (prefix "pareto:" instead of "vllm:"); see docs/server.md.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "engine/engine_core.h"
#include "engine/output_processor.h"
#include "server/prometheus.h"

namespace pareto::server {

class ServerMetrics {
 public:
  // Metric names are prefix + name: "pareto:" matches vLLM's "vllm:" naming; "pareto_" also
  // passes promtool's lint, which reserves ':' for recording rules.
  explicit ServerMetrics(std::string prefix = "pareto:");

  // One finished engine request (one per prompt; n completions count once each in reasons).
  void observe_time_to_first_token(double seconds) { ttft_.observe(seconds); }
  // (E2E - TTFT) / (output tokens - 1) of a completion with at least 2 tokens.
  void observe_time_per_output_token(double seconds) { tpot_.observe(seconds); }
  void observe_e2e_latency(double seconds) { e2e_.observe(seconds); }
  void observe_prompt_tokens(int64_t n) { prompt_tokens_.observe(static_cast<double>(n)); }
  void observe_generation_tokens(int64_t n) { gen_tokens_.observe(static_cast<double>(n)); }
  void count_finished(FinishReason reason);
  void count_http_request(int status);
  void count_rejected_queue_full() { ++num_queue_full_; }

  // The whole exposition; `server_active` = HTTP requests in flight.
  std::string render(const EngineStats& stats, int64_t http_requests_in_flight,
                     int64_t open_connections) const;

 private:
  std::string prefix_;
  Histogram ttft_, tpot_, e2e_, prompt_tokens_, gen_tokens_;
  std::array<std::atomic<int64_t>, 4> finished_{};       // by FinishReason
  std::array<std::atomic<int64_t>, 6> http_by_class_{};  // 1xx..5xx, other
  std::atomic<int64_t> num_queue_full_{0};
};

}  // namespace pareto::server
