#include "base/thread_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "base/error.h"
#include "base/thread_scheduling.h"

namespace pareto {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Spins until done() or kSpinMicros have passed; returns done()'s last value. The clock is read
// only every 64 polls: it costs more than a poll. (Yielding between polls was tried: on a
// machine oversubscribed by busy processes it made round trips milliseconds long, as the
// yielding thread kept losing its turn; a short pure spin then a real sleep fares better.)
// PARETO_SPIN_US overrides kSpinMicros (0 = sleep at once): spinning wins on a machine whose
// cores are ours, and loses badly when other busy processes hold them (like OpenMP's
// OMP_WAIT_POLICY). Read once.
int64_t spin_micros() {
  static const int64_t value = [] {
    const char* env = std::getenv("PARETO_SPIN_US");
    if (!env || !*env) return ThreadPool::kSpinMicros;
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (*end != '\0' || v < 0 || v > 1'000'000) return ThreadPool::kSpinMicros;
    return static_cast<int64_t>(v);
  }();
  return value;
}

template <typename Done>
bool spin_until(Done done) {
  const int64_t micros = spin_micros();
  if (micros == 0) return done();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) : ThreadPool(num_threads, {}) {}

ThreadPool::ThreadPool(int num_threads, std::vector<int> cpus)
    : num_threads_(num_threads > 0 ? num_threads : default_num_threads()), cpus_(std::move(cpus)) {
  // A typo such as --threads 20000 should be an error, not thousands of threads.
  if (num_threads_ > kMaxThreads)
    fail("{} threads requested; at most {} are supported", num_threads_, kMaxThreads);
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i)
    workers_.emplace_back([this, i] {
      if (!cpus_.empty()) pin_current_thread(cpus_[static_cast<size_t>(i) % cpus_.size()]);
      worker_loop(i);
    });
}

std::vector<int> ThreadPool::allowed_cpus() {
  std::vector<int> cpus = thread_cpus();
  if (cpus.empty())
    for (unsigned c = 0; c < std::max(1u, std::thread::hardware_concurrency()); ++c)
      cpus.push_back(static_cast<int>(c));
  return cpus;
}

bool ThreadPool::pin_current_thread(int cpu) {
  return set_current_thread_cpus({cpu});
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  {
    // Taking the mutex orders this notify after any sleeper's re-check of its condition.
    std::lock_guard lock(mutex_);
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(int thread_idx) noexcept {
  for (;;) {
    uint64_t word = claim_.load(std::memory_order_acquire);
    int64_t chunk = 0, num_chunks = 0;
    for (;;) {
      num_chunks = static_cast<int64_t>((word >> 16) & 0xffff);
      chunk = static_cast<int64_t>(word & 0xffff);
      if (chunk >= num_chunks) return;
      if (claim_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
        break;
    }
    // The job stays current until this chunk is counted done: its fields are stable.
    const auto* fn = job_.load(std::memory_order_relaxed);
    const int64_t n = job_n_.load(std::memory_order_relaxed);
    const int64_t grain = job_grain_.load(std::memory_order_relaxed);
    const int64_t num_grains = (n + grain - 1) / grain;
    const int64_t begin = std::min(n, num_grains * chunk / num_chunks * grain);
    const int64_t end = std::min(n, num_grains * (chunk + 1) / num_chunks * grain);
    if (begin < end) {
      try {
        (*fn)(begin, end, thread_idx);
      } catch (...) {
        std::lock_guard lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    // seq_cst: publishes the chunk's writes to the caller, and orders the sleeper check after.
    if (chunks_done_.fetch_add(1, std::memory_order_seq_cst) + 1 == num_chunks &&
        done_sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard lock(mutex_); }
      done_cv_.notify_all();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (num_threads_ == 1 || n <= grain) {
    fn(0, n, 0);
    return;
  }
  const int64_t num_grains = (n + grain - 1) / grain;
  const int64_t num_chunks = std::min<int64_t>(num_grains, kChunksPerThread * num_threads_);
  job_.store(&fn, std::memory_order_relaxed);
  job_n_.store(n, std::memory_order_relaxed);
  job_grain_.store(grain, std::memory_order_relaxed);
  chunks_done_.store(0, std::memory_order_relaxed);
  const uint64_t serial = (claim_.load(std::memory_order_relaxed) >> 32) + 1;
  claim_.store(serial << 32 | static_cast<uint64_t>(num_chunks) << 16, std::memory_order_release);
  // seq_cst (not just release) so that the sleeper check below cannot be ordered before it.
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (work_sleepers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard lock(mutex_); }
    work_cv_.notify_all();
  }
  run_chunks(0);
  wait_for_chunks(num_chunks);
  if (error_) {
    std::exception_ptr e = std::exchange(error_, nullptr);
    std::rethrow_exception(e);
  }
}

void ThreadPool::wait_for_chunks(int64_t num_chunks) {
  // seq_cst loads (plain moves on x86) pair with the sleeper counters' Dekker-style hand-shake.
  auto done = [&] { return chunks_done_.load(std::memory_order_seq_cst) == num_chunks; };
  if (spin_until(done)) return;
  std::unique_lock lock(mutex_);
  done_sleepers_.fetch_add(1, std::memory_order_seq_cst);
  done_cv_.wait(lock, done);
  done_sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

void ThreadPool::wait_for_job(uint64_t seen) {
  auto ready = [&] { return generation_.load(std::memory_order_seq_cst) != seen; };
  if (spin_until(ready)) return;
  std::unique_lock lock(mutex_);
  work_sleepers_.fetch_add(1, std::memory_order_seq_cst);
  work_cv_.wait(lock, ready);
  work_sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(int thread_idx) {
  uint64_t seen = 0;
  for (;;) {
    wait_for_job(seen);
    // The generation first, then stop_: the destructor sets stop_ before its last bump, so a
    // worker that sees that bump here also sees stop_. In the other order a worker could check
    // stop_ (false), then take the final generation as seen and wait on it forever.
    seen = generation_.load(std::memory_order_seq_cst);
    if (stop_.load(std::memory_order_seq_cst)) return;
    run_chunks(thread_idx);
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
