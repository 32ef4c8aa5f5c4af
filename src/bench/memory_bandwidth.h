// STREAM-style memory bandwidth measurement (`pareto bench membw`, and the roofline of
// `pareto bench model --roofline`): three arrays of doubles, each much larger than the last-level
// cache, swept in parallel over a ThreadPool by three kernels:
//   read  : s += a[i]                  1 array  x 8 bytes per element
//   copy  : a[i] = b[i]                2 arrays x 8 bytes per element
//   triad : a[i] = b[i] + q * c[i]     3 arrays x 8 bytes per element
// Bytes are counted as STREAM does: every array read or written once, with no extra read for
// write-allocate (so copy and triad understate the traffic of a write-allocate cache by 1/2 and
// 1/3 of the written array). LLM decode streams weights with pure reads, so `read` is the
// roofline for decode weight bandwidth.
//
// Each thread sweeps the same index range in every kernel and touched its pages first (at
// initialization), so on NUMA machines every thread reads local memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/thread_pool.h"

namespace pareto::bench {

struct MemoryBandwidthOptions {
  size_t array_bytes = size_t{256} << 20;  // per array; three are allocated
  int reps = 5;                            // timed sweeps per kernel (after one warm-up sweep)
  bool read_only = false;  // only the read kernel (one array): the quick roofline measurement
};

struct BandwidthStat {
  double best_gb_s = 0;         // fastest rep, 1e9 bytes per second
  double median_gb_s = 0;       // median rep
  std::vector<double> seconds;  // every rep, in run order
};

struct MemoryBandwidthResult {
  size_t array_bytes = 0;  // rounded down to whole doubles
  int threads = 0;
  int reps = 0;
  BandwidthStat read, copy, triad;  // copy and triad are empty (zeros) when read_only
};

// Allocates 3 x array_bytes (1 x when read_only), runs each kernel reps times (plus one untimed
// warm-up sweep) and reports the rates. Throws pareto::Error for array_bytes under 4 KiB or reps
// < 1.
MemoryBandwidthResult measure_memory_bandwidth(const MemoryBandwidthOptions& options,
                                               ThreadPool& pool);

}  // namespace pareto::bench
