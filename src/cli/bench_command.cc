#include "cli/bench_command.h"

namespace pareto::cli {

std::vector<BenchCommandInfo>& bench_command_registry() {
  static std::vector<BenchCommandInfo> registry;
  return registry;
}

}  // namespace pareto::cli
