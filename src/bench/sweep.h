// `pareto bench sweep` as a library: a grid of server configurations (max-num-seqs x replicas,
// each started as its own `pareto serve`) x load points (concurrency and/or request rate), each
// point run several times with the prefix cache reset, summarized by the median over runs, with
// the Pareto-optimal points marked. Output files: bench/sweep_report.h. Docs: docs/bench_sweep.md.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_dataset.h"
#include "bench/latency_summary.h"

namespace pareto::bench {

// One server configuration. 0 = unknown (a sweep against an existing server).
struct SweepServerConfig {
  int64_t max_num_seqs = 0;
  int64_t replicas = 0;
  int64_t threads_per_replica = 0;
};

// One load point. concurrency 0 = unlimited; request_rate nullopt = infinite (all at once).
struct SweepLoad {
  int64_t concurrency = 0;
  std::optional<double> request_rate;
};

struct SweepPoint {
  SweepServerConfig server;
  SweepLoad load;
  int64_t num_prompts = 0;
  std::vector<nlohmann::json> runs;      // to_json(BenchSummary) of each run
  nlohmann::json median;                 // median_of_runs(runs)
  bool pareto_optimal = false;           // output tok/s vs latency frontier
  bool pareto_optimal_per_user = false;  // tok/s per user vs total tok/s frontier
};

struct SweepResult {
  std::string model;                    // the served model name requests used
  std::string model_path;               // -m file, empty against an existing server
  std::string base_url;                 // the existing server, empty when the sweep started servers
  nlohmann::json dataset;               // the workload options
  std::string latency_metric = "e2el";  // x axis of the throughput plot: e2el | tpot | ttft
  int64_t runs_per_point = 0;
  std::vector<std::string> notes;  // e.g. "the server has no /reset_prefix_cache"
  std::vector<SweepPoint> points;
};

// The grid's axes. Exactly one of concurrency/request_rates may be empty (both set = every rate
// with every concurrency cap); an empty max_num_seqs/replicas means "the existing server".
struct SweepGrid {
  std::vector<int64_t> max_num_seqs;
  std::vector<int64_t> replicas;
  int64_t total_threads = 0;  // split evenly over the replicas
  std::vector<int64_t> concurrency;
  std::vector<double> request_rates;  // inf allowed
};

// Server configurations in grid order (max_num_seqs outer, replicas inner). Values < 1, or more
// replicas than threads -> pareto::Error. Empty axes -> one unknown configuration.
std::vector<SweepServerConfig> expand_server_configs(const SweepGrid& grid);
// Load points in grid order (rate outer, concurrency inner). Bad values -> pareto::Error.
std::vector<SweepLoad> expand_loads(const SweepGrid& grid);

// Default number of prompts for a load point: max(16, 4 x concurrency) with a concurrency cap,
// else max(16, 10 s of arrivals) up to 1000, and 64 for an unlimited burst.
int64_t auto_num_prompts(const SweepLoad& load);

// The median over runs of every number in the to_json(BenchSummary) objects (numpy's median:
// the mean of the two middle values for an even count). null values (energy unavailable) are
// left out; a key null in every run stays null. Strings come from the first run. Runs must share
// their keys; an empty list -> pareto::Error.
nlohmann::json median_of_runs(const std::vector<nlohmann::json>& runs);

// "mns=32 r=1 c=16" (server part omitted when unknown; "rate=4" for a rate, "c=inf" unlimited).
std::string point_label(const SweepServerConfig& server, const SweepLoad& load);
std::string server_label(const SweepServerConfig& server);  // "mns=32 r=1", "server" if unknown

// Plot coordinates from a point's median; NaN when not measurable (no completed request, or
// output lengths of 1 for TPOT).
double latency_ms(const SweepPoint& p, const std::string& metric);  // median_<metric>_ms
double output_throughput(const SweepPoint& p);                      // output tokens/s
double tokens_per_s_per_user(const SweepPoint& p);                  // 1000 / median TPOT ms

// Sets pareto_optimal (min latency, max output tok/s) and pareto_optimal_per_user (max total
// tok/s, max tok/s per user) on every point.
void mark_pareto(SweepResult& result);

struct SweepOptions {
  std::string model_path;    // -m: start one `pareto serve` per server configuration
  std::string base_url;      // or: an existing server (only the load axis is swept)
  std::string served_model;  // the requests' "model" (default: the file's stem / first model)
  std::string api_key;
  std::string server_binary;             // default: this executable
  std::vector<std::string> server_args;  // extra `pareto serve` arguments
  double server_startup_timeout_s = 300;
  SweepGrid grid;
  int64_t runs = 3;
  DatasetOptions dataset;      // num_prompts <= 0: auto_num_prompts per load point
  std::string tokenizer_path;  // GGUF whose tokenizer builds exact-length prompts
  bool ignore_eos = true;
  int64_t num_warmup = 0;
  double burstiness = 1.0;
  std::string endpoint = "completions";
  std::string latency_metric = "e2el";
  bool measure_energy = true;
  double request_timeout_s = 600;
  // Called after every finished point with the results so far (Pareto flags set among them),
  // e.g. to keep the output files current during a long sweep.
  std::function<void(const SweepResult& partial)> after_point;
};

// Runs the whole grid. `progress` gets one line per run and per note. Servers it started are
// stopped before it returns or throws.
SweepResult run_sweep(const SweepOptions& options,
                      const std::function<void(const std::string&)>& progress);

}  // namespace pareto::bench
