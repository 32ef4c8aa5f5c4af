// run_sweep (bench/sweep.h): starts one server per configuration, runs every load point
// `runs` times with the prefix cache reset before each run, and collects the summaries.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "base/error.h"
#include "bench/http_client.h"
#include "bench/serve_benchmark.h"
#include "bench/server_process.h"
#include "bench/sweep.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto::bench {
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot resolve /proc/self/exe: {}", ec.message());
  return p.string();
}

// Whether `binary serve --help` lists --replicas (the server's replication may be missing from
// older builds; a sweep over replicas must not silently run one replica).
bool serve_supports_replicas(const std::string& binary) {
  FILE* pipe = popen((shell_quote(binary) + " serve --help 2>&1").c_str(), "r");
  if (!pipe) return false;
  std::string help;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) help.append(buf, n);
  pclose(pipe);
  return help.find("--replicas") != std::string::npos;
}

nlohmann::json dataset_json(const DatasetOptions& d) {
  nlohmann::json j = {{"name", d.name}, {"seed", d.seed}};
  if (d.name == "random" || d.name == "shared-prefix") {
    j["input_len"] = d.input_len;
    j["output_len"] = d.output_len;
    j["range_ratio"] = d.range_ratio;
  }
  if (d.name == "shared-prefix") j["prefix_len"] = d.prefix_len, j["num_prefixes"] = d.num_prefixes;
  if (d.name == "rag") {
    j["rag_chunks_per_request"] = d.rag_chunks_per_request;
    j["output_len"] = d.output_len;
  }
  if (!d.dataset_path.empty()) j["dataset_path"] = d.dataset_path;
  if (d.num_prompts > 0) j["num_prompts"] = d.num_prompts;
  return j;
}

}  // namespace

SweepResult run_sweep(const SweepOptions& o,
                      const std::function<void(const std::string&)>& progress) {
  const bool start_servers = !o.model_path.empty();
  if (start_servers == !o.base_url.empty())
    fail(
        "give either -m MODEL (the sweep starts its servers) or --base-url URL (an existing "
        "server), not both");
  if (o.runs < 1) fail("--runs must be >= 1, got {}", o.runs);
  if (o.latency_metric != "e2el" && o.latency_metric != "tpot" && o.latency_metric != "ttft")
    fail("--latency-metric must be e2el, tpot or ttft, got '{}'", o.latency_metric);
  if (!start_servers && (!o.grid.max_num_seqs.empty() || !o.grid.replicas.empty()))
    fail(
        "--max-num-seqs and --replicas need -m MODEL: against an existing server (--base-url) "
        "only the load is swept");
  const std::vector<SweepServerConfig> configs = expand_server_configs(o.grid);
  const std::vector<SweepLoad> loads = expand_loads(o.grid);

  const std::string binary = o.server_binary.empty() ? self_exe() : o.server_binary;
  if (start_servers) {
    if (!std::filesystem::exists(o.model_path)) fail("{}: no such model file", o.model_path);
    const bool replicated = std::any_of(configs.begin(), configs.end(),
                                        [](const SweepServerConfig& c) { return c.replicas > 1; });
    if (replicated && !serve_supports_replicas(binary))
      fail("--replicas above 1 needs `pareto serve --replicas`, which {} does not have", binary);
  }

  // The tokenizer makes prompts of exact token lengths; without one lengths are estimates.
  std::unique_ptr<Tokenizer> tokenizer;
  const std::string tokenizer_path = !o.tokenizer_path.empty() ? o.tokenizer_path : o.model_path;
  if (!tokenizer_path.empty()) tokenizer = Tokenizer::from_gguf(GgufFile::open(tokenizer_path));

  SweepResult result;
  result.model_path = o.model_path;
  result.base_url = o.base_url;
  result.dataset = dataset_json(o.dataset);
  result.latency_metric = o.latency_metric;
  result.runs_per_point = o.runs;
  if (!o.served_model.empty()) {
    result.model = o.served_model;
  } else if (start_servers) {
    result.model = std::filesystem::path(o.model_path).stem().string();
  } else {
    const std::vector<std::string> models = list_models(o.base_url, o.api_key);
    if (models.empty()) fail("{}/v1/models lists no model; give --served-model-name", o.base_url);
    result.model = models.front();
  }

  // One workload per prompt count, the same for every configuration and run (same seed).
  std::map<int64_t, std::vector<BenchPrompt>> workloads;
  auto workload = [&](int64_t n) -> const std::vector<BenchPrompt>& {
    auto it = workloads.find(n);
    if (it != workloads.end()) return it->second;
    DatasetOptions d = o.dataset;
    d.num_prompts = n;
    return workloads.emplace(n, build_dataset(d, tokenizer.get())).first->second;
  };

  bool noted_no_reset = false;
  auto reset_prefix_cache = [&](const std::string& url) {
    const HttpResponse r = http_request("POST", url + "/reset_prefix_cache", "", o.api_key, 60);
    if (r.status == 200 || noted_no_reset) return;
    noted_no_reset = true;
    const std::string note = fmt::format(
        "POST /reset_prefix_cache answered HTTP {}: runs may reuse cached prefixes", r.status);
    result.notes.push_back(note);
    progress("note: " + note);
  };

  const size_t total = configs.size() * loads.size();
  auto run_config = [&](const SweepServerConfig& config, size_t config_idx) {
    size_t point_idx = config_idx * loads.size();
    std::unique_ptr<ServerProcess> server;
    std::string url = o.base_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (start_servers) {
      ServerProcessOptions so;
      so.binary = binary;
      so.startup_timeout_s = o.server_startup_timeout_s;
      so.args = {"serve",
                 "-m",
                 o.model_path,
                 "--served-model-name",
                 result.model,
                 "--max-num-seqs",
                 std::to_string(config.max_num_seqs)};
      if (o.grid.total_threads > 0) {
        so.args.push_back("--threads");
        so.args.push_back(std::to_string(o.grid.total_threads));
      }
      if (config.replicas > 1) {
        so.args.push_back("--replicas");
        so.args.push_back(std::to_string(config.replicas));
      }
      if (!o.api_key.empty()) so.args.insert(so.args.end(), {"--api-key", o.api_key});
      so.args.insert(so.args.end(), o.server_args.begin(), o.server_args.end());
      progress(fmt::format("starting pareto serve ({}, {} threads)", server_label(config),
                           o.grid.total_threads));
      server = std::make_unique<ServerProcess>(so);
      url = server->base_url();
    }
    for (const SweepLoad& load : loads) {
      ++point_idx;
      SweepPoint point;
      point.server = config;
      point.load = load;
      point.num_prompts =
          o.dataset.num_prompts > 0 ? o.dataset.num_prompts : auto_num_prompts(load);
      ServeBenchmarkConfig bc;
      bc.base_url = url;
      bc.model = result.model;
      bc.endpoint = o.endpoint;
      bc.api_key = o.api_key;
      bc.prompts = workload(point.num_prompts);
      bc.num_warmup = o.num_warmup;
      bc.request_rate = load.request_rate.value_or(std::numeric_limits<double>::infinity());
      bc.burstiness = o.burstiness;
      bc.max_concurrency = load.concurrency;
      bc.ignore_eos = o.ignore_eos;
      bc.seed = o.dataset.seed;
      bc.request_timeout_s = o.request_timeout_s;
      bc.show_progress = false;
      bc.scrape_metrics = false;
      bc.measure_energy = o.measure_energy;
      for (int64_t run = 1; run <= o.runs; ++run) {
        reset_prefix_cache(url);
        const ServeBenchmarkResult r = run_serve_benchmark(bc);
        const BenchSummary& s = r.summary;
        progress(fmt::format(
            "point {}/{}: {} run {}/{}: {:.1f} output tok/s, median E2E {:.1f} ms, TTFT {:.1f} "
            "ms, TPOT {:.2f} ms{}",
            point_idx, total, point_label(config, load), run, o.runs, s.output_throughput,
            s.e2el.median_ms, s.ttft.median_ms, s.tpot.median_ms,
            s.failed ? fmt::format(", {} FAILED", s.failed) : ""));
        point.runs.push_back(to_json(s));
      }
      point.median = median_of_runs(point.runs);
      result.points.push_back(std::move(point));
      if (o.after_point) {
        SweepResult partial = result;
        mark_pareto(partial);
        o.after_point(partial);
      }
    }
    // The server goes here (SIGTERM, waited for) before the next configuration starts.
  };

  std::string first_error;
  for (size_t i = 0; i < configs.size(); ++i) {
    const SweepServerConfig& config = configs[i];
    if (!start_servers) {
      run_config(config, i);  // nothing to skip to: an existing server's failure ends the sweep
      continue;
    }
    // One configuration failing (a server that does not start or dies) costs its points, not
    // the points already measured or the configurations still to come.
    try {
      run_config(config, i);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (first_error.empty()) first_error = what;
      const std::string note = fmt::format("{}: skipped after an error: {}", server_label(config),
                                           what.substr(0, what.find('\n')));
      result.notes.push_back(note);
      progress(fmt::format("{}: error: {}", server_label(config), what));
    }
  }
  if (result.points.empty()) fail("the sweep measured no point: {}", first_error);
  mark_pareto(result);
  return result;
}

}  // namespace pareto::bench
