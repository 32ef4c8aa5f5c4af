// `pareto bench peak`: the CPU's peak arithmetic rates (F32 FMA, BF16 dot, int8 dot) measured
// with register-only loops on the thread pool: the compute roofline, as `bench membw` is the
// memory one. The measurement is bench/compute_peak.h; this file is the command line and the
// report.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/thread_pool.h"
#include "bench/compute_peak.h"
#include "cli/bench_command.h"
#include "weights/simd_isa.h"

namespace pareto::cli {
namespace {

struct PeakOptions {
  int threads = 0;
  int reps = 5;
  bool json = false;
};

int run_peak(const PeakOptions& o) {
  ThreadPool pool(o.threads);
  bench::ComputePeakOptions opts;
  opts.reps = o.reps;
  fmt::print(stderr, "peak: register-only loops, {} reps, {} threads\n", o.reps,
             pool.num_threads());
  const std::vector<bench::PeakRate> rates = bench::measure_compute_peaks(opts, pool);
  if (rates.empty())
    fail("bench peak: no op to measure at SIMD level {} (PARETO_SIMD, or the CPU, allows none)",
         simd_isa_name(active_simd_isa()));
  if (o.json) {
    nlohmann::json j = {{"threads", pool.num_threads()}, {"reps", o.reps}};
    for (const bench::PeakRate& r : rates)
      j[r.op] = {{"instruction", r.instruction},
                 {"best_gflops", r.best_gflops},
                 {"median_gflops", r.median_gflops}};
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{:<9} {:>12} {:>14}   instruction\n", "op", "best GFLOP/s", "median GFLOP/s");
  for (const bench::PeakRate& r : rates)
    fmt::print("{:<9} {:>12.1f} {:>14.1f}   {}\n", r.op, r.best_gflops, r.median_gflops,
               r.instruction);
  return 0;
}

const RegisterBenchCommand reg{
    "peak", "Peak F32 FMA, BF16 dot and int8 dot rates of the CPU (register-only loops)",
    [](CLI::App& sub) {
      auto o = std::make_shared<PeakOptions>();
      sub.add_option("-t,--threads", o->threads, "Threads (0: one per physical core)")
          ->capture_default_str();
      sub.add_option("--reps", o->reps, "Timed runs per op (about 60 ms each)")
          ->capture_default_str();
      sub.add_flag("--json", o->json, "Print one JSON object on stdout");
      return [o] { return run_peak(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
