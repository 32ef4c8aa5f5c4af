// `pareto bench sweep`: a grid of server configurations x load points, each run several times,
// written as a table and plots with the Pareto frontier marked (bench/sweep.h,
// docs/bench_sweep.md).
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "bench/arrival_schedule.h"
#include "bench/sweep.h"
#include "bench/sweep_report.h"
#include "cli/bench_command.h"

namespace pareto::cli {
namespace {

struct SweepCliOptions {
  bench::SweepOptions sweep;
  std::vector<int64_t> max_num_seqs{8, 32};
  std::vector<int64_t> replicas{1};
  std::vector<int64_t> concurrency;
  std::vector<std::string> request_rates;
  int64_t threads = 0;
  std::string server_args;
  std::string output_dir = "sweep-results";
  bool no_energy = false;
  std::string replot;
  CLI::Option* metric_opt = nullptr;
  CLI::Option* mns_opt = nullptr;
  CLI::Option* replicas_opt = nullptr;
  CLI::Option* output_len_opt = nullptr;
};

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::string w;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!w.empty()) words.push_back(w), w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(w);
  return words;
}

// Prints the table and the Pareto-optimal configurations, and writes the files.
void report(const bench::SweepResult& result, const std::string& output_dir) {
  const std::vector<std::string> paths = bench::write_sweep_outputs(result, output_dir);
  fmt::print("{}\n", bench::sweep_markdown(result));
  auto list = [&](bool per_user) {
    std::string names;
    for (const bench::SweepPoint& p : result.points)
      if (per_user ? p.pareto_optimal_per_user : p.pareto_optimal)
        names += (names.empty() ? "" : ", ") + bench::point_label(p.server, p.load);
    return names.empty() ? std::string("none (no point completed a request)") : names;
  };
  fmt::print("Pareto-optimal (output tok/s vs median {} latency): {}\n", result.latency_metric,
             list(false));
  fmt::print("Pareto-optimal (tok/s per user vs total tok/s): {}\n", list(true));
  fmt::print("wrote");
  for (const std::string& p : paths) fmt::print(" {}", p);
  fmt::print("\n");
}

// --replot: the files again from a sweep.json, e.g. with another --latency-metric.
int replot(const SweepCliOptions& o) {
  std::ifstream in(o.replot);
  if (!in) fail("cannot read {}", o.replot);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON ({})", o.replot, e.what());
  }
  bench::SweepResult result = bench::sweep_from_json(j);
  if (o.metric_opt->count() > 0) result.latency_metric = o.sweep.latency_metric;
  bench::mark_pareto(result);
  report(result, o.output_dir);
  return 0;
}

int run_sweep_command(SweepCliOptions& o) {
  if (!o.replot.empty()) return replot(o);
  bench::SweepOptions& s = o.sweep;
  const bool existing_server = !s.base_url.empty();
  if (existing_server) {
    if (o.mns_opt->count() > 0 || o.replicas_opt->count() > 0)
      fail(
          "--max-num-seqs and --replicas need -m MODEL: against an existing server (--base-url) "
          "only the load is swept");
  } else {
    s.grid.max_num_seqs = o.max_num_seqs;
    s.grid.replicas = o.replicas;
    s.grid.total_threads =
        o.threads > 0 ? o.threads : static_cast<int64_t>(ThreadPool::default_num_threads());
  }
  s.grid.concurrency = o.concurrency;
  for (const std::string& r : o.request_rates)
    s.grid.request_rates.push_back(bench::parse_request_rate(r));
  if (s.grid.concurrency.empty() && s.grid.request_rates.empty())
    s.grid.concurrency = {1, 4, 16, 64};
  s.server_args = split_words(o.server_args);
  s.measure_energy = !o.no_energy;
  s.dataset.output_len_override = o.output_len_opt->count() > 0;
  if (s.api_key.empty())
    if (const char* env = std::getenv("OPENAI_API_KEY")) s.api_key = env;

  const size_t num_points =
      bench::expand_server_configs(s.grid).size() * bench::expand_loads(s.grid).size();
  fmt::print(stderr, "sweep: {} points x {} runs\n", num_points, s.runs);
  // The files are rewritten after every point, so an interrupted sweep keeps what it measured.
  s.after_point = [&](const bench::SweepResult& partial) {
    bench::write_sweep_outputs(partial, o.output_dir);
  };
  const bench::SweepResult result =
      bench::run_sweep(s, [](const std::string& line) { fmt::print(stderr, "{}\n", line); });
  report(result, o.output_dir);
  for (const bench::SweepPoint& p : result.points)
    if (bench::output_throughput(p) > 0) return 0;
  return 1;  // nothing completed: the sweep measured nothing
}

const RegisterBenchCommand kRegister{
    "sweep",
    "Grid of max-num-seqs x replicas x load, each run several times; table and plots with the "
    "Pareto frontier",
    [](CLI::App& sub) {
      auto o = std::make_shared<SweepCliOptions>();
      bench::SweepOptions& s = o->sweep;
      s.dataset.input_len = 128;
      s.dataset.output_len = 64;
      s.dataset.num_prompts = 0;
      sub.add_option("-m,--model", s.model_path,
                     "GGUF model: the sweep starts one `pareto serve` per configuration");
      sub.add_option("--base-url", s.base_url,
                     "Or an existing OpenAI-compatible server (only the load is swept)");
      sub.add_option("--served-model-name", s.served_model,
                     "Model name in requests (default: the file's stem, or the first of "
                     "GET /v1/models)");
      sub.add_option("--api-key", s.api_key, "Bearer token (default: $OPENAI_API_KEY)");
      o->mns_opt =
          sub.add_option("--max-num-seqs", o->max_num_seqs, "Comma-separated server batch sizes")
              ->delimiter(',')
              ->capture_default_str();
      o->replicas_opt = sub.add_option("--replicas", o->replicas,
                                       "Comma-separated replica counts (pareto serve --replicas)")
                            ->delimiter(',')
                            ->capture_default_str();
      sub.add_option(
          "--threads", o->threads,
          "Total server threads, split over the replicas (default: one per physical core)");
      sub.add_option("--concurrency", o->concurrency,
                     "Comma-separated concurrency levels (default 1,4,16,64 without "
                     "--request-rate)")
          ->delimiter(',');
      sub.add_option("--request-rate", o->request_rates,
                     "Comma-separated request rates (req/s, or inf); with --concurrency, "
                     "each rate under each cap")
          ->delimiter(',');
      sub.add_option("--burstiness", s.burstiness, "Gamma shape of arrival gaps (1 = Poisson)")
          ->capture_default_str();
      sub.add_option("--runs", s.runs, "Runs per point (the median is reported)")
          ->capture_default_str();
      sub.add_option("--dataset-name", s.dataset.name, "random, sharegpt, shared-prefix or rag")
          ->check(CLI::IsMember({"random", "sharegpt", "shared-prefix", "rag"}))
          ->capture_default_str();
      sub.add_option("--dataset-path", s.dataset.dataset_path,
                     "ShareGPT JSON file (sharegpt) or chunk corpus (rag)");
      sub.add_option("--input-len", s.dataset.input_len, "Prompt tokens (random, shared-prefix)")
          ->capture_default_str();
      o->output_len_opt =
          sub.add_option("--output-len", s.dataset.output_len, "Tokens generated per request")
              ->capture_default_str();
      sub.add_option("--range-ratio", s.dataset.range_ratio,
                     "random: lengths uniform in len*(1 +- ratio)")
          ->capture_default_str();
      sub.add_option("--prefix-len", s.dataset.prefix_len, "shared-prefix: tokens per prefix")
          ->capture_default_str();
      sub.add_option("--num-prefixes", s.dataset.num_prefixes, "shared-prefix: distinct prefixes")
          ->capture_default_str();
      sub.add_option("--num-prompts", s.dataset.num_prompts,
                     "Requests per run (0: max(16, 4 x concurrency); with only a rate, 10 s of "
                     "arrivals)")
          ->capture_default_str();
      sub.add_option("--seed", s.dataset.seed, "Seed of the workload and arrivals")
          ->capture_default_str();
      sub.add_option("--tokenizer", s.tokenizer_path,
                     "GGUF whose tokenizer builds exact-length prompts (default: the -m file)");
      sub.add_flag("--ignore-eos,!--no-ignore-eos", s.ignore_eos,
                   "Generate exactly --output-len tokens, so points are comparable (default on)");
      sub.add_option("--num-warmup", s.num_warmup, "Untimed requests before each run")
          ->capture_default_str();
      sub.add_option("--endpoint", s.endpoint, "completions or chat")
          ->check(CLI::IsMember({"completions", "chat"}))
          ->capture_default_str();
      o->metric_opt =
          sub.add_option("--latency-metric", s.latency_metric,
                         "x axis of the throughput plot and its frontier: e2el, tpot or ttft")
              ->check(CLI::IsMember({"e2el", "tpot", "ttft"}))
              ->capture_default_str();
      sub.add_option("--server-args", o->server_args,
                     "Extra `pareto serve` arguments, e.g. \"--kv-cache-memory 256MiB\"");
      sub.add_option("--server-binary", s.server_binary,
                     "The pareto binary to start servers from (default: this one)");
      sub.add_option("--startup-timeout", s.server_startup_timeout_s,
                     "Seconds a server may take to answer /health")
          ->capture_default_str();
      sub.add_option("--request-timeout", s.request_timeout_s, "Seconds one request may take")
          ->capture_default_str();
      sub.add_flag("--no-energy", o->no_energy, "Do not measure energy");
      sub.add_option("--replot", o->replot,
                     "Measure nothing: rewrite the table and plots from this sweep.json (with "
                     "--latency-metric, recompute the frontier for it)");
      sub.add_option("-o,--output-dir", o->output_dir, "Where the result files go")
          ->capture_default_str();
      return [o] { return run_sweep_command(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
