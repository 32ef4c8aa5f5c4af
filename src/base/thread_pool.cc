#include "base/thread_pool.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include "base/error.h"

namespace pareto {

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads > 0 ? num_threads : default_num_threads()) {
  // A typo such as --threads 20000 should be an error, not thousands of threads.
  if (num_threads_ > kMaxThreads)
    fail("{} threads requested; at most {} are supported", num_threads_, kMaxThreads);
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int thread_idx) {
  const int64_t num_grains = (job_n_ + job_grain_ - 1) / job_grain_;
  const int64_t begin_grain = num_grains * thread_idx / num_threads_;
  const int64_t end_grain = num_grains * (thread_idx + 1) / num_threads_;
  const int64_t begin = std::min(job_n_, begin_grain * job_grain_);
  const int64_t end = std::min(job_n_, end_grain * job_grain_);
  if (begin < end) (*job_)(begin, end, thread_idx);
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (num_threads_ == 1 || n <= grain) {
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_grain_ = grain;
    pending_ = num_threads_ - 1;
    ++generation_;
  }
  work_cv_.notify_all();
  run_share(0);
  std::unique_lock lock(mutex_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker_loop(int thread_idx) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_share(thread_idx);
    {
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

int ThreadPool::default_num_threads() {
  // Count distinct (physical id, core id) pairs: hyperthreads share a core's FMA units and
  // memory bandwidth, so one thread per physical core is the sensible default for inference.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical = "0";
  while (std::getline(cpuinfo, line)) {
    auto value = [&] { return line.substr(line.find(':') + 1); };
    if (line.rfind("physical id", 0) == 0) physical = value();
    if (line.rfind("core id", 0) == 0) cores.emplace(physical, value());
  }
  const int logical = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (cores.empty()) return logical;
  return std::min(logical, static_cast<int>(cores.size()));
}

}  // namespace pareto
