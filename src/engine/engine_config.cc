#include "engine/engine_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <string>

#include "base/error.h"

namespace pareto {
namespace {

int64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t value = 0;
  std::string unit;
  while (in >> key >> value >> unit)
    if (key == "MemAvailable:") return value * 1024;
  return int64_t{4} << 30;  // unknown: assume 4 GiB
}

}  // namespace

int64_t default_kv_cache_bytes(int64_t weight_bytes, int64_t max_useful_bytes, int64_t min_bytes) {
  const int64_t spare = std::max<int64_t>(0, mem_available_bytes() - weight_bytes);
  const auto share = static_cast<int64_t>(static_cast<double>(spare) * 0.4);
  return std::max(min_bytes, std::min(share, max_useful_bytes));
}

int64_t parse_byte_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) fail("'{}' is not a size (expected e.g. 2GiB, 512MiB, 1000000)", text);
  double number = 0;
  try {
    number = std::stod(text.substr(0, i));
  } catch (...) {
    fail("'{}' is not a size (expected e.g. 2GiB, 512MiB, 1000000)", text);
  }
  std::string unit;
  for (char c : text.substr(i))
    if (!std::isspace(static_cast<unsigned char>(c)))
      unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kib")
    mult = 1024.0;
  else if (unit == "m" || unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "kb")
    mult = 1e3;
  else if (unit == "mb")
    mult = 1e6;
  else if (unit == "gb")
    mult = 1e9;
  else
    fail("'{}': unknown size unit '{}' (use B, KiB, MiB, GiB, KB, MB or GB)", text, unit);
  const double bytes = number * mult;
  if (!std::isfinite(bytes) || bytes > 9e18) fail("'{}' is too large", text);
  return static_cast<int64_t>(bytes);
}

}  // namespace pareto
