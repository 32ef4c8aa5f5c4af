// Parses and validates the JSON bodies of POST /v1/completions and /v1/chat/completions into
// engine requests. Prompts are tokenized here (chat messages rendered through the chat template
// first) so the context-length check can answer 400 before anything is queued.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/request.h"
#include "server/api_error.h"

namespace pareto {
class Tokenizer;
class ChatTemplate;
}  // namespace pareto

namespace pareto::server {

enum class ApiKind { kCompletion, kChat };

struct ApiRequest {
  ApiKind kind = ApiKind::kCompletion;
  std::string model;  // as the client named it
  // One engine request per prompt; each asks for n completions. Choice index of completion i of
  // prompt p is p * n + i (OpenAI's order).
  std::vector<GenerationRequest> prompts;
  std::vector<std::string> echo_texts;  // completions with echo: each prompt's text
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;
  // Completions: logprobs = number of top alternatives (0 = only the chosen token), -1 = off.
  // Chat: logprobs true -> top_logprobs alternatives; false -> -1.
  int32_t logprobs = -1;
};

struct RequestParserContext {
  const Tokenizer* tokenizer = nullptr;
  const ChatTemplate* chat_template = nullptr;
  std::string bos_token, eos_token;             // the template's bos_token / eos_token variables
  std::vector<std::string> served_model_names;  // "model" must be one of these
  int64_t max_model_len = 0;
  int32_t max_n = 128;
  int32_t max_logprobs = 20;
};

// Bodies are ordered_json: the chat template prints messages and tools with tojson, which keeps
// the client's key order (json.dumps without sort_keys).

// Throws ApiError (400) naming the parameter on malformed bodies and out-of-range values.
ApiRequest parse_completion_request(const nlohmann::ordered_json& body,
                                    const RequestParserContext& ctx);
ApiRequest parse_chat_request(const nlohmann::ordered_json& body, const RequestParserContext& ctx);

// Renders chat messages to the prompt text. Throws ApiError.
std::string render_chat_prompt(const nlohmann::ordered_json& body, const RequestParserContext& ctx);
// The rendered chat prompt's token ids, as chat completions and /tokenize use them.
std::vector<int32_t> tokenize_chat_prompt(const nlohmann::ordered_json& body,
                                          const RequestParserContext& ctx);

// Parses a request body (in linear time, keys in the client's order); throws ApiError 400 when
// it is not a JSON object.
nlohmann::ordered_json parse_json_body(const std::string& body);

}  // namespace pareto::server
