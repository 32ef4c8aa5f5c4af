#include "server/server_metrics.h"

namespace pareto::server {

namespace {

// Latency buckets as vLLM uses them, in seconds.
std::vector<double> ttft_bounds() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
          1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
}
std::vector<double> tpot_bounds() {
  return {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
          0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
}
std::vector<double> e2e_bounds() {
  return {0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,   15.0,  20.0,
          30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
}
std::vector<double> token_bounds() {
  return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
}

}  // namespace

ServerMetrics::ServerMetrics(std::string prefix)
    : prefix_(std::move(prefix)),
      ttft_(ttft_bounds()),
      tpot_(tpot_bounds()),
      e2e_(e2e_bounds()),
      prompt_tokens_(token_bounds()),
      gen_tokens_(token_bounds()) {}

void ServerMetrics::count_finished(FinishReason reason) {
  ++finished_[static_cast<size_t>(reason)];
}

void ServerMetrics::count_http_request(int status) {
  const int cls = status / 100;
  ++http_by_class_[cls >= 1 && cls <= 5 ? static_cast<size_t>(cls - 1) : 5];
}

std::string ServerMetrics::render(const EngineStats& s, int64_t http_requests_in_flight,
                                  int64_t open_connections) const {
  PrometheusWriter w;
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  w.gauge(prefix_ + "num_requests_running", "Sequences in the running batch (prefill or decode).",
          d(s.num_running));
  w.gauge(prefix_ + "num_requests_waiting", "Sequences waiting to be scheduled.", d(s.num_waiting));
  w.gauge(prefix_ + "num_requests_swapped", "Sequences preempted to the host KV tier.",
          d(s.num_swapped));
  w.gauge(prefix_ + "kv_cache_usage_perc",
          "Fraction of KV-cache blocks referenced by sequences (1 = full).",
          s.num_kv_blocks > 0 ? d(s.num_used_kv_blocks) / d(s.num_kv_blocks) : 0.0);
  w.gauge(prefix_ + "kv_cache_blocks_used", "KV-cache blocks referenced by sequences.",
          d(s.num_used_kv_blocks));
  w.gauge(prefix_ + "kv_cache_num_blocks", "KV-cache blocks in the pool.", d(s.num_kv_blocks));
  w.counter(prefix_ + "prefix_cache_queries_total",
            "Prompt tokens looked up in the prefix cache at admission.", d(s.prefix_query_tokens));
  w.counter(prefix_ + "prefix_cache_hits_total", "Prompt tokens found in the prefix cache.",
            d(s.prefix_hit_tokens));
  w.counter(prefix_ + "prompt_tokens_total", "Prompt tokens of admitted requests.",
            d(s.num_prompt_tokens));
  w.counter(prefix_ + "generation_tokens_total", "Tokens generated.", d(s.num_generated_tokens));
  w.counter(prefix_ + "num_preemptions_total", "Sequences preempted (recompute or swap).",
            d(s.num_preemptions));
  w.counter(prefix_ + "engine_steps_total", "Engine steps run.", d(s.num_steps));

  std::vector<std::pair<MetricLabels, double>> reasons;
  for (FinishReason r :
       {FinishReason::kStop, FinishReason::kLength, FinishReason::kAbort, FinishReason::kError})
    reasons.push_back({{{"finished_reason", std::string(finish_reason_name(r))}},
                       d(finished_[static_cast<size_t>(r)].load())});
  w.counter(prefix_ + "request_success_total", "Finished completions by finish reason.", reasons);

  w.histogram(prefix_ + "time_to_first_token_seconds",
              "Time from arrival to the first generated token.", ttft_.snapshot());
  w.histogram(prefix_ + "time_per_output_token_seconds",
              "Mean time per output token after the first, per completion.", tpot_.snapshot());
  w.histogram(prefix_ + "e2e_request_latency_seconds", "Time from arrival to the last token.",
              e2e_.snapshot());
  w.histogram(prefix_ + "request_prompt_tokens", "Prompt tokens per request.",
              prompt_tokens_.snapshot());
  w.histogram(prefix_ + "request_generation_tokens", "Generated tokens per completion.",
              gen_tokens_.snapshot());

  std::vector<std::pair<MetricLabels, double>> http;
  const char* classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  for (size_t i = 0; i < 6; ++i)
    http.push_back({{{"status", classes[i]}}, d(http_by_class_[i].load())});
  w.counter(prefix_ + "http_requests_total", "HTTP requests answered, by status class.", http);
  w.counter(prefix_ + "queue_full_rejections_total",
            "Requests refused with 429 because the queue was full.", d(num_queue_full_.load()));
  w.gauge(prefix_ + "http_requests_in_flight", "HTTP requests being answered.",
          d(http_requests_in_flight));
  w.gauge(prefix_ + "http_open_connections", "Open client connections.", d(open_connections));
  return w.text();
}

}  // namespace pareto::server
