#include "bench/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <new>

#include "base/error.h"

namespace pareto::bench {
namespace {

// Elements per parallel task: whole 4 KiB pages, so no two threads share a page (first-touch
// placement then puts each thread's range on its own node).
constexpr int64_t kGrain = 4096 / sizeof(double);

struct FreeAligned {
  void operator()(double* p) const { ::operator delete[](p, std::align_val_t{4096}); }
};
using Array = std::unique_ptr<double[], FreeAligned>;

Array allocate(size_t n) {
  return Array(static_cast<double*>(::operator new[](n * sizeof(double), std::align_val_t{4096})));
}

// Sum with eight independent accumulators: a single running sum would be bound by the add
// latency (one element per ~4 cycles) instead of by memory.
double sum_range(const double* a, int64_t begin, int64_t end) {
  double s[8] = {};
  int64_t i = begin;
  for (; i + 8 <= end; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k];
  for (; i < end; ++i) s[0] += a[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

template <typename Fn>
double time_sweep(ThreadPool& pool, int64_t n, const Fn& fn) {
  const auto start = std::chrono::steady_clock::now();
  pool.parallel_for(n, fn, kGrain);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

BandwidthStat summarize(std::vector<double> seconds, double bytes) {
  BandwidthStat st;
  st.seconds = seconds;
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const double median_s = n % 2 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
  st.best_gb_s = bytes / seconds.front() / 1e9;
  st.median_gb_s = bytes / median_s / 1e9;
  return st;
}

}  // namespace

MemoryBandwidthResult measure_memory_bandwidth(const MemoryBandwidthOptions& options,
                                               ThreadPool& pool) {
  if (options.array_bytes < 4096)
    fail("membw: arrays of {} bytes are too small (at least 4 KiB)", options.array_bytes);
  if (options.reps < 1) fail("membw: reps must be >= 1, got {}", options.reps);
  const auto n = static_cast<int64_t>(options.array_bytes / sizeof(double));
  const bool all = !options.read_only;
  Array a = allocate(static_cast<size_t>(n));
  Array b = all ? allocate(static_cast<size_t>(n)) : nullptr;
  Array c = all ? allocate(static_cast<size_t>(n)) : nullptr;
  double* pa = a.get();
  double* pb = b.get();
  double* pc = c.get();

  // First touch on the threads (and ranges) that will sweep them.
  pool.parallel_for(
      n,
      [&](int64_t begin, int64_t end, int) {
        std::fill(pa + begin, pa + end, 1.0);
        if (!all) return;
        std::fill(pb + begin, pb + end, 2.0);
        std::fill(pc + begin, pc + end, 0.5);
      },
      kGrain);

  const double q = 3.0;
  // One partial sum per task slot, written once per range so threads do not share a line
  // in the hot loop; it keeps the compiler from dropping the reads.
  std::vector<double> partial(static_cast<size_t>(pool.num_threads()) * 8, 0.0);
  auto read = [&](int64_t begin, int64_t end, int t) {
    partial[static_cast<size_t>(t) * 8] += sum_range(pa, begin, end);
  };
  auto copy = [&](int64_t begin, int64_t end, int) { std::copy(pb + begin, pb + end, pa + begin); };
  auto triad = [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) pa[i] = pb[i] + q * pc[i];
  };

  MemoryBandwidthResult r;
  r.array_bytes = static_cast<size_t>(n) * sizeof(double);
  r.threads = pool.num_threads();
  r.reps = options.reps;
  const double bytes = static_cast<double>(r.array_bytes);
  auto run = [&](const auto& kernel, double arrays) {
    time_sweep(pool, n, kernel);  // warm-up: TLB, page tables, thread wake-up
    std::vector<double> seconds;
    for (int rep = 0; rep < options.reps; ++rep) seconds.push_back(time_sweep(pool, n, kernel));
    return summarize(std::move(seconds), arrays * bytes);
  };
  // read runs first: copy and triad overwrite a[], which the read checksum relies on.
  r.read = run(read, 1);
  if (all) {
    r.copy = run(copy, 2);
    r.triad = run(triad, 3);
  }

  double check = 0;
  for (double p : partial) check += p;
  // The read sweeps summed a[] while it held 1.0 everywhere: (reps + 1) * n exactly.
  if (!std::isfinite(check) || check != static_cast<double>(options.reps + 1) * n)
    fail("membw: read kernel checksum {} is wrong (expected {})", check,
         static_cast<double>(options.reps + 1) * n);
  return r;
}

}  // namespace pareto::bench
