#include "base/thread_scheduling.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "base/cpu_list.h"

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

bool set_current_thread_cpus(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      spdlog::warn("cannot run a thread on CPU {}: no such CPU number", cpu);
      return false;
    }
    CPU_SET(cpu, &set);
  }
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0)
    spdlog::warn("could not keep a thread on CPU(s) {}: {}", format_cpu_list(cpus),
                 std::strerror(rc));
  return rc == 0;
}

std::vector<int> thread_cpus(int tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(tid, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
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
