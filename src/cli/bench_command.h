// Sub-commands of `pareto bench` (`bench model`, `bench membw`, `bench offline`, ...) register
// themselves here, one file per sub-command, the way top-level commands use cli/command.h: a new
// benchmark touches no shared file. cmd_bench.cc turns the registry into CLI11 subcommands.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace pareto::cli {

// name: the word after `pareto bench`; setup: as for top-level commands (CommandSetup adds the
// options to the CLI11 subcommand and returns the function that runs it).
struct BenchCommandInfo {
  std::string name;
  std::string description;
  CommandSetup setup;
};

// Function-local static, so registrations from other translation units' static initializers
// are safe whatever their order.
std::vector<BenchCommandInfo>& bench_command_registry();

struct RegisterBenchCommand {
  RegisterBenchCommand(std::string name, std::string description, CommandSetup setup) {
    bench_command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace pareto::cli
