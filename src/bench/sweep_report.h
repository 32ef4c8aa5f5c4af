// The files a sweep writes (docs/bench_sweep.md): sweep.json (every run and the medians; `pareto
// plan --validate` reads it), sweep.csv, sweep.md (a table) and two SVG plots with the Pareto
// frontier marked.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/sweep.h"

namespace pareto::bench {

// {"model", "model_path", "base_url", "dataset", "latency_metric", "runs_per_point", "notes",
//  "points": [{"max_num_seqs", "replicas", "threads_per_replica" (null when unknown),
//              "concurrency" (null = unlimited), "request_rate" (null = inf), "num_prompts",
//              "label", "runs": [...], "median": {...}, "pareto_optimal",
//              "pareto_optimal_per_user"}]}
nlohmann::json sweep_to_json(const SweepResult& result);

// Inverse of sweep_to_json (Pareto flags as stored; call mark_pareto to recompute them). A
// missing or mistyped key -> pareto::Error naming it.
SweepResult sweep_from_json(const nlohmann::json& j);

std::string sweep_csv(const SweepResult& result);
std::string sweep_markdown(const SweepResult& result);
std::string throughput_latency_svg(const SweepResult& result);
std::string per_user_svg(const SweepResult& result);

// Writes sweep.json, sweep.csv, sweep.md, throughput_vs_latency.svg and per_user_vs_total.svg
// into `dir` (created if missing); returns their paths. I/O failure -> pareto::Error.
std::vector<std::string> write_sweep_outputs(const SweepResult& result, const std::string& dir);

}  // namespace pareto::bench
