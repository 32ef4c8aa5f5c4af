#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

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
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.size(), 2u);
}

TEST(ThreadPool, ManyShortLoops) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int iter = 0; iter < 20000; ++iter)
    pool.parallel_for(4, [&](int64_t b, int64_t e, int) { sum += e - b; });
  EXPECT_EQ(sum.load(), 80000);
}

TEST(ThreadPool, DefaultIsAtLeastOne) {
  EXPECT_GE(ThreadPool::default_num_threads(), 1);
}

TEST(ThreadPool, RejectsAbsurdThreadCounts) {
  EXPECT_THROW(ThreadPool(ThreadPool::kMaxThreads + 1), Error);
}

}  // namespace
}  // namespace pareto
