// Errors. Pareto reports failures as pareto::Error exceptions carrying a human-readable message
// that names the thing that failed (file, tensor, key) and why; callers at the edge (CLI, server)
// catch them and turn them into exit codes or HTTP errors.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace pareto {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws pareto::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace pareto
