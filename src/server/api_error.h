// Errors the OpenAI-compatible API returns, in OpenAI's shape:
// {"error": {"message": ..., "type": ..., "param": ..., "code": ...}} with an HTTP status.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace pareto::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type,
           std::optional<std::string> param = std::nullopt,
           std::optional<std::string> code = std::nullopt)
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& param() const { return param_; }
  const std::optional<std::string>& code() const { return code_; }
  nlohmann::json to_json() const;

 private:
  int status_;
  std::string type_;
  std::optional<std::string> param_, code_;
};

// 400 invalid_request_error naming the offending parameter.
ApiError invalid_request(std::string message, std::optional<std::string> param = std::nullopt,
                         std::optional<std::string> code = std::nullopt);

}  // namespace pareto::server
