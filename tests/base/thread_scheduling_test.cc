#include "base/thread_scheduling.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace pareto {
namespace {

// Both tests start from the default policy; a test run started under `chrt -b` has nothing to
// show.
TEST(ThreadScheduling, BatchPolicyIsSetAndInherited) {
  if (current_thread_is_batch_scheduled()) GTEST_SKIP() << "already under SCHED_BATCH";
  std::thread([] {
    ASSERT_FALSE(current_thread_is_batch_scheduled());
    ASSERT_TRUE(set_current_thread_batch_scheduling());
    EXPECT_TRUE(current_thread_is_batch_scheduled());
    bool child_batch = false;
    std::thread([&] { child_batch = current_thread_is_batch_scheduled(); }).join();
    EXPECT_TRUE(child_batch);
  }).join();
  EXPECT_FALSE(current_thread_is_batch_scheduled());  // other threads keep theirs
}

TEST(ThreadScheduling, ScopeRestoresThePolicy) {
  if (current_thread_is_batch_scheduled()) GTEST_SKIP() << "already under SCHED_BATCH";
  std::thread([] {
    ASSERT_FALSE(current_thread_is_batch_scheduled());
    {
      const BatchSchedulingScope scope;
      EXPECT_TRUE(current_thread_is_batch_scheduled());
      {
        const BatchSchedulingScope nested;  // already batch: nothing to undo
        EXPECT_TRUE(current_thread_is_batch_scheduled());
      }
      EXPECT_TRUE(current_thread_is_batch_scheduled());
    }
    EXPECT_FALSE(current_thread_is_batch_scheduled());
  }).join();
}

TEST(ThreadScheduling, CpusAreSetPerThreadAndInherited) {
  const std::vector<int> allowed = thread_cpus();
  ASSERT_FALSE(allowed.empty());
  const std::vector<int> last{allowed.back()};
  std::thread([&] {
    ASSERT_TRUE(set_current_thread_cpus(last));
    EXPECT_EQ(thread_cpus(), last);
    std::vector<int> child;
    std::thread([&] { child = thread_cpus(); }).join();
    EXPECT_EQ(child, last);
    EXPECT_FALSE(set_current_thread_cpus({-1}));
    EXPECT_EQ(thread_cpus(), last);  // a refused call changes nothing
  }).join();
  EXPECT_EQ(thread_cpus(), allowed);  // other threads keep theirs
}

}  // namespace
}  // namespace pareto
