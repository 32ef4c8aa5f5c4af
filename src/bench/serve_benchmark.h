// `pareto bench serve` as a library call: sends a workload to an OpenAI-compatible server (Pareto,
// vLLM, llama.cpp's server, ...) as streamed requests, on an open-loop arrival schedule (request
// rate, Poisson or gamma) limited by a maximum number of requests in flight, and measures TTFT,
// TPOT, ITL, E2E latency, throughput, goodput and energy. See docs/bench_serve.md.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_dataset.h"
#include "bench/energy_meter.h"
#include "bench/latency_summary.h"

namespace pareto::bench {

struct ServeBenchmarkConfig {
  std::string base_url = "http://127.0.0.1:8000";  // without /v1
  std::string model;                               // "model" field of requests
  std::string endpoint = "completions";            // completions | chat
  std::string api_key;
  std::vector<BenchPrompt> prompts;  // the workload
  int64_t num_warmup = 0;            // requests sent (and waited for) before timing
  double request_rate = std::numeric_limits<double>::infinity();
  double burstiness = 1.0;
  int64_t max_concurrency = 0;  // 0 = unlimited
  bool ignore_eos = false;
  uint64_t seed = 0;
  double temperature = 0.0;
  SloTargets slo;
  double request_timeout_s = 600;
  // Reuse each connection for later requests (HTTP/1.1 keep-alive, as vLLM's `bench serve` and the
  // OpenAI SDKs do); false: a new connection per request, which the server is asked to close.
  bool keep_alive = true;
  bool show_progress = true;  // progress bar on stderr when a TTY
  // Run the load generator under SCHED_BATCH (base/thread_scheduling.h), so that on the
  // server's machine it does not preempt the engine at every token it reads.
  bool batch_scheduling = true;
  bool scrape_metrics = true;  // GET /metrics before and after (absent -> empty)
  bool measure_energy = true;
};

struct ServeBenchmarkResult {
  BenchSummary summary;
  std::vector<RequestRecord> records;  // in workload order
  // Prometheus samples, key = name{labels}.
  std::map<std::string, double> metrics_before, metrics_after;
  EnergyReading energy;
  // The config the run used, without its prompts and API key (for to_json).
  ServeBenchmarkConfig config;
  // {"config": {..., "num_prompts"}, "summary": to_json(summary), "energy": {available, source,
  //  unavailable_reason, joules, domains}, "connections_opened", "metrics_delta": {key: after -
  //  before for keys in both}, "records": [{prompt_len, output_len, cached_tokens, start_s,
  //  ttft_s, e2e_s, success, error}, ...]}. Non-finite numbers (an infinite request rate) are
  //  written as null.
  nlohmann::json to_json() const;
  int64_t num_prompts = 0;  // of the workload (config.prompts is left empty)
  // Connections the timed run opened: with keep-alive at most max_concurrency (the warm-up's are
  // reused) plus one per connection the server closed; without it, one per request.
  int64_t connections_opened = 0;
};

// GET <base_url>/v1/models: the served model ids in order. Unreachable -> pareto::Error "cannot
// reach <url>: ..."; a non-200 answer or an unexpected body -> pareto::Error too.
std::vector<std::string> list_models(const std::string& base_url, const std::string& api_key,
                                     double timeout_s = 30);

// Runs the benchmark: checks the server answers GET /v1/models, runs the warm-up requests (the
// first num_warmup prompts, cycling, all at once within max_concurrency; any failure ->
// pareto::Error with the request's error, as the measured run would be meaningless), scrapes
// /metrics, starts the energy meter, sends the prompts each at max(its arrival time, a free
// concurrency slot), stops the meter, scrapes /metrics again and summarizes. Per-request failures
// during the timed part never throw (they are counted); a server that cannot be reached at all ->
// pareto::Error "cannot reach <url>: ...".
ServeBenchmarkResult run_serve_benchmark(const ServeBenchmarkConfig& config);

}  // namespace pareto::bench
