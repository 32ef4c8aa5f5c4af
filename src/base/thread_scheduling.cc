#include "base/thread_scheduling.h"

#include <pthread.h>
#include <sched.h>

namespace pareto {
namespace {

// SCHED_BATCH and SCHED_OTHER take only priority 0.
bool set_policy(int policy) {
  sched_param param{};
  param.sched_priority = 0;
  return pthread_setschedparam(pthread_self(), policy, &param) == 0;
}

int current_policy() {
  int policy = -1;
  sched_param param{};
  if (pthread_getschedparam(pthread_self(), &policy, &param) != 0) return -1;
  return policy;
}

}  // namespace

bool set_current_thread_batch_scheduling() {
#ifdef SCHED_BATCH
  return set_policy(SCHED_BATCH);
#else
  return false;
#endif
}

bool current_thread_is_batch_scheduled() {
#ifdef SCHED_BATCH
  return current_policy() == SCHED_BATCH;
#else
  return false;
#endif
}

BatchSchedulingScope::BatchSchedulingScope() {
  const int before = current_policy();
  // Only the two policies anyone may switch between; a real-time thread stays as it is.
  if (before != SCHED_OTHER) return;
  if (set_current_thread_batch_scheduling()) previous_policy_ = before;
}

BatchSchedulingScope::~BatchSchedulingScope() {
  if (previous_policy_ >= 0) set_policy(previous_policy_);
}

}  // namespace pareto
