// Subcommands of the `pareto` binary register themselves here, one file per command
// (cmd_generate.cc, cmd_inspect.cc, ...), so adding a command touches no shared file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace pareto::cli {

// Sets up the subcommand's options on `sub` and returns the function that runs it
// (returning the process exit code). Options must bind to state that outlives the call,
// e.g. a std::shared_ptr captured by the returned function.
using CommandSetup = std::function<std::function<int()>(CLI::App& sub)>;

struct CommandInfo {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandInfo>& command_registry();

struct RegisterCommand {
  RegisterCommand(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace pareto::cli
