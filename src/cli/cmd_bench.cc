// `pareto bench`: the parent of the benchmark sub-commands in cli/bench_command.h's registry.
#include <algorithm>
#include <map>
#include <memory>

#include "base/error.h"
#include "cli/bench_command.h"
#include "cli/command.h"

namespace pareto::cli {
namespace {

const RegisterCommand reg{
    "bench", "Benchmarks: model (prefill/decode speed), membw (memory bandwidth), ...",
    [](CLI::App& sub) {
      sub.require_subcommand(1);
      auto& registry = bench_command_registry();
      std::sort(registry.begin(), registry.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      // Each sub-command's runner, keyed by its CLI11 app; exactly one is parsed.
      auto runners = std::make_shared<std::map<CLI::App*, std::function<int()>>>();
      for (auto& cmd : registry) {
        CLI::App* bench_sub = sub.add_subcommand(cmd.name, cmd.description);
        (*runners)[bench_sub] = cmd.setup(*bench_sub);
      }
      return [runners]() -> int {
        for (auto& [app, run] : *runners)
          if (app->parsed()) return run();
        fail("bench: no benchmark given");
      };
    }};

}  // namespace
}  // namespace pareto::cli
