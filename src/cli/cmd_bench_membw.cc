// `pareto bench membw`: STREAM-style memory bandwidth (read, copy, triad) over the thread pool.
// The measurement is bench/memory_bandwidth.h; this file is the command line and the report.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/thread_pool.h"
#include "bench/memory_bandwidth.h"
#include "cli/bench_command.h"

namespace pareto::cli {
namespace {

struct MembwOptions {
  int threads = 0;
  double size_mib = 256;
  int reps = 5;
  bool json = false;
};

nlohmann::json stat_json(const bench::BandwidthStat& s) {
  return {{"best_gb_s", s.best_gb_s}, {"median_gb_s", s.median_gb_s}, {"seconds", s.seconds}};
}

int run_membw(const MembwOptions& o) {
  if (!(o.size_mib > 0)) fail("bench membw: --size must be positive, got {}", o.size_mib);
  ThreadPool pool(o.threads);
  bench::MemoryBandwidthOptions opts;
  opts.array_bytes = static_cast<size_t>(o.size_mib * (1 << 20));
  opts.reps = o.reps;
  fmt::print(stderr, "membw: 3 arrays of {:.1f} MiB, {} reps, {} threads\n", o.size_mib, o.reps,
             pool.num_threads());
  const bench::MemoryBandwidthResult r = bench::measure_memory_bandwidth(opts, pool);

  if (o.json) {
    const nlohmann::json j = {{"array_mib", static_cast<double>(r.array_bytes) / (1 << 20)},
                              {"threads", r.threads},
                              {"reps", r.reps},
                              {"bytes_counted", "stream (no write-allocate)"},
                              {"read", stat_json(r.read)},
                              {"copy", stat_json(r.copy)},
                              {"triad", stat_json(r.triad)},
                              {"read_gb_s", r.read.best_gb_s},
                              {"triad_gb_s", r.triad.best_gb_s}};
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("{:<6} {:>11} {:>13}   bytes per element\n", "kernel", "best GB/s", "median GB/s");
  auto row = [](const char* name, const bench::BandwidthStat& s, const char* bytes) {
    fmt::print("{:<6} {:>11.2f} {:>13.2f}   {}\n", name, s.best_gb_s, s.median_gb_s, bytes);
  };
  row("read", r.read, "8  (s += a[i])");
  row("copy", r.copy, "16 (a[i] = b[i])");
  row("triad", r.triad, "24 (a[i] = b[i] + q*c[i]; STREAM counting, no write-allocate)");
  return 0;
}

const RegisterBenchCommand reg{
    "membw", "STREAM-style memory bandwidth: read, copy and triad GB/s", [](CLI::App& sub) {
      auto o = std::make_shared<MembwOptions>();
      sub.add_option("-t,--threads", o->threads, "Threads (0: one per physical core)")
          ->capture_default_str();
      sub.add_option("--size", o->size_mib, "MiB per array (three arrays)")->capture_default_str();
      sub.add_option("--reps", o->reps, "Timed sweeps per kernel")->capture_default_str();
      sub.add_flag("--json", o->json, "Print one JSON object on stdout");
      return [o] { return run_membw(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
