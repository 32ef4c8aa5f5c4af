// Thread pool overhead: the round-trip latency of a parallel_for whose work is (almost) nothing,
// i.e. what every op pays to wake the workers and wait for them.
//   build-*/bench/thread_pool_bench
#include <benchmark/benchmark.h>

#include <atomic>

#include "base/thread_pool.h"

namespace pareto {
namespace {

// Arg: threads. n = threads so every worker gets one index (the worst case: all must run).
void BM_EmptyParallelFor(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  std::atomic<int64_t> sink{0};
  for (auto _ : state) {
    pool.parallel_for(threads, [&](int64_t b, int64_t e, int) {
      sink.fetch_add(e - b, std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_EmptyParallelFor)->Arg(1)->Arg(2)->UseRealTime();

// As above, with a gap between calls in which the caller does ~20us of serial work, as the
// model does between ops: shows whether workers are still spinning (cheap wake-up) or asleep.
void BM_ParallelForAfterSerialWork(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  std::atomic<int64_t> sink{0};
  volatile double x = 1.0;
  for (auto _ : state) {
    for (int i = 0; i < 5000; ++i) x = x * 1.0000001;
    pool.parallel_for(threads, [&](int64_t b, int64_t e, int) {
      sink.fetch_add(e - b, std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_ParallelForAfterSerialWork)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace pareto
