#include "base/thread_scheduling.h"

#include <gtest/gtest.h>

#include <thread>

namespace pareto {
namespace {

TEST(ThreadScheduling, BatchPolicyIsSetAndInherited) {
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

}  // namespace
}  // namespace pareto
