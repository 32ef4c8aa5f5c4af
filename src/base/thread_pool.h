// A fixed set of persistent worker threads that run one parallel loop at a time.
// The calling thread takes part as worker 0, so ThreadPool(1) runs everything inline.
// Work is split into contiguous ranges by index, so the same (n, num_threads) always gives the
// same split: results that depend only on per-index work are identical for any thread count.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pareto {

class ThreadPool {
 public:
  static constexpr int kMaxThreads = 1024;

  // num_threads <= 0 picks default_num_threads(); more than kMaxThreads throws pareto::Error.
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(begin, end, thread_idx) on disjoint ranges covering [0, n); blocks until all
  // ranges are done. Ranges are aligned to `grain` items (except the last). Not reentrant.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                    int64_t grain = 1);

  // Physical cores of this machine (logical CPUs when that cannot be told).
  static int default_num_threads();

 private:
  void worker_loop(int thread_idx);
  void run_share(int thread_idx);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_grain_ = 1;
};

}  // namespace pareto
