// A fixed set of persistent worker threads that run one parallel loop at a time.
// The calling thread takes part as worker 0, so ThreadPool(1) runs everything inline.
// Work is split into contiguous, grain-aligned chunks by index — the same (n, grain,
// num_threads) always gives the same chunks, so results that depend only on per-index work are
// identical for any thread count — and threads claim chunks dynamically (kChunksPerThread per
// thread): a thread the OS preempts (another process, the server's I/O) delays the loop only
// by the chunk it holds, not by a fixed share the others must wait for. The caller waits for
// the chunks, not for the workers: a worker that wakes late finds nothing left and goes back.
//
// Hand-off is lock-free on the fast path: the caller publishes a job by bumping an atomic
// generation, workers spin on it for a bounded time (kSpinMicros) and only then go to sleep on
// a condition variable, so back-to-back ops (the model's layer loop) never pay a futex wake-up,
// while an idle pool costs no CPU. The caller waits for completion the same way.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pareto {

class ThreadPool {
 public:
  static constexpr int kMaxThreads = 1024;
  // How long a waiting thread spins before it blocks. Long enough to cover the serial work
  // between two ops of a forward pass, and the engine's work between two steps (outputs,
  // scheduling; the server's hand-off to its I/O thread): at 50 us the workers slept between
  // decode steps and `pareto serve` lost 7-10% at 1 stream against `bench offline`, at 200 us
  // nothing measurable. Short enough that an idle pool stops burning CPU soon.
  // The environment variable PARETO_SPIN_US (0..1000000) overrides it; 0 sleeps at once.
  static constexpr int64_t kSpinMicros = 200;
  // Chunks per thread of one parallel_for: enough to even out a preempted thread, few enough
  // that claiming them (one atomic each) costs nothing next to the work.
  static constexpr int64_t kChunksPerThread = 4;

  // num_threads <= 0 picks default_num_threads(); more than kMaxThreads throws pareto::Error.
  explicit ThreadPool(int num_threads = 0);
  // As above, with worker i (1..n-1) pinned to cpus[i % cpus.size()] (empty: not pinned). The
  // calling thread, worker 0, pins itself if it wants to (pin_current_thread): replicas of the
  // engine each own a pool and a slice of the cores, so they don't compete for one core.
  ThreadPool(int num_threads, std::vector<int> cpus);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(begin, end, thread_idx) on disjoint ranges covering [0, n); blocks until all
  // ranges are done. Ranges are aligned to `grain` items (except the last): with G grains and
  // C = min(G, kChunksPerThread * num_threads) chunks, chunk c covers grains [G*c/C,
  // G*(c+1)/C). Which thread runs which chunk is not fixed. Not reentrant: fn
  // must not call parallel_for on the same pool, and one pool serves one caller at a time.
  // If fn throws (on any thread), every other range still runs to completion and then the
  // first exception caught is rethrown to the caller; the pool stays usable.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                    int64_t grain = 1);

  // Physical cores of this machine (logical CPUs when that cannot be told).
  static int default_num_threads();
  // The CPUs this process may run on (sched_getaffinity), in order.
  static std::vector<int> allowed_cpus();
  // Pins the calling thread to one CPU; false (and a warning) when the OS refuses.
  static bool pin_current_thread(int cpu);

 private:
  void worker_loop(int thread_idx);
  // Claims and runs chunks of whatever job is current until none is left.
  void run_chunks(int thread_idx) noexcept;
  // Waits until generation_ != seen or stop_; spins first, then sleeps.
  void wait_for_job(uint64_t seen);
  // Waits until every chunk of the current job is done; spins first, then sleeps.
  void wait_for_chunks(int64_t num_chunks);

  int num_threads_;
  std::vector<int> cpus_;
  std::vector<std::thread> workers_;

  // Job description: written by the caller before the release-store of claim_, read by a
  // thread only after it claimed a chunk of that job (which keeps the job, and so these
  // fields, alive until the chunk is done). Atomics because a late worker may read them while
  // the caller writes the next job's; such a worker's claim then fails and it discards them.
  std::atomic<const std::function<void(int64_t, int64_t, int)>*> job_{nullptr};
  std::atomic<int64_t> job_n_{0};
  std::atomic<int64_t> job_grain_{1};

  // Hot atomics on their own cache lines. claim_ packs (job serial << 32 | num_chunks << 16 |
  // next chunk): one word, so a claim validates the job and the bound together, and a stale
  // claim from an earlier job (same bound, same next) fails on the serial.
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<uint64_t> claim_{0};
  alignas(64) std::atomic<int64_t> chunks_done_{0};
  alignas(64) std::atomic<bool> stop_{false};

  // Slow path. A thread about to sleep registers in *_sleepers_ under mutex_ and re-checks its
  // condition; the waker changes the condition, then (seq_cst) reads the sleeper count and only
  // takes the mutex and notifies when someone may be asleep.
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::atomic<int> work_sleepers_{0};
  std::atomic<int> done_sleepers_{0};

  // First exception thrown by fn during the current job.
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace pareto
