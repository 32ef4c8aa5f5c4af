// Logging goes through spdlog; this header only fixes the project-wide logger setup.
#pragma once

#include <spdlog/spdlog.h>

namespace pareto {

// Sends logs to stderr (stdout is reserved for generated text and command output).
// level: "trace", "debug", "info", "warn", "error", "off".
void init_logging(const std::string& level = "info");

}  // namespace pareto
