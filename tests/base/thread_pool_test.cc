#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "base/error.h"

namespace pareto {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 100, 1001}) {
      for (int64_t grain : {1, 4, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(
            n,
            [&](int64_t b, int64_t e, int) {
              for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
            },
            grain);
        for (auto& h : hits) ASSERT_EQ(h.load(), 1) << threads << " " << n << " " << grain;
      }
    }
  }
}

TEST(ThreadPool, UsesAllThreadsAndSplitsDeterministically) {
  ThreadPool pool(2);
  std::mutex mu;
  std::set<std::tuple<int64_t, int64_t, int>> first, second;
  for (auto* ranges : {&first, &second}) {
    pool.parallel_for(1000, [&](int64_t b, int64_t e, int t) {
      std::lock_guard lock(mu);
      ranges->emplace(b, e, t);
    });
  }
  // The chunks are fixed (kChunksPerThread per thread); which thread takes which is not.
  const auto ranges_of = [](const std::set<std::tuple<int64_t, int64_t, int>>& s) {
    std::set<std::pair<int64_t, int64_t>> r;
    for (const auto& [b, e, t] : s) {
      EXPECT_TRUE(t == 0 || t == 1) << t;
      r.emplace(b, e);
    }
    return r;
  };
  EXPECT_EQ(ranges_of(first), ranges_of(second));
  EXPECT_EQ(ranges_of(first).size(), static_cast<size_t>(2 * ThreadPool::kChunksPerThread));
}

TEST(ThreadPool, ManyShortLoops) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int iter = 0; iter < 20000; ++iter)
    pool.parallel_for(4, [&](int64_t b, int64_t e, int) { sum += e - b; });
  EXPECT_EQ(sum.load(), 80000);
}

TEST(ThreadPool, SplitDependsOnlyOnSizeGrainAndThreadCount) {
  // The documented split: grain-aligned contiguous chunks, C = min(G, kChunksPerThread * T),
  // chunk c covers grains [G*c/C, G*(c+1)/C).
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::pair<int64_t, int64_t>> ranges;
  const auto record = [&](int64_t b, int64_t e, int) {
    std::lock_guard lock(mu);
    ranges.emplace(b, e);
  };
  pool.parallel_for(10, record, 2);  // 5 grains, 5 chunks
  EXPECT_EQ(ranges,
            (std::set<std::pair<int64_t, int64_t>>{{0, 2}, {2, 4}, {4, 6}, {6, 8}, {8, 10}}));
  ranges.clear();
  pool.parallel_for(30, record, 1);  // 30 grains, 12 chunks
  std::set<std::pair<int64_t, int64_t>> want;
  for (int64_t c = 0; c < 12; ++c) want.emplace(30 * c / 12, 30 * (c + 1) / 12);
  EXPECT_EQ(ranges, want);
}

TEST(ThreadPool, ManyRapidLoopsOfVaryingSize) {
  ThreadPool pool(3);
  int64_t expected = 0;
  std::atomic<int64_t> sum{0};
  for (int iter = 0; iter < 5000; ++iter) {
    const int64_t n = 1 + iter % 17;
    expected += n * (n - 1) / 2;
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) sum += i;
    });
  }
  EXPECT_EQ(sum.load(), expected);
}

TEST(ThreadPool, WorksAfterWorkersFellAsleep) {
  // Pauses longer than the spin budget send the workers to their blocking wait; each loop
  // must wake them again (and the caller's own sleeping wait must be woken too).
  ThreadPool pool(2);
  for (int iter = 0; iter < 5; ++iter) {
    std::this_thread::sleep_for(std::chrono::microseconds(3 * ThreadPool::kSpinMicros));
    std::atomic<int> ran{0};
    pool.parallel_for(2, [&](int64_t, int64_t, int t) {
      // Thread 1 outlasts the caller's spin, so the caller blocks waiting for it.
      if (t == 1)
        std::this_thread::sleep_for(std::chrono::microseconds(2 * ThreadPool::kSpinMicros));
      ran++;
    });
    EXPECT_EQ(ran.load(), 2);
  }
}

TEST(ThreadPool, ShutdownWithSleepingOrSpinningWorkers) {
  for (int i = 0; i < 50; ++i) ThreadPool pool(4);  // destroyed while workers spin
  ThreadPool pool(4);
  std::this_thread::sleep_for(std::chrono::microseconds(5 * ThreadPool::kSpinMicros));
}  // destroyed while they sleep

TEST(ThreadPool, ShutdownJustAfterALoopNeverHangs) {
  // A worker that wakes for a loop the caller already finished alone, and reads the job
  // generation after the destructor's final bump but had checked for stop before it, must not
  // sleep forever on a generation nobody will change again (it did, about 1 run in 60 of the
  // packed-matmul test). Many short-lived pools, each destroyed right after a loop too small
  // to wait for its workers; a hang fails by the watchdog, not ctest's timeout.
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 300 && !finished.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!finished.load()) {
      std::fprintf(stderr, "ThreadPool destructor hung (a worker missed the stop)\n");
      std::abort();
    }
  });
  for (int i = 0; i < 3000; ++i) {
    ThreadPool pool(1 + i % 3 + 1);
    std::atomic<int> ran{0};
    pool.parallel_for(2 + i % 5,
                      [&](int64_t b, int64_t e, int) { ran += static_cast<int>(e - b); });
    EXPECT_EQ(ran.load(), 2 + i % 5);
  }
  finished.store(true);
  watchdog.join();
}

TEST(ThreadPool, ExceptionInAChunkReachesCaller) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(2,
                                 [&](int64_t b, int64_t, int) {
                                   ran++;
                                   if (b == 1) throw std::runtime_error("second chunk");
                                 }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 2);  // the other range still ran
  // The pool is still usable and the error does not leak into the next loop.
  std::atomic<int64_t> sum{0};
  pool.parallel_for(100, [&](int64_t b, int64_t e, int) { sum += e - b; });
  EXPECT_EQ(sum.load(), 100);
}

TEST(ThreadPool, ExceptionWaitsForTheOtherChunks) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(2,
                                 [&](int64_t b, int64_t, int) {
                                   if (b == 0) throw Error("first chunk");
                                   std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                   ran++;
                                 }),
               Error);
  EXPECT_EQ(ran.load(), 1);  // parallel_for returned only after the other chunk finished
}

TEST(ThreadPool, ExceptionInlineWithOneThread) {
  ThreadPool pool(1);
  EXPECT_THROW(pool.parallel_for(5, [](int64_t, int64_t, int) { throw Error("x"); }), Error);
}

TEST(ThreadPool, DefaultIsAtLeastOne) {
  EXPECT_GE(ThreadPool::default_num_threads(), 1);
}

TEST(ThreadPool, RejectsAbsurdThreadCounts) {
  EXPECT_THROW(ThreadPool(ThreadPool::kMaxThreads + 1), Error);
}

}  // namespace
}  // namespace pareto
