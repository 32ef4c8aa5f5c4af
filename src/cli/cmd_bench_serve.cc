// `pareto bench serve`: an OpenAI-API load generator against any compatible server (Pareto, vLLM,
// llama.cpp's server). Builds a workload (bench/bench_dataset.h), runs it (bench/serve_benchmark.h)
// and prints a "Serving Benchmark Result" block like vLLM's; the full result goes to --result-file
// (JSON) and one summary row to --csv. See docs/bench_serve.md.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "bench/arrival_schedule.h"
#include "bench/bench_dataset.h"
#include "bench/serve_benchmark.h"
#include "cli/bench_command.h"
#include "tokenizer/tokenizer.h"
#include "weights/gguf_file.h"

namespace pareto::cli {
namespace {

using nlohmann::json;

struct ServeBenchOptions {
  bench::ServeBenchmarkConfig run;
  bench::DatasetOptions dataset;
  std::string request_rate = "inf";
  std::string slo;
  std::string tokenizer_path;
  std::string result_file;
  std::string csv_file;
  bool no_energy = false;
  bool no_metrics = false;
  bool output_len_given = false;
};

// CSV: the run's identifying settings, then every summary key in to_json order.
std::string csv_field(const json& v) {
  if (v.is_null()) return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n") != std::string::npos) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return s;
}

std::pair<std::string, std::string> csv_lines(const ServeBenchOptions& o,
                                              const bench::BenchSummary* summary) {
  std::vector<std::pair<std::string, json>> cols = {
      {"model", o.run.model},
      {"endpoint", o.run.endpoint},
      {"dataset", o.dataset.name},
      {"num_prompts", o.dataset.num_prompts},
      {"request_rate", std::isinf(o.run.request_rate) ? json(nullptr) : json(o.run.request_rate)},
      {"burstiness", o.run.burstiness},
      {"max_concurrency", o.run.max_concurrency > 0 ? json(o.run.max_concurrency) : json(nullptr)},
  };
  // The header does not depend on the values: a default summary gives the same keys.
  const json s = bench::to_json(summary ? *summary : bench::BenchSummary{});
  for (const auto& [key, value] : s.items()) cols.emplace_back(key, value);
  std::string header, row;
  for (size_t i = 0; i < cols.size(); ++i) {
    header += (i ? "," : "") + cols[i].first;
    row += (i ? "," : "") + csv_field(cols[i].second);
  }
  return {header, row};
}

// Checked before the run, so that a mismatch does not waste it.
void check_csv_header(const std::string& path, const std::string& header) {
  std::ifstream in(path);
  if (!in) return;
  std::string first;
  std::getline(in, first);
  if (!first.empty() && first != header)
    fail("{}: exists with a different CSV header; use another --csv file", path);
}

void append_csv(const std::string& path, const std::string& header, const std::string& row) {
  bool has_header = false;
  {
    std::ifstream in(path);
    std::string first;
    has_header = in && std::getline(in, first) && first == header;
  }
  std::ofstream out(path, std::ios::app);
  if (!out) fail("{}: cannot open for writing", path);
  if (!has_header) out << header << "\n";
  out << row << "\n";
  if (!out) fail("{}: write failed", path);
}

void print_summary(const ServeBenchOptions& o, const bench::ServeBenchmarkResult& r) {
  const bench::BenchSummary& s = r.summary;
  const auto line = [](const std::string& label, const std::string& value) {
    fmt::print("{:<40} {:<10}\n", label, value);
  };
  const auto num = [](double v, int digits = 2) { return fmt::format("{:.{}f}", v, digits); };
  const auto title = [](const std::string& t) { fmt::print("{:-^50}\n", t); };
  fmt::print("{:=^50}\n", " Serving Benchmark Result ");
  line("Successful requests:", std::to_string(s.completed));
  line("Failed requests:", std::to_string(s.failed));
  if (o.run.max_concurrency > 0)
    line("Maximum request concurrency:", std::to_string(o.run.max_concurrency));
  line("Request rate configured (RPS):",
       std::isinf(o.run.request_rate) ? "inf" : num(o.run.request_rate));
  line("Benchmark duration (s):", num(s.duration_s));
  line("Total input tokens:", std::to_string(s.total_input_tokens));
  line("Total generated tokens:", std::to_string(s.total_output_tokens));
  line("Request throughput (req/s):", num(s.request_throughput));
  if (o.run.slo.ttft_ms || o.run.slo.tpot_ms || o.run.slo.e2e_ms)
    line("Request goodput (req/s):", num(s.request_goodput));
  line("Output token throughput (tok/s):", num(s.output_throughput));
  line("Total token throughput (tok/s):", num(s.total_token_throughput));
  if (s.energy_joules) {
    line(fmt::format("Energy ({}) (J):", s.energy_source), num(*s.energy_joules));
    if (s.joules_per_output_token)
      line("Energy per output token (J/tok):", num(*s.joules_per_output_token, 4));
  } else {
    fmt::print("Energy: {}\n", s.energy_source);
  }
  const auto block = [&](const char* head, const char* name, const bench::LatencyStats& l) {
    title(head);
    line(fmt::format("Mean {} (ms):", name), num(l.mean_ms));
    line(fmt::format("Median {} (ms):", name), num(l.median_ms));
    line(fmt::format("P90 {} (ms):", name), num(l.p90_ms));
    line(fmt::format("P99 {} (ms):", name), num(l.p99_ms));
  };
  block("Time to First Token", "TTFT", s.ttft);
  block("Time per Output Token (excl. 1st token)", "TPOT", s.tpot);
  block("Inter-token Latency", "ITL", s.itl);
  block("End-to-end Latency", "E2EL", s.e2el);
  fmt::print("{:=^50}\n", "");
}

int run_bench_serve(ServeBenchOptions& o) {
  o.run.request_rate = bench::parse_request_rate(o.request_rate);
  if (o.run.endpoint != "completions" && o.run.endpoint != "chat")
    fail("--endpoint must be completions or chat, got '{}'", o.run.endpoint);
  if (o.run.burstiness <= 0) fail("--burstiness must be > 0, got {}", o.run.burstiness);
  if (o.run.max_concurrency < 0) fail("--max-concurrency must be >= 1 (or 0 = unlimited)");
  o.run.slo = bench::parse_slo(o.slo);
  if (o.run.api_key.empty()) {
    if (const char* env = std::getenv("OPENAI_API_KEY")) o.run.api_key = env;
  }
  o.run.measure_energy = !o.no_energy;
  o.run.scrape_metrics = !o.no_metrics;
  o.dataset.seed = o.run.seed;
  o.dataset.output_len_override = o.output_len_given;

  // Everything that can be checked locally is, before any request is sent.
  std::unique_ptr<Tokenizer> tokenizer;
  if (!o.tokenizer_path.empty()) {
    const GgufFile gguf = GgufFile::open(o.tokenizer_path);
    tokenizer = Tokenizer::from_gguf(gguf);
  }
  o.run.prompts = bench::build_dataset(o.dataset, tokenizer.get());
  if (o.run.model.empty()) {
    const std::vector<std::string> ids = bench::list_models(o.run.base_url, o.run.api_key);
    if (ids.empty()) fail("{}/v1/models lists no model; pass --model", o.run.base_url);
    o.run.model = ids.front();
  }
  const auto [header, unused_row] = csv_lines(o, nullptr);
  if (!o.csv_file.empty()) check_csv_header(o.csv_file, header);

  const bench::ServeBenchmarkResult r = bench::run_serve_benchmark(o.run);
  print_summary(o, r);
  if (r.summary.failed > 0) {
    for (const bench::RequestRecord& rec : r.records)
      if (!rec.success) {
        fmt::print(stderr, "first failed request: {}\n", rec.error);
        break;
      }
  }
  if (!o.result_file.empty()) {
    json j = r.to_json();
    j["config"]["dataset"] = {{"name", o.dataset.name},
                              {"dataset_path", o.dataset.dataset_path},
                              {"input_len", o.dataset.input_len},
                              {"output_len", o.dataset.output_len},
                              {"range_ratio", o.dataset.range_ratio},
                              {"prefix_len", o.dataset.prefix_len},
                              {"num_prefixes", o.dataset.num_prefixes},
                              {"rag_chunks_per_request", o.dataset.rag_chunks_per_request},
                              {"tokenizer", o.tokenizer_path}};
    std::ofstream out(o.result_file);
    if (!out) fail("{}: cannot open for writing", o.result_file);
    out << j.dump(2) << "\n";
    if (!out) fail("{}: write failed", o.result_file);
  }
  if (!o.csv_file.empty()) {
    const auto [h, row] = csv_lines(o, &r.summary);
    append_csv(o.csv_file, h, row);
  }
  return r.summary.completed > 0 ? 0 : 1;
}

const RegisterBenchCommand kRegister{
    "serve",
    "Load-test an OpenAI-compatible server (TTFT, TPOT, ITL, E2E, goodput, "
    "energy)",
    [](CLI::App& sub) {
      auto o = std::make_shared<ServeBenchOptions>();
      o->run.show_progress = true;
      sub.add_option("--base-url", o->run.base_url,
                     "Server URL without /v1, e.g. http://127.0.0.1:8000")
          ->required();
      sub.add_option("--model", o->run.model,
                     "Model name sent in requests (default: the first of GET /v1/models)");
      sub.add_option("--endpoint", o->run.endpoint, "completions or chat")
          ->check(CLI::IsMember({"completions", "chat"}))
          ->capture_default_str();
      sub.add_option("--api-key", o->run.api_key, "Bearer token (default: $OPENAI_API_KEY)");
      sub.add_option("--dataset-name", o->dataset.name, "random, sharegpt, shared-prefix or rag")
          ->check(CLI::IsMember({"random", "sharegpt", "shared-prefix", "rag"}))
          ->capture_default_str();
      sub.add_option("--dataset-path", o->dataset.dataset_path,
                     "ShareGPT JSON file (sharegpt) or chunk corpus (rag)");
      sub.add_option("--input-len", o->dataset.input_len,
                     "Prompt tokens (random, shared-prefix suffix)")
          ->capture_default_str();
      sub.add_option_function<int64_t>(
          "--output-len",
          [o](int64_t v) {
            o->dataset.output_len = v;
            o->output_len_given = true;
          },
          "Tokens to generate per request (sharegpt: replaces the reply's "
          "length) [128]");
      sub.add_option("--range-ratio", o->dataset.range_ratio,
                     "random: lengths uniform in len*(1 +- ratio)")
          ->capture_default_str();
      sub.add_option("--prefix-len", o->dataset.prefix_len, "shared-prefix: tokens per prefix")
          ->capture_default_str();
      sub.add_option("--num-prefixes", o->dataset.num_prefixes, "shared-prefix: distinct prefixes")
          ->capture_default_str();
      sub.add_option("--rag-chunks-per-request", o->dataset.rag_chunks_per_request,
                     "rag: chunks per prompt")
          ->capture_default_str();
      sub.add_option("--num-prompts", o->dataset.num_prompts, "Measured requests")
          ->capture_default_str();
      sub.add_option("--tokenizer", o->tokenizer_path,
                     "GGUF file whose tokenizer builds prompts of exact token lengths");
      sub.add_option("--request-rate", o->request_rate,
                     "Requests per second (Poisson, or gamma with "
                     "--burstiness), or inf")
          ->capture_default_str();
      sub.add_option("--burstiness", o->run.burstiness,
                     "Gamma shape of the arrival gaps (1 = Poisson, < 1 burstier)")
          ->capture_default_str();
      sub.add_option("--max-concurrency", o->run.max_concurrency,
                     "Most requests in flight (0 = unlimited)")
          ->capture_default_str();
      sub.add_option("--num-warmup", o->run.num_warmup, "Untimed requests sent first")
          ->capture_default_str();
      sub.add_flag("--ignore-eos", o->run.ignore_eos,
                   "Ask the server to generate exactly --output-len tokens "
                   "(vLLM/Pareto extension)");
      sub.add_option("--seed", o->run.seed, "Seed of the workload, arrivals and sampling")
          ->capture_default_str();
      sub.add_option("--temperature", o->run.temperature, "Sampling temperature")
          ->capture_default_str();
      sub.add_option("--slo", o->slo, "Goodput targets in ms, e.g. ttft=500,tpot=50[,e2e=5000]");
      sub.add_option("--request-timeout", o->run.request_timeout_s,
                     "Seconds one request may take, connect to last byte")
          ->capture_default_str();
      sub.add_option("--result-file", o->result_file, "Write the full result as JSON here");
      sub.add_option("--csv", o->csv_file, "Append one summary row to this CSV file");
      sub.add_flag("--no-energy", o->no_energy, "Do not measure energy");
      sub.add_flag("--no-metrics", o->no_metrics, "Do not scrape /metrics before and after");
      sub.add_flag_callback(
          "--no-keep-alive", [o] { o->run.keep_alive = false; },
          "A new connection per request, closed after its response (default: connections are "
          "kept alive and reused, as vLLM's bench serve and the OpenAI SDKs do)");
      sub.add_option_function<std::string>(
             "--client-scheduling",
             [o](const std::string& v) { o->run.batch_scheduling = v == "batch"; },
             "Linux policy of the load generator: batch (default; it never preempts a server "
             "on the same machine mid-step) or normal")
          ->check(CLI::IsMember({"batch", "normal"}));
      return [o] { return run_bench_serve(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
