// `pareto bench model`: prefill and decode tokens/s of a model, with the weight bandwidth and
// FLOP rate they imply and (optionally) the fraction of the measured memory bandwidth reached.
// The measurement is bench/model_bench.h; this file is the command line and the report.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/dtype.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "bench/compute_peak.h"
#include "bench/cost_model.h"
#include "bench/memory_bandwidth.h"
#include "bench/model_bench.h"
#include "cli/bench_command.h"
#include "cli/loaded_model.h"
#include "model/model.h"

namespace pareto::cli {
namespace {

struct BenchModelOptions {
  std::string model_path;
  bool mmap = false;
  bench::ModelBenchOptions bench;
  int threads = 0;
  double membw_gb_s = 0;
  bool roofline = false;
  double peak_gflops = 0;
  bool peak = false;
  std::string kv_cache_dtype = "f16";
  bool json = false;
};

// A short read-bandwidth measurement for the roofline: one 512 MiB array (past the last-level
// cache even of large-L3 server parts) read 3 times, about a second in all.
double quick_read_bandwidth(ThreadPool& pool) {
  bench::MemoryBandwidthOptions o;
  o.array_bytes = size_t{512} << 20;
  o.reps = 3;
  o.read_only = true;
  fmt::print(stderr, "bench: measuring memory read bandwidth ({} threads)...\n",
             pool.num_threads());
  const double gb_s = bench::measure_memory_bandwidth(o, pool).read.best_gb_s;
  fmt::print(stderr, "bench: read bandwidth {:.2f} GB/s\n", gb_s);
  return gb_s;
}

// The op a model's matmuls run: the packed and AVX2 kernels of every quantized type use the
// int8 dot, float weights (F16/BF16 widened) the F32 FMA.
bench::PeakOp peak_op_for(const Model& model) {
  return bench::model_shape(model).compute_dtype == "quantized" ? bench::PeakOp::kInt8Dot
                                                                : bench::PeakOp::kF32Fma;
}

double measure_peak(const Model& model, ThreadPool& pool) {
  const bench::PeakOp op = peak_op_for(model);
  fmt::print(stderr, "bench: measuring the {} peak ({} threads)...\n", bench::peak_op_name(op),
             pool.num_threads());
  bench::ComputePeakOptions o;
  o.reps = 3;
  const bench::PeakRate r = bench::measure_compute_peak(op, o, pool);
  fmt::print(stderr, "bench: {} peak {:.1f} GFLOP/s ({})\n", r.op, r.best_gflops, r.instruction);
  return r.best_gflops;
}

void print_table(const bench::ModelBenchResult& r) {
  fmt::print(
      "model: {} | {:.1f} MiB of weights, {:.1f} M weight parameters | {} threads, {} reps | "
      "{} KV cache\n",
      r.model, static_cast<double>(r.weight_bytes) / (1 << 20),
      static_cast<double>(r.weight_params) / 1e6, r.threads, r.reps, dtype_name(r.kv_dtype));
  if (r.prompt_tokens > 0)
    fmt::print("prefill pp{:<5} {:>10.2f} tok/s {:>9.2f} GFLOP/s{}{}\n", r.prompt_tokens,
               r.prefill_tok_s, r.prefill_gflops,
               r.peak_gflops > 0 ? fmt::format(" = {:.1f}% of {:.1f} GFLOP/s",
                                               100 * r.peak_fraction, r.peak_gflops)
                                 : std::string(),
               r.ubatch > 0 ? fmt::format("   (ubatch {})", r.ubatch) : std::string());
  if (r.gen_tokens > 0) {
    fmt::print("decode  tg{:<5} {:>10.2f} tok/s {:>9.2f} GFLOP/s {:>8.2f} GB/s of weights",
               r.gen_tokens, r.decode_tok_s, r.decode_gflops, r.weight_gb_s);
    if (r.roofline_gb_s > 0)
      fmt::print(" = {:.1f}% of {:.2f} GB/s", 100 * r.roofline_fraction, r.roofline_gb_s);
    fmt::print("\n");
  }
}

nlohmann::json result_json(const bench::ModelBenchResult& r) {
  nlohmann::json j = {{"model", r.model},
                      {"threads", r.threads},
                      {"p", r.prompt_tokens},
                      {"n", r.gen_tokens},
                      {"ubatch", r.ubatch},
                      {"reps", r.reps},
                      {"kv_cache_dtype", dtype_name(r.kv_dtype)},
                      {"weight_bytes", r.weight_bytes},
                      {"weight_params", r.weight_params},
                      {"prefill_tok_s", r.prefill_tok_s},
                      {"decode_tok_s", r.decode_tok_s},
                      {"weight_gb_s", r.weight_gb_s},
                      {"gflops", r.decode_gflops},
                      {"prefill_gflops", r.prefill_gflops},
                      {"prefill_seconds", r.prefill_seconds},
                      {"decode_seconds", r.decode_seconds}};
  if (r.roofline_gb_s > 0) {
    j["roofline_gb_s"] = r.roofline_gb_s;
    j["roofline_fraction"] = r.roofline_fraction;
  }
  if (r.peak_gflops > 0) {
    j["peak_gflops"] = r.peak_gflops;
    j["peak_fraction"] = r.peak_fraction;
  }
  return j;
}

int run_bench_model(BenchModelOptions& o) {
  if (o.membw_gb_s < 0) fail("bench model: --membw must be positive, got {}", o.membw_gb_s);
  auto model = load_weights(o.model_path, o.mmap);
  ThreadPool pool(o.threads);
  if (o.membw_gb_s > 0) {
    o.bench.roofline_gb_s = o.membw_gb_s;
  } else if (o.roofline) {
    o.bench.roofline_gb_s = quick_read_bandwidth(pool);
  }
  if (o.kv_cache_dtype != "f16" && o.kv_cache_dtype != "f32")
    fail("bench model: --kv-cache-dtype must be f16 or f32, got '{}'", o.kv_cache_dtype);
  o.bench.kv_dtype = o.kv_cache_dtype == "f16" ? DType::F16 : DType::F32;
  if (o.peak_gflops < 0) fail("bench model: --peak-gflops must be positive, got {}", o.peak_gflops);
  if (o.peak_gflops > 0) {
    o.bench.peak_gflops = o.peak_gflops;
  } else if (o.peak) {
    o.bench.peak_gflops = measure_peak(*model, pool);
  }
  fmt::print(stderr, "bench: {} | p {} n {} | {} threads | {} reps\n", o.model_path,
             o.bench.prompt_tokens, o.bench.gen_tokens, pool.num_threads(), o.bench.reps);
  const bench::ModelBenchResult r =
      bench::run_model_bench(*model, o.bench, pool, [&](int rep, const char* phase) {
        fmt::print(stderr, "bench: rep {}/{} {}\n", rep + 1, o.bench.reps, phase);
      });
  if (o.json) {
    fmt::print("{}\n", result_json(r).dump());
  } else {
    print_table(r);
  }
  return 0;
}

const RegisterBenchCommand reg{
    "model", "Prefill and decode tokens/s of a model, weight GB/s and GFLOP/s", [](CLI::App& sub) {
      auto o = std::make_shared<BenchModelOptions>();
      sub.add_option("-m,--model", o->model_path, "GGUF model file")->required();
      add_mmap_option(sub, o->mmap);
      sub.add_option("-p,--prompt-tokens", o->bench.prompt_tokens, "Prompt tokens (0: no prefill)")
          ->capture_default_str();
      sub.add_option("-n,--gen-tokens", o->bench.gen_tokens, "Decoded tokens (0: no decode)")
          ->capture_default_str();
      sub.add_option("-t,--threads", o->threads, "Threads (0: one per physical core)")
          ->capture_default_str();
      sub.add_option("--reps", o->bench.reps, "Repetitions (medians are reported)")
          ->capture_default_str();
      sub.add_option("--kv-cache-dtype", o->kv_cache_dtype,
                     "KV cache element type: f16 (the engine's default) or f32")
          ->capture_default_str();
      sub.add_option("--ubatch", o->bench.ubatch, "Prefill chunk size (0: whole prompt at once)")
          ->capture_default_str();
      auto* membw = sub.add_option("--membw", o->membw_gb_s,
                                   "Memory read bandwidth in GB/s to compare weight GB/s with");
      auto* roofline = sub.add_flag("--roofline", o->roofline,
                                    "Measure the memory read bandwidth first (about a second)");
      membw->excludes(roofline);
      auto* peak_gflops =
          sub.add_option("--peak-gflops", o->peak_gflops,
                         "Compute peak in GFLOP/s (bench peak) to compare prefill GFLOP/s with");
      auto* peak = sub.add_flag(
          "--peak", o->peak,
          "Measure the compute peak first: int8 dot for quantized models, F32 FMA for float ones");
      peak_gflops->excludes(peak);
      sub.add_flag("--json", o->json, "Print one JSON object on stdout");
      return [o] { return run_bench_model(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
