// CPU lists in the Linux "cpulist" format that taskset -c, cgroups' cpuset.cpus and
// /sys/devices/system/cpu/online use: comma-separated CPU numbers and inclusive ranges, e.g.
// "0-3,6,8-9".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pareto {

// The CPUs the list names, ascending and without duplicates. Throws pareto::Error naming the
// bad part (empty list, not a number, a range that runs backwards, a CPU number >= 1024).
std::vector<int> parse_cpu_list(std::string_view text);

// The shortest list for these CPUs ("0-3,6"); "" for none.
std::string format_cpu_list(std::vector<int> cpus);

}  // namespace pareto
