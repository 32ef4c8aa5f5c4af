#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace pareto {

void init_logging(const std::string& level) {
  auto logger = spdlog::get("pareto");
  if (!logger) {
    logger = spdlog::stderr_color_mt("pareto");
    logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace pareto
