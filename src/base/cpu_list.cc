#include "base/cpu_list.h"

#include <algorithm>
#include <charconv>

#include "base/error.h"

namespace pareto {
namespace {

// glibc's cpu_set_t holds CPUs 0..1023.
constexpr int kMaxCpu = 1023;

int parse_cpu(std::string_view part, std::string_view whole) {
  int cpu = -1;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), cpu);
  if (part.empty() || ec != std::errc() || end != part.data() + part.size())
    fail("bad CPU list '{}': '{}' is not a CPU number", whole, part);
  if (cpu > kMaxCpu) fail("bad CPU list '{}': CPU {} is above {}", whole, cpu, kMaxCpu);
  return cpu;
}

}  // namespace

std::vector<int> parse_cpu_list(std::string_view text) {
  if (text.empty()) fail("empty CPU list");
  std::vector<int> cpus;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      cpus.push_back(parse_cpu(item, text));
    } else {
      const int first = parse_cpu(item.substr(0, dash), text);
      const int last = parse_cpu(item.substr(dash + 1), text);
      if (last < first) fail("bad CPU list '{}': the range {} runs backwards", text, item);
      for (int c = first; c <= last; ++c) cpus.push_back(c);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_list(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) {
      out += j == i + 1 ? ',' : '-';
      out += std::to_string(cpus[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace pareto
