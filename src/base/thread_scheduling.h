// The Linux scheduling policy of the calling thread.
//
// On a machine whose cores the engine's threads fill, a thread that wakes up briefly (the
// server's HTTP I/O and API worker, a load generator on the same host) preempts an engine
// thread in the middle of a step under the default policy, and the step's barriers wait for the
// preempted thread: with 32 streams the I/O threads woke ~15 times a step and preempted the
// pool's worker as often, while they used ~2% of one core.
// SCHED_BATCH keeps such a thread's fair share of the CPU but drops its wake-up preemption: it
// runs when a core goes idle or at the next scheduler tick (at most a few ms later), doing all
// the work queued since. No privilege is needed to enter or leave it.
//
// And the CPUs a thread may run on: a server on a machine with cores to spare keeps its HTTP
// threads off the engine's cores (pareto serve --io-cpus).
#pragma once

#include <vector>

namespace pareto {

// Puts the calling thread under SCHED_BATCH (threads it creates later inherit it). Returns
// false when the OS refuses or is not Linux; the thread then keeps its policy.
bool set_current_thread_batch_scheduling();

// True when the calling thread runs under SCHED_BATCH.
bool current_thread_is_batch_scheduled();

// Restricts the calling thread to these CPUs (threads it creates later inherit them). Returns
// false, with a warning, when the OS refuses (a CPU outside the process's cpuset, say).
bool set_current_thread_cpus(const std::vector<int>& cpus);

// The CPUs the thread with Linux thread id `tid` may run on, ascending (0: the calling thread);
// empty when it cannot be read (a thread that has exited).
std::vector<int> thread_cpus(int tid = 0);

// SCHED_BATCH for the calling thread while it lives, then back to the policy it had.
class BatchSchedulingScope {
 public:
  BatchSchedulingScope();
  ~BatchSchedulingScope();
  BatchSchedulingScope(const BatchSchedulingScope&) = delete;
  BatchSchedulingScope& operator=(const BatchSchedulingScope&) = delete;

 private:
  int previous_policy_ = -1;  // -1: nothing to restore
};

}  // namespace pareto
